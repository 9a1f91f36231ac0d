// G1/G2 decoding with full validation and encoding for the pure-TypeScript backend, on
// @noble/curves' BLS12-381 point classes. Byte-level checks come from ../encoding.ts (shared by
// all backends); here follow the curve checks in the contract's order: on the curve
// ('not-on-curve'; for the compressed form: x³ + b has no square root), in the prime-order
// subgroup ('not-in-subgroup'). The identity is rejected by the byte layer already.
import { bls12_381 } from '@noble/curves/bls12-381.js';
import type { Fp2 } from '@noble/curves/abstract/tower.js';
import type { WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js';
import { EngineError } from '../errors.js';
import { encodeG1, encodeG2, fp2Sign, fpSign, infinityEncoding, parseG1, parseG2 } from '../encoding.js';
import type { Bytes } from '../types.js';

export type G1Point = WeierstrassPoint<bigint>;
export type G2Point = WeierstrassPoint<Fp2>;

export const G1 = bls12_381.G1.Point;
export const G2 = bls12_381.G2.Point;
const { Fp, Fp2: F2 } = bls12_381.fields;

const B1 = 4n;
const B2 = F2.fromBigTuple([4n, 4n]);

function sqrtOrUndefined<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** Decodes and fully validates a G1 element (48 or 96 octets). */
export function decodeG1(bytes: unknown, what = 'G1 point'): G1Point {
  const f = parseG1(bytes, what);
  const rhs = Fp.add(Fp.mul(Fp.sqr(f.x), f.x), B1);
  let y: bigint;
  if (f.compressed) {
    const r = sqrtOrUndefined(() => Fp.sqrt(rhs));
    if (r === undefined || !Fp.eql(Fp.sqr(r), rhs)) throw new EngineError('not-on-curve', `${what}: x is not on the curve`);
    y = fpSign(r) === f.sign ? r : Fp.neg(r);
  } else {
    y = f.y!;
    if (!Fp.eql(Fp.sqr(y), rhs)) throw new EngineError('not-on-curve', `${what}: not on the curve`);
  }
  const pt = G1.fromAffine({ x: f.x, y });
  if (!pt.isTorsionFree()) throw new EngineError('not-in-subgroup', `${what}: not in the prime-order subgroup`);
  return pt;
}

/** Decodes and fully validates a G2 element (96 or 192 octets). */
export function decodeG2(bytes: unknown, what = 'G2 point'): G2Point {
  const f = parseG2(bytes, what);
  const x = F2.create({ c0: f.x[0], c1: f.x[1] });
  const rhs = F2.add(F2.mul(F2.sqr(x), x), B2);
  let y: Fp2;
  if (f.compressed) {
    const r = sqrtOrUndefined(() => F2.sqrt(rhs));
    if (r === undefined || !F2.eql(F2.sqr(r), rhs)) throw new EngineError('not-on-curve', `${what}: x is not on the curve`);
    y = fp2Sign([r.c0, r.c1]) === f.sign ? r : F2.neg(r);
  } else {
    y = F2.create({ c0: f.y![0], c1: f.y![1] });
    if (!F2.eql(F2.sqr(y), rhs)) throw new EngineError('not-on-curve', `${what}: not on the curve`);
  }
  const pt = G2.fromAffine({ x, y });
  if (!pt.isTorsionFree()) throw new EngineError('not-in-subgroup', `${what}: not in the prime-order subgroup`);
  return pt;
}

/** ZCash encoding of a G1 point (the identity gets its canonical infinity encoding). */
export function encodeG1Point(p: G1Point, compressed = true): Bytes {
  if (p.is0()) return infinityEncoding('G1', compressed);
  const { x, y } = p.toAffine();
  return encodeG1(x, y, compressed);
}

export function encodeG2Point(p: G2Point, compressed = true): Bytes {
  if (p.is0()) return infinityEncoding('G2', compressed);
  const { x, y } = p.toAffine();
  return encodeG2([x.c0, x.c1], [y.c0, y.c1], compressed);
}
