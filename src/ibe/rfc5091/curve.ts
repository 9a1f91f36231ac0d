// The type-1 curve E: y² = x³ + 1 over F_p, p ≡ 11 (mod 12) (RFC 5091 §2–§3): affine point
// arithmetic, scalar multiplication, membership checks and HashToPoint1 (§4.4.2).
import { IbeError } from '../errors.js';
import { hashToRange, type HashFcn } from '../hashes.js';
import { invMod, mod, powMod } from './field.js';

/** An affine point, or null for the point at infinity. */
export type Point = { readonly x: bigint; readonly y: bigint } | null;

export function onCurve(P: Point, p: bigint): boolean {
  if (P === null) return true;
  if (P.x < 0n || P.x >= p || P.y < 0n || P.y >= p) return false;
  return mod(P.y * P.y - P.x * P.x * P.x - 1n, p) === 0n;
}

export function eqPoint(A: Point, B: Point): boolean {
  if (A === null || B === null) return A === B;
  return A.x === B.x && A.y === B.y;
}

export function neg(A: Point, p: bigint): Point {
  return A === null ? null : { x: A.x, y: mod(-A.y, p) };
}

export function add(A: Point, B: Point, p: bigint): Point {
  if (A === null) return B;
  if (B === null) return A;
  let lambda: bigint;
  if (A.x === B.x) {
    if (mod(A.y + B.y, p) === 0n) return null;
    lambda = mod(3n * A.x * A.x * invMod(2n * A.y, p), p);
  } else {
    lambda = mod((B.y - A.y) * invMod(B.x - A.x, p), p);
  }
  const x = mod(lambda * lambda - A.x - B.x, p);
  const y = mod(lambda * (A.x - x) - A.y, p);
  return { x, y };
}

/** [k]A for k >= 0 (double-and-add; inputs here are public or KMS-side). */
export function mul(A: Point, k: bigint, p: bigint): Point {
  if (k < 0n) return mul(neg(A, p), -k, p);
  let R: Point = null;
  let B = A;
  while (k > 0n) {
    if (k & 1n) R = add(R, B, p);
    B = add(B, B, p);
    k >>= 1n;
  }
  return R;
}

/** On the curve, of order q (so in the order-q subgroup), and not the point at infinity. */
export function inSubgroup(A: Point, p: bigint, q: bigint): boolean {
  return A !== null && onCurve(A, p) && mul(A, q, p) === null;
}

/** HashToPoint1(p, q, id, hashfcn) of RFC 5091 §4.4.2. */
export function hashToPoint(p: bigint, q: bigint, id: Uint8Array, h: HashFcn): Point {
  const y = hashToRange(id, p, h);
  const x = powMod(y * y - 1n, (2n * p - 1n) / 3n, p);
  const Qp = { x, y };
  const Q = mul(Qp, (p + 1n) / q, p);
  if (Q === null) throw new IbeError('IBE_BAD_INPUT', 'HashToPoint hit the point at infinity');
  return Q;
}
