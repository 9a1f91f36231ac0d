// Byte-level checks of the engine's wire encodings, shared by every backend (ts, wasm, native),
// so that each rejects a malformed input for the same EngineError reason before any library
// sees it. Pure TypeScript bigint; no curve arithmetic here (on-curve / subgroup checks stay in
// the backends).
//
// * G1/G2: ZCash/CFRG serialisation. Checks in the contract's order: type, length, flag bits
//   (C must match the length; I requires S = 0 and all other bits zero; S = 0 when uncompressed),
//   coordinates < p. A canonical point at infinity is reported as 'identity' (it is on the curve
//   and in the subgroup, so that is the first failing check). One curve fact is checked here
//   too because libraries disagree on it: uncompressed (0, 0) is 'not-on-curve'.
// * GT / Fp12: 576 octets, 12 big-endian Fp coefficients in the tower order of DESIGN §3, each < p.
import { EngineError } from './errors.js';
import { bytesToBigint, bigintToBytes } from './scalar.js';
import {
  G1_COMPRESSED,
  G1_UNCOMPRESSED,
  G2_COMPRESSED,
  G2_UNCOMPRESSED,
  GT_BYTES,
  MULTI_PAIRING_MAX,
  type Bytes,
} from './types.js';

/** The BLS12-381 base field prime p. */
export const P = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaabn;
/** Octets of one base-field element. */
export const FP_BYTES = 48;

const FLAG_C = 0x80;
const FLAG_I = 0x40;
const FLAG_S = 0x20;

/** An element of Fp2 = Fp + Fp·u as [c0, c1]. */
export type Fp2Pair = readonly [bigint, bigint];

/** A canonical, non-infinity G1 encoding split into its fields (curve checks still pending). */
export interface G1Fields {
  readonly compressed: boolean;
  readonly x: bigint;
  /** Only for the uncompressed form. */
  readonly y?: bigint;
  /** The S flag (compressed form only): y is the lexicographically larger root. */
  readonly sign: boolean;
}

/** A canonical, non-infinity G2 encoding split into its fields (curve checks still pending). */
export interface G2Fields {
  readonly compressed: boolean;
  readonly x: Fp2Pair;
  readonly y?: Fp2Pair;
  readonly sign: boolean;
}

/** Throws EngineError('type') unless v is a Uint8Array; returns it. */
export function checkBytesType(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new EngineError('type', `${what} must be a Uint8Array`);
  return v;
}

/** Reads a 48-octet big-endian field element; EngineError('non-canonical') if >= p. */
export function readFp(bytes: Uint8Array, offset: number, what: string): bigint {
  const v = bytesToBigint(bytes.subarray(offset, offset + FP_BYTES));
  if (v >= P) throw new EngineError('non-canonical', `${what}: coordinate is not below p`);
  return v;
}

/** Writes a field element (0 <= v < p) as 48 big-endian octets at offset. */
export function writeFp(out: Uint8Array, offset: number, v: bigint): void {
  if (v < 0n || v >= P) throw new RangeError('field element out of range');
  out.set(bigintToBytes(v, FP_BYTES), offset);
}

/**
 * Checks the flag bits and the infinity form of a point encoding of `len` octets whose
 * compressed length is `clen`. Returns the flags; for a canonical infinity throws 'identity'.
 */
function checkFlags(b: Uint8Array, clen: number, what: string): { compressed: boolean; sign: boolean } {
  const flags = b[0]! & 0xe0;
  const compressed = (flags & FLAG_C) !== 0;
  const infinity = (flags & FLAG_I) !== 0;
  const sign = (flags & FLAG_S) !== 0;
  if (compressed !== (b.length === clen)) {
    throw new EngineError('non-canonical', `${what}: compression flag does not match the length`);
  }
  if (infinity) {
    if (sign) throw new EngineError('non-canonical', `${what}: infinity with the sign flag set`);
    if ((b[0]! & 0x1f) !== 0) throw new EngineError('non-canonical', `${what}: infinity with non-zero bits`);
    for (let i = 1; i < b.length; i++) {
      if (b[i] !== 0) throw new EngineError('non-canonical', `${what}: infinity with non-zero bits`);
    }
    throw new EngineError('identity', `${what}: the point at infinity`);
  }
  if (!compressed && sign) throw new EngineError('non-canonical', `${what}: sign flag in the uncompressed form`);
  return { compressed, sign };
}

/** Copy of the encoding with the three flag bits cleared. */
function unflagged(b: Uint8Array): Uint8Array {
  const c = Uint8Array.from(b);
  c[0] = c[0]! & 0x1f;
  return c;
}

/**
 * Byte-level validation of a G1 element (48 or 96 octets): type, length, flags, infinity form,
 * coordinates < p. Throws the EngineError reason of the first failing check; for a canonical
 * point at infinity, 'identity'. Returns the decoded fields for the curve checks.
 */
export function parseG1(point: unknown, what = 'G1 point'): G1Fields {
  const b = checkBytesType(point, what);
  if (b.length !== G1_COMPRESSED && b.length !== G1_UNCOMPRESSED) {
    throw new EngineError('length', `${what} must be ${G1_COMPRESSED} or ${G1_UNCOMPRESSED} octets, got ${b.length}`);
  }
  const { compressed, sign } = checkFlags(b, G1_COMPRESSED, what);
  const v = unflagged(b);
  const x = readFp(v, 0, what);
  if (compressed) return { compressed, x, sign };
  const y = readFp(v, FP_BYTES, what);
  if (x === 0n && y === 0n) throw notOnCurveZero(what);
  return { compressed, x, y, sign };
}

/**
 * Uncompressed (0, 0) without the infinity flag satisfies neither y² = x³ + 4 nor the twist's
 * equation; some libraries (mcl) read it as the point at infinity, so it is refused here, at the
 * on-curve step, for every backend alike.
 */
function notOnCurveZero(what: string): EngineError {
  return new EngineError('not-on-curve', `${what}: (0, 0) is not on the curve`);
}

/** ZCash Fp2 order on the wire: c1 (the u coefficient) first, then c0. */
function readFp2(v: Uint8Array, offset: number, what: string): Fp2Pair {
  const c1 = readFp(v, offset, what);
  const c0 = readFp(v, offset + FP_BYTES, what);
  return [c0, c1];
}

/** Like parseG1 for G2 (96 or 192 octets; each Fp2 coordinate written c1 ‖ c0). */
export function parseG2(point: unknown, what = 'G2 point'): G2Fields {
  const b = checkBytesType(point, what);
  if (b.length !== G2_COMPRESSED && b.length !== G2_UNCOMPRESSED) {
    throw new EngineError('length', `${what} must be ${G2_COMPRESSED} or ${G2_UNCOMPRESSED} octets, got ${b.length}`);
  }
  const { compressed, sign } = checkFlags(b, G2_COMPRESSED, what);
  const v = unflagged(b);
  const x = readFp2(v, 0, what);
  if (compressed) return { compressed, x, sign };
  const y = readFp2(v, 2 * FP_BYTES, what);
  if (x[0] === 0n && x[1] === 0n && y[0] === 0n && y[1] === 0n) throw notOnCurveZero(what);
  return { compressed, x, y, sign };
}

/** True when y is the lexicographically larger of {y, -y} (the S flag), for y in Fp. */
export function fpSign(y: bigint): boolean {
  return y > (P - 1n) / 2n;
}

/** The S flag rule for Fp2: decided by c1, or by c0 when c1 = 0. */
export function fp2Sign(y: Fp2Pair): boolean {
  return y[1] !== 0n ? fpSign(y[1]) : fpSign(y[0]);
}

/** ZCash encoding of an affine G1 point (not the identity). */
export function encodeG1(x: bigint, y: bigint, compressed: boolean): Bytes {
  const out = new Uint8Array(compressed ? G1_COMPRESSED : G1_UNCOMPRESSED);
  writeFp(out, 0, x);
  if (compressed) {
    out[0] = out[0]! | FLAG_C | (fpSign(y) ? FLAG_S : 0);
  } else {
    writeFp(out, FP_BYTES, y);
  }
  return out;
}

/** ZCash encoding of an affine G2 point (not the identity). */
export function encodeG2(x: Fp2Pair, y: Fp2Pair, compressed: boolean): Bytes {
  const out = new Uint8Array(compressed ? G2_COMPRESSED : G2_UNCOMPRESSED);
  writeFp(out, 0, x[1]);
  writeFp(out, FP_BYTES, x[0]);
  if (compressed) {
    out[0] = out[0]! | FLAG_C | (fp2Sign(y) ? FLAG_S : 0);
  } else {
    writeFp(out, 2 * FP_BYTES, y[1]);
    writeFp(out, 3 * FP_BYTES, y[0]);
  }
  return out;
}

/** The canonical encodings of the point at infinity (for tests and callers that need them). */
export function infinityEncoding(group: 'G1' | 'G2', compressed: boolean): Bytes {
  const len = group === 'G1' ? (compressed ? G1_COMPRESSED : G1_UNCOMPRESSED) : compressed ? G2_COMPRESSED : G2_UNCOMPRESSED;
  const out = new Uint8Array(len);
  out[0] = compressed ? FLAG_C | FLAG_I : FLAG_I;
  return out;
}

/**
 * Byte-level validation of an Fp12 value (576 octets, tower order, each coefficient < p).
 * Returns the 12 coefficients in tower order: c0.c0.c0, c0.c0.c1, c0.c1.c0, … c1.c2.c1.
 * With nonZero, the all-zero value is rejected as 'not-in-subgroup' (it is not in Fp12*; the
 * same reason on every backend).
 */
export function parseFp12(value: unknown, what = 'GT value', nonZero = true): bigint[] {
  const b = checkBytesType(value, what);
  if (b.length !== GT_BYTES) throw new EngineError('length', `${what} must be ${GT_BYTES} octets, got ${b.length}`);
  const c: bigint[] = [];
  for (let i = 0; i < 12; i++) c.push(readFp(b, i * FP_BYTES, what));
  if (nonZero && c.every((v) => v === 0n)) throw new EngineError('not-in-subgroup', `${what}: zero is not in Fp12*`);
  return c;
}

/** Encodes 12 tower-order coefficients (each in [0, p)) as 576 octets. */
export function encodeFp12(coeffs: readonly bigint[]): Bytes {
  if (coeffs.length !== 12) throw new RangeError('Fp12 needs 12 coefficients');
  const out = new Uint8Array(GT_BYTES);
  coeffs.forEach((v, i) => writeFp(out, i * FP_BYTES, v));
  return out;
}

/** The GT identity (Fp12 one) in the engine's byte layout. */
export function gtOneEncoding(): Bytes {
  const out = new Uint8Array(GT_BYTES);
  out[FP_BYTES - 1] = 1;
  return out;
}

/**
 * The shape of a multiPairing argument (types.ts): an array of 1..MULTI_PAIRING_MAX two-element
 * arrays, else EngineError 'type' / 'length'. The points themselves are the backend's to check.
 */
export function checkPairs(pairs: unknown): ReadonlyArray<readonly [unknown, unknown]> {
  if (!Array.isArray(pairs)) throw new EngineError('type', 'pairs must be an array of [G1, G2] pairs');
  if (pairs.length < 1 || pairs.length > MULTI_PAIRING_MAX) {
    throw new EngineError('length', `multiPairing takes 1..${MULTI_PAIRING_MAX} pairs`);
  }
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new EngineError('type', 'each pair must be [G1, G2]');
  }
  return pairs as ReadonlyArray<readonly [unknown, unknown]>;
}

/** Checks a hash-to-curve domain separation tag (1..255 octets); strings are UTF-8 encoded. */
export function checkDst(dst: unknown): Uint8Array {
  let b: Uint8Array;
  if (typeof dst === 'string') b = new TextEncoder().encode(dst);
  else b = checkBytesType(dst, 'DST');
  if (b.length < 1 || b.length > 255) throw new EngineError('length', `DST must be 1..255 octets, got ${b.length}`);
  return b;
}

/** Checks the message argument of hashToG1/hashToG2 (any length, must be a Uint8Array). */
export function checkMessage(msg: unknown): Uint8Array {
  return checkBytesType(msg, 'message');
}

/** Checks the optional output-form argument of g1Encode/g2Encode. */
export function checkForm(form: unknown): boolean {
  if (form === undefined || form === 'compressed') return true;
  if (form === 'uncompressed') return false;
  throw new EngineError('type', "form must be 'compressed' or 'uncompressed'");
}
