// The one suite-agnostic IBE API used by the protocol (src/ibake), the KMS and the CLI:
// setup / extract / encrypt / decrypt / verifyPrivateKey for both suites, and IbeContext, the
// cache-holding object for the hot path. Byte formats: ciphertext = DER BFCiphertextBlock;
// private key = 96-octet compressed G2 (bls12381-bf) or DER BFPrivateKeyBlock (rfc5091-bf);
// master secret = 32-octet scalar (bls12381-bf) or DER BFMasterSecret (rfc5091-bf).
// Identities are the octets of identity.ts (URI ‖ 0x00 ‖ period start).
import type { Engine } from '../engine/types.js';
import { bytesToBigint, R } from '../engine/scalar.js';
import { decodeMasterSecret, encodeMasterSecret } from './ciphertext.js';
import { resolveEngine } from './engine-choice.js';
import { IbeError } from './errors.js';
import * as bls from './bls12381/bf.js';
import { BlsContext, type BlsCacheOptions } from './bls12381/context.js';
import * as ibsBls from './bls12381/ibs.js';
import {
  decodeRfc5091Key,
  encodeRfc5091Key,
  extractPoint,
  verifyKeyPoint,
} from './rfc5091/bf.js';
import { mul, eqPoint } from './rfc5091/curve.js';
import { Rfc5091Context } from './rfc5091/context.js';
import { bfSetup, type Rfc5091Level } from './rfc5091/setup.js';
import { suiteParamsOf, type IbeSuiteName, type ParamsLike, type SuiteParams } from './types.js';

export { IbeError, type IbeErrorCode } from './errors.js';
export {
  identityFor,
  identityBytes,
  periodStart,
  parseDate,
  validateUri,
  DEFAULT_PERIOD,
  PERIOD_KINDS,
  type Identity,
  type PeriodKind,
} from './identity.js';
export {
  IBE_SUITES,
  DEFAULT_SUITE,
  isSuiteName,
  suiteParamsOf,
  type IbeSuiteName,
  type SuiteParams,
  type IbeParams,
  type ParamsLike,
  type Bls12381SuiteParams,
  type Rfc5091SuiteParams,
} from './types.js';
export { DST as BLS12381_DST } from './bls12381/bf.js';
export * as ibs from './bls12381/ibs.js';

export interface SetupOptions {
  /** rfc5091-bf security parameter n of RFC 5091 §5.1.2 (default 2048: |p| = 1024, |q| = 224, SHA-224) */
  rfc5091Level?: Rfc5091Level;
}

/** Fresh master secret and public suite parameters (CSPRNG). */
export async function setup(
  suite: IbeSuiteName,
  engine?: Engine,
  opts: SetupOptions = {},
): Promise<{ master: Uint8Array; params: SuiteParams }> {
  if (suite === 'bls12381-bf') {
    const { s, Ppub } = await bls.setupBls(await resolveEngine(engine));
    return { master: s, params: { suite, Ppub } };
  }
  if (suite === 'rfc5091-bf') {
    const { params, s } = bfSetup(opts.rfc5091Level ?? 2048);
    return { master: encodeMasterSecret(s), params: { suite, curve: params } };
  }
  throw new IbeError('IBE_BAD_PARAMS', `unknown IBE suite '${String(suite)}'`);
}

/** Identity octets (identity.ts output): a Uint8Array of 1..4096 octets. */
function checkId(id: Uint8Array): Uint8Array {
  if (!(id instanceof Uint8Array) || id.length < 1 || id.length > 4096) {
    throw new IbeError('IBE_BAD_IDENTITY', 'identity must be 1..4096 octets (see identity.ts)');
  }
  return id;
}

function rfcMaster(master: Uint8Array, q: bigint): bigint {
  const s = decodeMasterSecret(master);
  if (s < 2n || s >= q) throw new IbeError('IBE_BAD_MASTER', 'master secret out of range');
  return s;
}

function blsMaster(master: Uint8Array): Uint8Array {
  if (!(master instanceof Uint8Array) || master.length !== 32) throw new IbeError('IBE_BAD_MASTER', 'master secret must be 32 octets');
  const v = bytesToBigint(master);
  if (v === 0n || v >= R) throw new IbeError('IBE_BAD_MASTER', 'master secret out of range');
  return master;
}

/** Throws IBE_BAD_MASTER unless `master` is the secret behind `params` (P_pub = [s]P). */
export async function checkMaster(master: Uint8Array, params: ParamsLike, engine?: Engine): Promise<void> {
  const sp = suiteParamsOf(params);
  if (sp.suite === 'bls12381-bf') {
    if (!(await bls.checkMasterBls(await resolveEngine(engine), blsMaster(master), sp.Ppub))) {
      throw new IbeError('IBE_BAD_MASTER', 'master secret does not match the public parameters');
    }
    return;
  }
  const s = rfcMaster(master, sp.curve.q);
  if (!eqPoint(mul(sp.curve.P, s, sp.curve.p), sp.curve.Ppub)) {
    throw new IbeError('IBE_BAD_MASTER', 'master secret does not match the public parameters');
  }
}

/** KMS: the private key of identity `id`. */
export async function extract(master: Uint8Array, params: ParamsLike, id: Uint8Array, engine?: Engine): Promise<Uint8Array> {
  const sp = suiteParamsOf(params);
  checkId(id);
  if (sp.suite === 'bls12381-bf') return bls.extractBls(await resolveEngine(engine), blsMaster(master), id);
  return encodeRfc5091Key(extractPoint(sp.curve, rfcMaster(master, sp.curve.q), id));
}

/** Signing keys exist for bls12381-bf only (Cha–Cheon on its groups). */
function blsParamsForSigning(params: ParamsLike): Uint8Array {
  const sp = suiteParamsOf(params);
  if (sp.suite !== 'bls12381-bf') throw new IbeError('IBE_BAD_PARAMS', `identity-based signatures need the bls12381-bf suite, not ${sp.suite}`);
  return sp.Ppub;
}

/** KMS: the Cha–Cheon signing key d = [s]Q_sig of identity `id` (identity.ts octets; ibs.ts). */
export async function extractSigningKey(master: Uint8Array, params: ParamsLike, id: Uint8Array, engine?: Engine): Promise<Uint8Array> {
  blsParamsForSigning(params);
  checkId(id);
  return ibsBls.extractSigningKey(await resolveEngine(engine), blsMaster(master), id);
}

/** Client check of a signing key: e(P, d) == e(P_pub, Q_sig). Malformed keys throw IBE_BAD_KEY. */
export async function verifySigningKey(params: ParamsLike, id: Uint8Array, key: Uint8Array, engine?: Engine): Promise<boolean> {
  const Ppub = blsParamsForSigning(params);
  checkId(id);
  return ibsBls.verifySigningKey(await resolveEngine(engine), Ppub, id, key);
}

/** Signs `message` with the signing key of `id` (fresh randomness per call). */
export async function sign(params: ParamsLike, id: Uint8Array, key: Uint8Array, message: Uint8Array, engine?: Engine): Promise<Uint8Array> {
  blsParamsForSigning(params);
  checkId(id);
  return ibsBls.sign(await resolveEngine(engine), id, key, message);
}

/** Verifies a signature of `message` by `id`: false when it does not verify, IBE_BAD_SIGNATURE when malformed. */
export async function verify(params: ParamsLike, id: Uint8Array, message: Uint8Array, signature: Uint8Array, engine?: Engine): Promise<boolean> {
  const Ppub = blsParamsForSigning(params);
  checkId(id);
  return ibsBls.verify(await resolveEngine(engine), Ppub, id, message, signature);
}

/** One-shot encryption (no caches). Use IbeContext on the hot path. */
export async function encrypt(params: ParamsLike, id: Uint8Array, plaintext: Uint8Array, engine?: Engine): Promise<Uint8Array> {
  const sp = suiteParamsOf(params);
  checkId(id);
  if (sp.suite === 'bls12381-bf') return bls.encryptBls(await resolveEngine(engine), sp.Ppub, id, plaintext);
  const ctx = new Rfc5091Context(sp.curve, { recipients: 1 });
  return ctx.encryptTo(id, plaintext);
}

/** Client key check e(P, S_ID) == e(P_pub, Q_ID). Malformed keys throw IBE_BAD_KEY. */
export async function verifyPrivateKey(params: ParamsLike, id: Uint8Array, key: Uint8Array, engine?: Engine): Promise<boolean> {
  const sp = suiteParamsOf(params);
  checkId(id);
  if (sp.suite === 'bls12381-bf') return bls.verifyKeyBls(await resolveEngine(engine), sp.Ppub, id, key);
  return verifyKeyPoint(sp.curve, id, decodeRfc5091Key(sp.curve, key));
}

/**
 * One-shot decryption: checks that `key` is the key of `id` (else IBE_BAD_KEY), then decrypts;
 * any ciphertext problem is IBE_DECRYPT_FAILED.
 */
export async function decrypt(
  params: ParamsLike,
  id: Uint8Array,
  key: Uint8Array,
  ciphertext: Uint8Array,
  engine?: Engine,
): Promise<Uint8Array> {
  const ctx = await createContext(params, engine, { recipients: 1, keys: 1 });
  try {
    if (!(await ctx.verifyPrivateKey(id, key))) throw new IbeError('IBE_BAD_KEY', 'private key does not belong to this identity and period');
    return await ctx.decryptWith(key, ciphertext);
  } finally {
    ctx.close();
  }
}

/** Cache-holding IBE object for the hot path (one per KMS parameter set). */
export interface IbeContext {
  readonly suite: IbeSuiteName;
  /** Encrypt to an identity; the recipient's Q_ID / g_ID / tables are cached. */
  encryptTo(id: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /** Decrypt with our own private key (prepared lines cached). Failures: IBE_DECRYPT_FAILED. */
  decryptWith(privateKey: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array>;
  /** e(P, S_ID) == e(P_pub, Q_ID) using the caches. */
  verifyPrivateKey(id: Uint8Array, privateKey: Uint8Array): Promise<boolean>;
  /** Deterministic encryption with a caller-chosen rho — for tests only. */
  encryptToWithRho(id: Uint8Array, plaintext: Uint8Array, rho: Uint8Array): Promise<Uint8Array>;
  /** Frees every engine handle; the context is unusable afterwards. */
  close(): void;
}

export async function createContext(params: ParamsLike, engine?: Engine, opts: BlsCacheOptions = {}): Promise<IbeContext> {
  const sp = suiteParamsOf(params);
  if (sp.suite === 'bls12381-bf') {
    const c = new BlsContext(await resolveEngine(engine), sp.Ppub, opts);
    return {
      suite: sp.suite,
      encryptTo: (id, m) => c.encryptTo(id, m),
      decryptWith: (k, ct) => c.decryptWith(k, ct),
      verifyPrivateKey: (id, k) => c.verifyKey(id, k),
      encryptToWithRho: (id, m, rho) => c.encryptToWithRho(id, m, rho),
      close: () => c.close(),
    };
  }
  const c = new Rfc5091Context(sp.curve, { recipients: opts.recipients });
  return {
    suite: sp.suite,
    encryptTo: async (id, m) => c.encryptTo(checkId(id), m),
    decryptWith: async (k, ct) => c.decryptWith(k, ct),
    verifyPrivateKey: async (id, k) => c.verifyKey(checkId(id), k),
    encryptToWithRho: async (id, m, rho) => c.encryptToWithRho(checkId(id), m, rho),
    close: () => c.close(),
  };
}
