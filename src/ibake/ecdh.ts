// P-256 Diffie–Hellman for the ECCPT sub-payloads (ECC Curve 8, our profile: OPEN-17), on
// node:crypto. Received points are validated here independently of OpenSSL: canonical SEC1
// uncompressed (0x04 ‖ X ‖ Y, 65 octets, coordinates < p), on the curve, not the identity
// (P-256 has cofactor 1, so on-curve = in the prime-order group; a point of a small-order
// "twist" or another curve fails the curve equation). K_SESSION is the SEC1 uncompressed
// octet string of [x][y]P (OPEN-5): OpenSSL's ECDH returns only the x-coordinate, so the
// y-coordinate is recovered by OpenSSL's point decompression and its sign fixed with a second
// ECDH with x+1 (k + 1 = n cannot occur: k = n-1 gives S = -Q, caught by the x(S) = x(Q) case).
import { ECDH, createECDH } from 'node:crypto';
import { bigintToBytes, bytesToBigint as toBig, publicU256At } from '../util/bigint.js';
import { ctEqual } from '../util/ct-equal.js';
import { authFailure } from './errors.js';

export const ECC_CURVE_P256 = 8;
export const P256_POINT_BYTES = 65;

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}
function powmod(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}
function toBytes(v: bigint, len = 32): Buffer {
  const b = bigintToBytes(v, len);
  return Buffer.from(b.buffer, b.byteOffset, b.length);
}

/** Why a point was rejected (local detail; callers map it to the uniform auth failure). */
export type PointProblem = 'length' | 'prefix' | 'identity' | 'non-canonical' | 'not-on-curve';

/** Checks a received ECCPT point; returns undefined if valid, else the first failing check. */
export function checkP256Point(pt: Uint8Array): PointProblem | undefined {
  if (!(pt instanceof Uint8Array)) return 'length';
  if (pt.length === 1 && pt[0] === 0) return 'identity';
  if (pt.length !== P256_POINT_BYTES) return 'length';
  if (pt[0] !== 0x04) return 'prefix';
  const x = publicU256At(pt, 1); // two per call: the words route, not the hex one (util/bigint.ts)
  const y = publicU256At(pt, 33);
  if (x >= P || y >= P) return 'non-canonical';
  // y² − (x² − 3)·x − b ≡ 0 (mod p); a remainder takes the dividend's sign, so any non-zero one fails
  if ((y * y - (x * x - 3n) * x - B) % P !== 0n) return 'not-on-curve';
  return undefined;
}

/** Throws the uniform auth failure (reason 'bad-point') unless `pt` is a valid P-256 point. */
export function assertP256Point(pt: Uint8Array): void {
  if (checkP256Point(pt) !== undefined) throw authFailure('bad-point');
}

/** One side's ephemeral key pair: x (secret, 32 octets) and [x]P (SEC1 uncompressed). */
export interface EphemeralKey {
  readonly publicPoint: Uint8Array;
  /** The secret scalar; keep only as long as the exchange needs it, then `wipeEphemeral`. */
  readonly secret: Uint8Array;
}

/**
 * The one node:crypto ECDH object (per thread) that generates ephemeral key pairs. A new object
 * per key pair cost about twice the key generation itself (OpenSSL builds the curve group, and
 * frees it at garbage collection); reused, only the last secret stays in it until the next key.
 */
let generator: ECDH | undefined;

/** Fresh x in [1, n-1] from OpenSSL's CSPRNG (seeded by the OS), with its public point. */
export function generateEphemeral(): EphemeralKey {
  const ecdh = (generator ??= createECDH('prime256v1'));
  const pub = ecdh.generateKeys(); // SEC1 uncompressed, in a buffer of its own
  // node:crypto returns the private key without leading zero octets (31 octets or fewer about
  // once in 256 keys): left-pad to the fixed 32 octets every other layer expects.
  const raw = ecdh.getPrivateKey();
  const secret = new Uint8Array(32);
  secret.set(raw, 32 - raw.length);
  raw.fill(0);
  // a plain Uint8Array over generateKeys' own buffer, not a copy (65 octets are over V8's
  // in-heap limit, so a copy would be one more malloc'ed buffer per key)
  const publicPoint = new Uint8Array(pub.buffer, pub.byteOffset, pub.length);
  return { secret, publicPoint };
}

/** Rebuilds the public point of a stored secret (e.g. state restored from serialised form). */
export function publicFromSecret(secret: Uint8Array): Uint8Array {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(secret));
  return new Uint8Array(ecdh.getPublicKey(null, 'uncompressed'));
}

/** A new ECDH object holding `secret`. */
function ecdhFor(secret: Uint8Array): ECDH {
  const ecdh = createECDH('prime256v1');
  setKey(ecdh, secret);
  return ecdh;
}

function setKey(ecdh: ECDH, secret: Uint8Array): void {
  const sk = Buffer.from(secret);
  try {
    ecdh.setPrivateKey(sk);
  } finally {
    sk.fill(0);
  }
}

/** x-coordinate of [key]·peer as an integer. */
function ecdhX(ecdh: ECDH, peer: Uint8Array): bigint {
  const x = ecdh.computeSecret(Buffer.from(peer));
  const v = toBig(x);
  x.fill(0);
  return v;
}

/** The peer's point valid and not our own (reflection); else the uniform auth failure. */
function checkPeer(peer: Uint8Array, ownPublic?: Uint8Array): void {
  assertP256Point(peer);
  if (ownPublic && ctEqual(ownPublic, peer)) throw authFailure('bad-point');
}

/** computeKSession's checks (uniform auth failure): `peer` valid and not our own point, and
 *  1 <= secret < n; returns the secret as an integer (the node:crypto route needs k + 1). */
function checkKSessionInputs(secret: Uint8Array, peer: Uint8Array, ownPublic?: Uint8Array): bigint {
  checkPeer(peer, ownPublic);
  const k = toBig(secret);
  if (k === 0n || k >= N) throw authFailure('bad-point');
  return k;
}

const N_OCTETS = bigintToBytes(N, 32);

/**
 * 1 <= k < n for a 32-octet big-endian scalar, read as octets: a secret made an integer (or the
 * hex string on the way) cannot be wiped. One pass over all 32 octets, no branch on them:
 * k < n exactly when k - n borrows out of its top octet.
 */
function scalarInRange(k: Uint8Array): boolean {
  if (k.length !== 32) return false;
  let borrow = 0;
  let any = 0;
  for (let i = 31; i >= 0; i--) {
    borrow = (k[i]! - N_OCTETS[i]! - borrow) >>> 31;
    any |= k[i]!;
  }
  return borrow === 1 && any !== 0;
}

/**
 * [k]Q on P-256 off this thread, SEC1 uncompressed in and out: the native engine's p256Mul
 * (Engine.p256Mul: the process's OpenSSL, one multiplication on a pool thread). Rejects for
 * inputs it refuses; computeKSessionWith checks them first.
 */
export type P256Mul = (k: Uint8Array, q: Uint8Array) => Promise<Uint8Array>;

/**
 * computeKSession through `mul`: the same checks and the same octets, from one multiplication
 * that gives the whole point (node:crypto's ECDH gives only x, hence computeKSession's second
 * ECDH) and that does not run on this thread.
 */
export async function computeKSessionWith(mul: P256Mul, secret: Uint8Array, peer: Uint8Array, ownPublic?: Uint8Array): Promise<Uint8Array> {
  checkPeer(peer, ownPublic);
  if (!scalarInRange(secret)) throw authFailure('bad-point');
  const out = await mul(secret, peer);
  if (out.length !== P256_POINT_BYTES || out[0] !== 0x04) {
    out.fill(0);
    throw authFailure('bad-point');
  }
  return out;
}

/**
 * K_SESSION = SEC1 uncompressed octets of [secret]·peer (65 octets). `peer` is validated first
 * (uniform auth failure if invalid); a peer equal to our own public point is refused (reflection).
 */
export function computeKSession(secret: Uint8Array, peer: Uint8Array, ownPublic?: Uint8Array): Uint8Array {
  const k = checkKSessionInputs(secret, peer, ownPublic);
  const qx = publicU256At(peer, 1);
  const qy = publicU256At(peer, 33);
  const ecdh = ecdhFor(secret);
  const sx = ecdhX(ecdh, peer);
  // y from x by OpenSSL's point decompression (a native square root), parity still unknown.
  const comp = Buffer.alloc(33);
  comp[0] = 0x02;
  comp.set(toBytes(sx), 1);
  let sy = toBig((ECDH.convertKey(comp, 'prime256v1', undefined, undefined, 'uncompressed') as Buffer).subarray(33, 65));
  comp.fill(0);
  if (sx === qx) {
    // [k]Q = ±Q only for k = 1 or n-1.
    sy = k === 1n ? qy : mod(-qy);
  } else {
    // Fix the sign with tx = x([k+1]Q) = x(S + Q), checked without an inversion:
    // x(S + Q) = λ² - sx - qx, λ = (qy - sy)/(qx - sx)  <=>  (qy - sy)² = (tx + sx + qx)(qx - sx)².
    const k1 = toBytes(k + 1n);
    setKey(ecdh, k1); // the same object, now holding k + 1
    k1.fill(0);
    const tx = ecdhX(ecdh, peer);
    const d = mod(qx - sx);
    if (mod((qy - sy) * (qy - sy)) !== mod((tx + sx + qx) * d * d)) sy = mod(-sy);
  }
  const out = new Uint8Array(P256_POINT_BYTES);
  out[0] = 0x04;
  out.set(toBytes(sx), 1);
  out.set(toBytes(sy), 33);
  return out;
}

/** Zeroes an ephemeral secret (RFC 6539: discard x / y when done or on any failure). */
export function wipeEphemeral(k: { secret: Uint8Array } | undefined): void {
  if (!k) return;
  k.secret.fill(0);
}
