// The modified Tate pairing e'(A, B) = e(A, φ(B)) of RFC 5091 §4.5 on the type-1 curve, with the
// distortion map φ(x, y) = (ζ·x, y). ζ is the CORRECTED constant of spec/ibe-bf.md §1:
// ζ = ((p−1)/2, −3^((p+1)/4)·2⁻¹ mod p), i.e. −1/2 − (√3/2)·i; the RFC's printed value lacks
// the 1/2 and is not a cube root of unity. Generic Miller loop over the bits of q (tangent and
// chord numerators, vertical-line denominators), final exponentiation (p²−1)/q.
import { fp2, invMod, mod, powMod, type Fp2 } from './field.js';
import { onCurve, type Point } from './curve.js';

export function zeta(p: bigint): Fp2 {
  const sqrt3 = powMod(3n, (p + 1n) / 4n, p);
  return fp2.of((p - 1n) / 2n, mod(-sqrt3 * invMod(2n, p), p));
}

/** Line through T with slope lambda, evaluated at (xQ, yQ): yQ − yT − λ(xQ − xT). */
function lineAt(T: { x: bigint; y: bigint }, lambda: bigint, xQ: Fp2, yQ: bigint, p: bigint): Fp2 {
  const dx = fp2.sub(xQ, fp2.of(T.x, 0n), p);
  return fp2.of(mod(yQ - T.y - lambda * dx.a0, p), mod(-lambda * dx.a1, p));
}

function verticalAt(x: bigint, xQ: Fp2, p: bigint): Fp2 {
  return fp2.of(mod(xQ.a0 - x, p), xQ.a1);
}

/**
 * e'(A, B) for A, B points of order q on y² = x³ + 1 over F_p. Callers validate membership;
 * this function only refuses the point at infinity and points off the curve.
 */
export function tatePairing(A: Point, B: Point, p: bigint, q: bigint): Fp2 {
  if (A === null || B === null || !onCurve(A, p) || !onCurve(B, p)) {
    throw new RangeError('pairing arguments must be finite curve points');
  }
  const xQ = fp2.mul(zeta(p), fp2.of(B.x, 0n), p);
  const yQ = B.y;
  let num = fp2.one();
  let den = fp2.one();
  let T: { x: bigint; y: bigint } | null = { x: A.x, y: A.y };
  const bits = q.toString(2);
  for (let i = 1; i < bits.length; i++) {
    if (T === null) throw new RangeError('Miller loop reached infinity early (order of A divides a prefix of q)');
    // doubling step
    const lam = mod(3n * T.x * T.x * invMod(2n * T.y, p), p);
    const l = lineAt(T, lam, xQ, yQ, p);
    const x2 = mod(lam * lam - 2n * T.x, p);
    const y2 = mod(lam * (T.x - x2) - T.y, p);
    T = { x: x2, y: y2 };
    num = fp2.mul(fp2.sqr(num, p), l, p);
    den = fp2.mul(fp2.sqr(den, p), verticalAt(x2, xQ, p), p);
    if (bits[i] === '1') {
      if (T.x === A.x) {
        if (mod(T.y + A.y, p) === 0n) {
          // T = −A: the chord is the vertical line through A, and T + A = O.
          num = fp2.mul(num, verticalAt(A.x, xQ, p), p);
          T = null;
          continue;
        }
        throw new RangeError('Miller loop: T == A (order of A is not q)');
      }
      const lamA = mod((A.y - T.y) * invMod(A.x - T.x, p), p);
      const lA = lineAt(T, lamA, xQ, yQ, p);
      const x3 = mod(lamA * lamA - T.x - A.x, p);
      const y3 = mod(lamA * (T.x - x3) - T.y, p);
      T = { x: x3, y: y3 };
      num = fp2.mul(num, lA, p);
      den = fp2.mul(den, verticalAt(x3, xQ, p), p);
    }
  }
  if (T !== null) throw new RangeError('Miller loop did not end at infinity: A is not of order q');
  const f = fp2.mul(num, fp2.inv(den, p), p);
  // f^((p²−1)/q) = (f^(p−1))^((p+1)/q), with f^p = conj(f) since p ≡ 3 (mod 4).
  const g = fp2.mul(fp2.conj(f, p), fp2.inv(f, p), p);
  return fp2.pow(g, (p + 1n) / q, p);
}
