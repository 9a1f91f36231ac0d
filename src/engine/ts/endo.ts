// Scalar multiplication in G1 and G2 with the curve endomorphisms (GLV / GLS), for the
// pure-TypeScript backend: noble's constant-time multiply walks all 255 bits; here the doubling
// chain is cut to 128 (G1) or 64 (G2) steps.
// * G2: ψ (untwist-Frobenius-twist) acts on G2 as [p] = [z] (z = -|z|, the BLS parameter), so
//   with k = d0 + d1·|z| + d2·|z|² + d3·|z|³ (0 <= di < |z| < 2^64):
//   [k]P = [d0]P + [d1](-ψP) + [d2]ψ²P + [d3](-ψ³P).
// * G1: φ(x, y) = (βx, y) acts on G1 as [-z²] (noble's subgroup test uses the same identity), so
//   with k = d0 + d1·z² (0 <= di < z² < 2^128): [k]P = [d0]P + [d1](-φP).
// Both are fixed 4-bit windows over all digits at once; every window adds one table entry per
// digit (the identity for digit 0), selected by scanning the whole table: the operation
// sequence does not depend on k (JS bigint arithmetic is not constant time; design/security.md
// §2.6). Valid only for points of order r — every point the engine accepts.
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { psiFrobenius } from '@noble/curves/abstract/tower.js';
import { G1, G2, type G1Point, type G2Point } from './points.js';

const { Fp, Fp2: F2 } = bls12_381.fields;
const Z_ABS = 0xd201000000010000n;
const Z2 = Z_ABS * Z_ABS;
/** β: φ(x, y) = (βx, y) equals [-z²] on G1 (the constant noble's isTorsionFree uses). */
const BETA = 0x5f19672fdf76ce51ba69c6076a0f77eaddb3a93be6f89688de17d813620a00022e01fffffffefffen;
const WINDOW = 4;
const TABLE = 1 << WINDOW;

const { psi } = psiFrobenius(Fp, F2, F2.div(F2.ONE, F2.NONRESIDUE));

interface Pt<T> {
  add(o: T): T;
  double(): T;
  negate(): T;
}

function selectPt<T>(table: readonly T[], digit: number): T {
  let sel = table[0]!;
  for (let j = 1; j < table.length; j++) sel = j === digit ? table[j]! : sel;
  return sel;
}

/** Σ [digits[i]] bases[i], digits of `bits` bits, fixed windows. */
function multiMul<T extends Pt<T>>(zero: T, bases: readonly T[], digits: readonly bigint[], bits: number): T {
  const tables = bases.map((b) => {
    const t: T[] = [zero, b];
    for (let j = 2; j < TABLE; j++) t.push(j % 2 === 0 ? t[j / 2]!.double() : t[j - 1]!.add(b));
    return t;
  });
  const windows = Math.ceil(bits / WINDOW);
  const mask = BigInt(TABLE - 1);
  let acc = zero;
  for (let w = windows - 1; w >= 0; w--) {
    if (w !== windows - 1) for (let s = 0; s < WINDOW; s++) acc = acc.double();
    const shift = BigInt(w * WINDOW);
    for (let i = 0; i < tables.length; i++) acc = acc.add(selectPt(tables[i]!, Number((digits[i]! >> shift) & mask)));
  }
  return acc;
}

/** [k]P for P in G2 (order r), 1 <= k < r. */
export function g2MulGls(p: G2Point, k: bigint): G2Point {
  const d: bigint[] = [];
  for (let i = 0; i < 4; i++) {
    d.push(k % Z_ABS);
    k /= Z_ABS;
  }
  const bases: G2Point[] = [p];
  let a = p.toAffine();
  for (let i = 1; i < 4; i++) {
    const [x, y] = psi(a.x, a.y);
    a = { x, y };
    const q = G2.fromAffine(a);
    bases.push(i % 2 === 1 ? q.negate() : q);
  }
  return multiMul(G2.ZERO, bases, d, 64);
}

/** [k]P for P in G1 (order r), 1 <= k < r. */
export function g1MulGlv(p: G1Point, k: bigint): G1Point {
  const d = [k % Z2, k / Z2];
  const a = p.toAffine();
  const phi = G1.fromAffine({ x: Fp.mul(a.x, BETA), y: a.y });
  return multiMul(G1.ZERO, [p, phi.negate()], d, 128);
}
