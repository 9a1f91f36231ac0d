// Suite bls12381-bf: RFC 5091 BF FullIdent mapped onto BLS12-381 (DESIGN §3, spec/ibe-bf.md §8
// Option A). P = the G1 generator, P_pub = [s]P and U = [l]P in G1; Q_ID = H(id) and
// S_ID = [s]Q_ID in G2 (RFC 9380 hash to G2 with the project DST); hashfcn = SHA-256;
// HashToRange mod r with l ≠ 0; Canonical = the 576-octet GT encoding; decryption recomputes l
// and checks U == [l]P (Fujisaki–Okamoto). This module is the uncached reference path; the
// cached hot path (context.ts) reuses these helpers and must give the same bytes. Where the
// engine has the optional fused core (Engine.bfCore, native only), context.ts hands it the
// steps between DER decoding and DER encoding; parseCiphertextBls / encodeCoreCiphertext below
// are those DER ends, shared with decryptOps / encryptWithRhoOps so both paths check the same.
import { freshBytes } from '../../util/byte-slab.js';
import { randomOctets } from '../../util/random.js';
import { bigintToBytes, bytesToBigint, R, randomScalar } from '../../engine/scalar.js';
import { G2_COMPRESSED, type BfCoreCiphertext, type Engine, type Scalar } from '../../engine/types.js';
import { decodeCiphertextOctets, encodeCiphertextOctets } from '../ciphertext-octets.js';
import { decryptFailed, IbeError } from '../errors.js';
import { hashBytes, hashFcn, hashToRange, xorInto } from '../hashes.js';

export const DST = 'MIKEY-IBAKE-V01-CS01-with-BLS12381G2_XMD:SHA-256_SSWU_RO_';
export const H = hashFcn('sha256');
export const MAX_PLAINTEXT = 1 << 20;
/** BLS12-381 base-field modulus. */
export const FP = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaabn;

/** l = HashToRange(rho ‖ t, r) as an engine scalar, or null when l = 0. */
export function deriveL(rho: Uint8Array, t: Uint8Array): Scalar | null {
  const input = Buffer.concat([rho, t]);
  const l = hashToRange(input, R, H);
  input.fill(0);
  return l === 0n ? null : bigintToBytes(l, 32);
}

/** m XOR HashBytes(|m|, rho), zeroing the keystream. */
function mask(m: Uint8Array, rho: Uint8Array): Uint8Array {
  const ks = hashBytes(m.length, rho, H);
  const out = xorInto(ks, m);
  ks.fill(0);
  return out;
}

export function checkPlaintext(m: Uint8Array): void {
  if (!(m instanceof Uint8Array)) throw new IbeError('IBE_BAD_INPUT', 'plaintext must be a Uint8Array');
  if (m.length < 1 || m.length > MAX_PLAINTEXT) throw new IbeError('IBE_BAD_INPUT', `plaintext must be 1..${MAX_PLAINTEXT} octets`);
}

export function checkIdentity(id: Uint8Array): void {
  if (!(id instanceof Uint8Array) || id.length < 1 || id.length > 4096) throw new IbeError('IBE_BAD_IDENTITY', 'identity must be 1..4096 octets');
}

/** Setup: s uniform in [1, r−1], P_pub = [s]P (compressed). */
export async function setupBls(engine: Engine): Promise<{ s: Scalar; Ppub: Uint8Array }> {
  const s = randomScalar();
  const Ppub = await engine.g1Mul(engine.g1Generator(), s);
  return { s, Ppub };
}

export function hashIdentity(engine: Engine, id: Uint8Array): Promise<Uint8Array> {
  checkIdentity(id);
  return engine.hashToG2(id, DST);
}

/** S_ID = [s]Q_ID (96-octet compressed G2). */
export async function extractBls(engine: Engine, s: Scalar, id: Uint8Array): Promise<Uint8Array> {
  return engine.g2Mul(await hashIdentity(engine, id), s);
}

/** Validates a private key (96/192-octet G2) and returns its compressed form; IBE_BAD_KEY otherwise. */
export async function checkPrivateKey(engine: Engine, key: Uint8Array): Promise<Uint8Array> {
  if (!(key instanceof Uint8Array) || key.length !== G2_COMPRESSED) throw new IbeError('IBE_BAD_KEY', `private key must be ${G2_COMPRESSED} octets`);
  try {
    return await engine.g2Encode(key, 'compressed');
  } catch (e) {
    throw new IbeError('IBE_BAD_KEY', `private key is not a valid G2 element (${(e as Error).message})`);
  }
}

/** Ingredients the encryption needs; the context supplies cached/table versions. */
export interface EncryptOps {
  /** U = [l]P in the 96-octet uncompressed form (its x and y go into the DER FpPoint) */
  mulPUncompressed(l: Scalar): Promise<Uint8Array>;
  /** g_ID^l */
  powG(l: Scalar): Promise<Uint8Array>;
}

/** BFencrypt steps 3–13 with a caller-chosen rho (32 octets). Returns DER BFCiphertextBlock. */
export async function encryptWithRhoOps(ops: EncryptOps, m: Uint8Array, rho: Uint8Array): Promise<Uint8Array> {
  checkEncryptInputs(m, rho);
  const t = H.hash(m);
  const l = deriveL(rho, t);
  if (l === null) throw lZero();
  try {
    // Both engine calls are issued at once, so a caller that does synchronous work right after
    // starting an encryption (the protocol computes K_SESSION meanwhile) overlaps with both.
    const [Uu, thetaL] = await Promise.all([ops.mulPUncompressed(l), ops.powG(l)]);
    const w = H.hash(thetaL);
    thetaL.fill(0);
    const V = xorInto(w, rho);
    w.fill(0);
    const W = mask(m, rho);
    return encodeCoreCiphertext({ u: Uu, v: V, w: W });
  } finally {
    l.fill(0);
  }
}

/** The error an encryption raises when l = 0 for its rho (encryptOps/withFreshRho retry on it). */
export function lZero(): IbeError {
  return new IbeError('IBE_BAD_INPUT', 'l = 0; choose another rho');
}

/** Checks an encryption's inputs the way encryptWithRhoOps does (plaintext, then rho). */
export function checkEncryptInputs(m: Uint8Array, rho: Uint8Array): void {
  checkPlaintext(m);
  if (!(rho instanceof Uint8Array) || rho.length !== H.len) throw new IbeError('IBE_BAD_INPUT', 'rho must be 32 octets');
}

/** DER BFCiphertextBlock from U (96-octet uncompressed), V and W. */
export function encodeCoreCiphertext(c: BfCoreCiphertext): Uint8Array {
  return encodeCiphertextOctets(c.u.subarray(0, 48), c.u.subarray(48, 96), c.v, c.w);
}

/** BFencrypt with a fresh random rho, again while l = 0 (probability about 2^-255). */
export async function withFreshRho(m: Uint8Array, encrypt: (rho: Uint8Array) => Promise<Uint8Array>): Promise<Uint8Array> {
  checkPlaintext(m);
  for (;;) {
    const rho = randomOctets(H.len);
    try {
      return await encrypt(rho);
    } catch (e) {
      if (!(e instanceof IbeError && e.message.startsWith('l = 0'))) throw e;
    } finally {
      rho.fill(0);
    }
  }
}

export async function encryptOps(ops: EncryptOps, m: Uint8Array): Promise<Uint8Array> {
  return withFreshRho(m, (rho) => encryptWithRhoOps(ops, m, rho));
}

/** ZCash compressed G1 encoding of an affine point (x, y < p): flags C=1, S = y > (p-1)/2. */
export function compressedG1(x: bigint, y: bigint): Uint8Array {
  const out = bigintToBytes(x, 48);
  out[0] = out[0]! | 0x80 | (y > (FP - 1n) / 2n ? 0x20 : 0);
  return out;
}

export interface DecryptOps {
  /** e(U, S_ID); U in either form, validated by the engine (rejections become decryptFailed) */
  pair(u: Uint8Array): Promise<Uint8Array>;
  mulP(l: Scalar): Promise<Uint8Array>;
}

/** A DER BFCiphertextBlock after the checks JavaScript does before any engine work. */
export interface ParsedCiphertext {
  /** U as the 96-octet uncompressed encoding x ‖ y (x, y < p; not yet validated as a G1 element) */
  u: Uint8Array;
  v: Uint8Array;
  w: Uint8Array;
}

const FP_OCTETS = bigintToBytes(FP, 48);

/** An unsigned big-endian value (minimal octets) as 48 octets if it is < p, else undefined. */
function fpOctets(be: Uint8Array): Uint8Array | undefined {
  if (be.length > 48) return undefined;
  if (be.length === 48 && Buffer.compare(be, FP_OCTETS) >= 0) return undefined;
  const out = new Uint8Array(48);
  out.set(be, 48 - be.length);
  return out;
}

/** Strict DER decoding plus the length and range checks; every failure is IBE_DECRYPT_FAILED. */
export function parseCiphertextBls(ct: Uint8Array): ParsedCiphertext {
  let c;
  try {
    c = decodeCiphertextOctets(ct);
  } catch {
    throw decryptFailed();
  }
  if (c.v.length !== H.len || c.w.length < 1 || c.w.length > MAX_PLAINTEXT) throw decryptFailed();
  const x = fpOctets(c.x);
  const y = fpOctets(c.y);
  if (!x || !y) throw decryptFailed();
  const u = freshBytes(96);
  u.set(x, 0);
  u.set(y, 48);
  return { u, v: c.v, w: c.w };
}

/** BFdecrypt with the FO check. Every failure, whatever its cause, is IBE_DECRYPT_FAILED. */
export async function decryptOps(ops: DecryptOps, ct: Uint8Array): Promise<Uint8Array> {
  const c = parseCiphertextBls(ct);
  // U travels as the uncompressed (x, y); the pairing call validates it (canonical, on curve,
  // in G1, not the identity) and the FO check compares [l]P with U's compressed form, built
  // here from (x, y) without another engine round trip.
  const U = compressedG1(bytesToBigint(c.u.subarray(0, 48)), bytesToBigint(c.u.subarray(48, 96)));
  let theta: Uint8Array;
  try {
    theta = await ops.pair(c.u);
  } catch {
    throw decryptFailed();
  }
  const w = H.hash(theta);
  theta.fill(0);
  const rho = xorInto(w, c.v);
  w.fill(0);
  const m = mask(c.w, rho);
  const t = H.hash(m);
  const l = deriveL(rho, t);
  rho.fill(0);
  t.fill(0);
  let ok = false;
  if (l !== null) {
    const U2 = await ops.mulP(l);
    l.fill(0);
    ok = U2.length === U.length && Buffer.compare(Buffer.from(U2), Buffer.from(U)) === 0;
  }
  if (!ok) {
    m.fill(0);
    throw decryptFailed();
  }
  return m;
}

// --- uncached one-shot forms ---------------------------------------------------------------

function plainEncryptOps(engine: Engine, gId: Uint8Array): EncryptOps {
  const P = engine.g1Generator();
  return {
    mulPUncompressed: async (l) => engine.g1Encode(await engine.g1Mul(P, l), 'uncompressed'),
    powG: (l) => engine.gtPow(gId, l),
  };
}

export async function recipientG(engine: Engine, Ppub: Uint8Array, id: Uint8Array): Promise<Uint8Array> {
  return engine.pairing(Ppub, await hashIdentity(engine, id));
}

export async function encryptBls(engine: Engine, Ppub: Uint8Array, id: Uint8Array, m: Uint8Array): Promise<Uint8Array> {
  checkPlaintext(m);
  return encryptOps(plainEncryptOps(engine, await recipientG(engine, Ppub, id)), m);
}

export async function encryptBlsWithRho(engine: Engine, Ppub: Uint8Array, id: Uint8Array, m: Uint8Array, rho: Uint8Array): Promise<Uint8Array> {
  return encryptWithRhoOps(plainEncryptOps(engine, await recipientG(engine, Ppub, id)), m, rho);
}

export async function decryptBls(engine: Engine, key: Uint8Array, ct: Uint8Array): Promise<Uint8Array> {
  const S = await checkPrivateKey(engine, key);
  const P = engine.g1Generator();
  return decryptOps({ pair: (u) => engine.pairing(u, S), mulP: (l) => engine.g1Mul(P, l) }, ct);
}

/** Client key check e(P, S_ID) == e(P_pub, Q_ID). */
export async function verifyKeyBls(engine: Engine, Ppub: Uint8Array, id: Uint8Array, key: Uint8Array): Promise<boolean> {
  const S = await checkPrivateKey(engine, key);
  const [a, b] = await Promise.all([engine.pairing(engine.g1Generator(), S), recipientG(engine, Ppub, id)]);
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

/** Checks that the master scalar s matches P_pub = [s]P. */
export async function checkMasterBls(engine: Engine, s: Scalar, Ppub: Uint8Array): Promise<boolean> {
  const x = bytesToBigint(s);
  if (s.length !== 32 || x === 0n || x >= R) return false;
  const P2 = await engine.g1Mul(engine.g1Generator(), s);
  return Buffer.compare(Buffer.from(P2), Buffer.from(Ppub)) === 0;
}
