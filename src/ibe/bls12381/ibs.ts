// Identity-based signatures for deferred delivery v2 (DESIGN §3 "Deferred delivery (OPEN-14)"):
// Cha–Cheon on BLS12-381 with the Option A groups of bls12381-bf (P, P_pub in G1; keys and
// signatures in G2), on the engine interface, so every backend gives the same bytes.
//
//   signing identity  ID_sig = URI ‖ 0x00 ‖ period-start ‖ 0x00 ‖ "sign"  (identity.ts's octets ‖ 0x00 ‖ "sign")
//   Q_sig = hash_to_G2(ID_sig, SIG_DST)      d = [s]Q_sig   (issued by the KMS, checked e(P, d) = e(P_pub, Q_sig))
//   sign:   r ← [1, r-1] (OS CSPRNG), U = [r]Q_sig, h = HashToRange(m ‖ U, r) (RFC 5091, SHA-256),
//           V = [r + h mod r]d; signature = U ‖ V (96 + 96 octets, compressed G2)
//   verify: h as above; e(P, V) = e(P_pub, U + [h]Q_sig), computed as the two-pairing product
//           e(-P, V) · e(P_pub, U + [h]Q_sig) = 1 with a single final exponentiation.
// U and V must each be a canonical compressed G2 point in the subgroup, not the identity
// (parseSignature). An engine with the optional `ibsVerify` accelerator (native) runs the
// verification as one call, same verdicts. Secrets: r, r + h and d go only into the engine's constant-time G2
// multiplication (native; see docs/native.md); r + h mod r is formed on fixed-length octets
// without branches on its value, and every copy is zeroed.
import { randomScalar, R, bigintToBytes } from '../../engine/scalar.js';
import { G2_COMPRESSED, type Bytes, type Engine } from '../../engine/types.js';
import { gtOneEncoding } from '../../engine/encoding.js';
import { IbeError } from '../errors.js';
import { hashToRange } from '../hashes.js';
import { checkIdentity, H } from './bf.js';

/** RFC 9380 DST of Q_sig (DESIGN §3). */
export const SIG_DST = 'MIKEY-IBAKE-V02-SIG-with-BLS12381G2_XMD:SHA-256_SSWU_RO_';
/** A signature: U ‖ V, compressed G2 each. */
export const SIGNATURE_BYTES = 2 * G2_COMPRESSED;
/** Longest message signed or verified (a prekey bundle entry is a few hundred octets). */
export const MAX_SIGNED_MESSAGE = 1 << 20;

const SIGN_SUFFIX = Uint8Array.of(0x00, 0x73, 0x69, 0x67, 0x6e); // 0x00 ‖ "sign"
const R_BYTES = bigintToBytes(R, 32);
const GT_ONE = gtOneEncoding();

/** The signing identity of an identity's octets (identity.ts): id ‖ 0x00 ‖ "sign". */
export function signingIdentity(id: Uint8Array): Uint8Array {
  checkIdentity(id);
  const out = new Uint8Array(id.length + SIGN_SUFFIX.length);
  out.set(id, 0);
  out.set(SIGN_SUFFIX, id.length);
  return out;
}

/** Q_sig of an identity's octets (the signing identity is derived here). */
export function hashSigningIdentity(engine: Engine, id: Uint8Array): Promise<Bytes> {
  return engine.hashToG2(signingIdentity(id), SIG_DST);
}

/** KMS: d = [s]Q_sig for the identity's octets (96-octet compressed G2). */
export async function extractSigningKey(engine: Engine, s: Uint8Array, id: Uint8Array): Promise<Bytes> {
  return engine.g2Mul(await hashSigningIdentity(engine, id), s);
}

/** -P, the negated G1 generator, per engine (computed once as [r-1]P). */
const negGenerators = new WeakMap<Engine, Promise<Bytes>>();
function negP(engine: Engine): Promise<Bytes> {
  let p = negGenerators.get(engine);
  if (!p) {
    p = engine.g1Mul(engine.g1Generator(), bigintToBytes(R - 1n, 32));
    negGenerators.set(engine, p);
  }
  return p;
}

/** e(P, a) = e(P_pub, b) as one two-pairing product; rejected points propagate (EngineError). */
async function pairingEquation(engine: Engine, Ppub: Bytes, a: Bytes, b: Bytes): Promise<boolean> {
  const out = await engine.multiPairing([
    [await negP(engine), a],
    [Ppub, b],
  ]);
  return Buffer.compare(Buffer.from(out), Buffer.from(GT_ONE)) === 0;
}

/** Strict G2 check of a key or signature half: canonical compressed, in the subgroup, not 0. */
async function checkG2(engine: Engine, point: Bytes, what: string, code: 'IBE_BAD_KEY' | 'IBE_BAD_SIGNATURE'): Promise<Bytes> {
  if (!(point instanceof Uint8Array) || point.length !== G2_COMPRESSED) {
    throw new IbeError(code, `${what} must be a ${G2_COMPRESSED}-octet compressed G2 point`);
  }
  try {
    await engine.g2Encode(point);
  } catch (e) {
    throw new IbeError(code, `${what} is not a valid G2 point (${(e as { reason?: string }).reason ?? 'rejected'})`);
  }
  return point;
}

/**
 * Client check of an issued signing key: d is a valid G2 point and e(P, d) = e(P_pub, Q_sig).
 * Malformed d: IBE_BAD_KEY; a well-formed key of another identity or master: false.
 */
export async function verifySigningKey(engine: Engine, Ppub: Bytes, id: Uint8Array, d: Bytes, qSig?: Bytes): Promise<boolean> {
  await checkG2(engine, d, 'signing key', 'IBE_BAD_KEY');
  const q = qSig ?? (await hashSigningIdentity(engine, id));
  return pairingEquation(engine, Ppub, d, q);
}

/** The two halves of a signature, each strictly validated (IBE_BAD_SIGNATURE otherwise). */
export async function parseSignature(engine: Engine, sig: Bytes): Promise<{ u: Bytes; v: Bytes }> {
  if (!(sig instanceof Uint8Array) || sig.length !== SIGNATURE_BYTES) {
    throw new IbeError('IBE_BAD_SIGNATURE', `signature must be ${SIGNATURE_BYTES} octets (U ‖ V)`);
  }
  const u = await checkG2(engine, sig.subarray(0, G2_COMPRESSED), 'signature U', 'IBE_BAD_SIGNATURE');
  const v = await checkG2(engine, sig.subarray(G2_COMPRESSED), 'signature V', 'IBE_BAD_SIGNATURE');
  return { u, v };
}

function checkMessage(m: Uint8Array): void {
  if (!(m instanceof Uint8Array) || m.length > MAX_SIGNED_MESSAGE) {
    throw new IbeError('IBE_BAD_INPUT', `signed message must be a Uint8Array of at most ${MAX_SIGNED_MESSAGE} octets`);
  }
}

/** h = HashToRange(m ‖ U, r) with SHA-256, as a 32-octet scalar; null when h = 0. */
export function signatureHash(m: Uint8Array, u: Bytes): Uint8Array | null {
  const h = hashToRange(Buffer.concat([m, u]), R, H);
  return h === 0n ? null : bigintToBytes(h, 32);
}

/**
 * (a + b) mod r for a, b in [0, r): 32-octet big-endian, computed on octets with a fixed
 * sequence of operations (the sum, a trial subtraction of r, a masked select); the result is
 * 0 only when a + b = r. Both inputs stay untouched; intermediates are zeroed.
 */
export function addModR(a: Uint8Array, b: Uint8Array): Uint8Array {
  const sum = new Uint8Array(33);
  let carry = 0;
  for (let i = 31; i >= 0; i--) {
    const t = a[i]! + b[i]! + carry;
    sum[i + 1] = t & 0xff;
    carry = t >>> 8;
  }
  sum[0] = carry;
  const diff = new Uint8Array(33);
  let borrow = 0;
  for (let i = 32; i >= 0; i--) {
    const t = sum[i]! - (i === 0 ? 0 : R_BYTES[i - 1]!) - borrow;
    diff[i] = t & 0xff;
    borrow = (t >>> 31) & 1;
  }
  // borrow = 1: sum < r, keep sum; else keep diff.
  const keepSum = -borrow & 0xff;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = (sum[i + 1]! & keepSum) | (diff[i + 1]! & ~keepSum & 0xff);
  sum.fill(0);
  diff.fill(0);
  return out;
}

const isZero = (b: Uint8Array): boolean => b.reduce((acc, x) => acc | x, 0) === 0;

/**
 * Signs m with the signing key d of `id` (identity.ts octets). qSig: the caller's cached
 * Q_sig of id (else hashed here). The signature is randomized (fresh r per call).
 */
export async function sign(engine: Engine, id: Uint8Array, d: Bytes, m: Uint8Array, qSig?: Bytes): Promise<Uint8Array> {
  checkMessage(m);
  await checkG2(engine, d, 'signing key', 'IBE_BAD_KEY');
  const q = qSig ?? (await hashSigningIdentity(engine, id));
  for (;;) {
    const r = randomScalar();
    try {
      const u = await engine.g2Mul(q, r);
      const h = signatureHash(m, u);
      if (!h) continue; // probability 2^-255: another r
      const k = addModR(r, h);
      try {
        if (isZero(k)) continue; // r + h = r (mod r): another r
        const v = await engine.g2Mul(d, k);
        const out = new Uint8Array(SIGNATURE_BYTES);
        out.set(u, 0);
        out.set(v, G2_COMPRESSED);
        return out;
      } finally {
        k.fill(0);
      }
    } finally {
      r.fill(0);
    }
  }
}

/**
 * Verifies a signature of m under `id` (identity.ts octets: URI and period) and the KMS's
 * P_pub. A malformed signature (length, U or V not a canonical compressed G2 point of the
 * subgroup, or the identity) throws IBE_BAD_SIGNATURE; a well-formed one that does not verify
 * returns false. qSig: the caller's cached Q_sig of id. U is validated by the engine's g2Add
 * and V by its multiPairing (each point decoded and checked once, on the hot path).
 */
export async function verify(engine: Engine, Ppub: Bytes, id: Uint8Array, m: Uint8Array, sig: Bytes, qSig?: Bytes): Promise<boolean> {
  checkMessage(m);
  checkIdentity(id);
  if (!(sig instanceof Uint8Array) || sig.length !== SIGNATURE_BYTES) {
    throw new IbeError('IBE_BAD_SIGNATURE', `signature must be ${SIGNATURE_BYTES} octets (U ‖ V)`);
  }
  const u = sig.slice(0, G2_COMPRESSED);
  const v = sig.slice(G2_COMPRESSED);
  const q = qSig ?? (await hashSigningIdentity(engine, id));
  const h = signatureHash(m, u);
  if (engine.ibsVerify) {
    // The fused path (native): one call, U and V decoded once; rejections as below.
    try {
      return await engine.ibsVerify(Ppub, q, h ?? bigintToBytes(1n, 32), u, v).then((ok) => ok && h !== null);
    } catch (e) {
      await checkG2(engine, u, 'signature U', 'IBE_BAD_SIGNATURE');
      await checkG2(engine, v, 'signature V', 'IBE_BAD_SIGNATURE');
      throw e;
    }
  }
  let w: Bytes;
  try {
    w = await engine.g2Add(u, await engine.g2Mul(q, h ?? bigintToBytes(1n, 32)));
  } catch (e) {
    await checkG2(engine, u, 'signature U', 'IBE_BAD_SIGNATURE');
    throw e; // q is ours: not reachable unless the engine fails
  }
  try {
    return h !== null && (await pairingEquation(engine, Ppub, v, w));
  } catch (e) {
    await checkG2(engine, v, 'signature V', 'IBE_BAD_SIGNATURE');
    if (isIdentityReject(e)) return false; // U + [h]Q_sig = 0: no valid signature has it
    throw e;
  }
}

function isIdentityReject(e: unknown): boolean {
  return (e as { reason?: unknown } | null)?.reason === 'identity';
}
