// GT (the order-r subgroup of Fp12*) for the pure-TypeScript backend, on noble's Fp12 arithmetic:
// byte layout (DESIGN §3 tower order), membership checks, and exponentiation.
//
// Why not noble's Fp12.pow: it is a generic square-and-multiply over full Fp12 squarings and
// costs ~80 % of a noble pairing. Here:
// * cyclotomic squaring (Granger–Scott, noble's Fp12._cyclotomicSquare) for elements of the
//   cyclotomic subgroup;
// * the 4-dimensional Frobenius split: p ≡ z (mod r) (z = -0xd201000000010000), so for g in GT
//   g^p = g^z, and k = d0 + d1·|z| + d2·|z|² + d3·|z|³ (0 <= di < |z| < 2^64) gives
//   g^k = Π (frob_i(g)^((-1)^i))^(di): a 64-bit multi-exponentiation with a fixed 4-bit window
//   (every window multiplies, digit 0 by the identity: the operation sequence does not depend on
//   k; JS bigint arithmetic itself is not constant time — see design/security.md §2.6);
// * a fixed-base table for a fixed g: g^(j·16^w) for the 16 windows of a 64-bit digit, so a
//   power costs ~64 Fp12 multiplications and three Frobenius maps, no squarings.
// The split equals plain g^k only for g of order r — true of every GT value by the contract
// (GT inputs are values computed in-process; gtValidate checks order r for anything else).
import { bls12_381 } from '@noble/curves/bls12-381.js';
import type { Fp12 } from '@noble/curves/abstract/tower.js';
import { EngineError } from '../errors.js';
import { encodeFp12, parseFp12 } from '../encoding.js';
import type { Bytes } from '../types.js';
import { splitScalar, Z_ABS } from '../gt-split.js';

const F12 = bls12_381.fields.Fp12;
export type Gt = Fp12;

/** |z|, the BLS12-381 curve parameter (z itself is negative). */
const WINDOW = 4;
const WINDOWS = 16; // 16 windows of 4 bits cover a 64-bit digit
const TABLE = 1 << WINDOW;

/** Coefficients in tower order → noble Fp12. */
export function fp12FromCoeffs(c: readonly bigint[]): Gt {
  return F12.fromBigTwelve(c as unknown as Parameters<typeof F12.fromBigTwelve>[0]);
}

export function fp12ToCoeffs(f: Gt): bigint[] {
  const out: bigint[] = [];
  for (const s of [f.c0, f.c1]) for (const d of [s.c0, s.c1, s.c2]) out.push(d.c0, d.c1);
  return out;
}

export function encodeGt(f: Gt): Bytes {
  return encodeFp12(fp12ToCoeffs(f));
}

/** f^(p^4) · f == f^(p^2), i.e. f^Φ12(p) = 1 (f non-zero). */
export function isCyclotomic(f: Gt): boolean {
  return F12.eql(F12.mul(F12.frobeniusMap(f, 4), f), F12.frobeniusMap(f, 2));
}

/** f^z for f in the cyclotomic subgroup (z negative: the conjugate is the inverse there). */
function powZ(f: Gt): Gt {
  return F12.conjugate(F12._cyclotomicExp(f, Z_ABS));
}

/** For cyclotomic f: order r iff f^p == f^z (the test blst's GT in_group uses). */
export function hasOrderR(f: Gt): boolean {
  return F12.eql(F12.frobeniusMap(f, 1), powZ(f));
}

/** Decodes GT bytes for an operation: canonical, non-zero, cyclotomic ('not-in-subgroup'). */
export function decodeGtCyclotomic(bytes: unknown, what = 'GT value'): Gt {
  const f = fp12FromCoeffs(parseFp12(bytes, what));
  if (!isCyclotomic(f)) throw new EngineError('not-in-subgroup', `${what}: not in the cyclotomic subgroup`);
  return f;
}

/** Full GT check: canonical, cyclotomic, order r, not the identity. */
export function decodeGtFull(bytes: unknown, what = 'GT value'): Gt {
  const f = decodeGtCyclotomic(bytes, what);
  if (!hasOrderR(f)) throw new EngineError('not-in-subgroup', `${what}: not of order r`);
  if (F12.eql(f, F12.ONE)) throw new EngineError('identity', `${what}: the GT identity`);
  return f;
}

/** Decodes any non-zero canonical Fp12 value (finalExp input). */
export function decodeFp12(bytes: unknown, what = 'Fp12 value'): Gt {
  return fp12FromCoeffs(parseFp12(bytes, what));
}

/** frob_i(g) with the sign (-1)^i folded in: the base for digit i. */
function splitBase(g: Gt, i: number): Gt {
  const f = F12.frobeniusMap(g, i);
  return i % 2 === 1 ? F12.conjugate(f) : f;
}

/** Selects table[digit] touching every entry (no digit-indexed memory access). */
function select(table: readonly Gt[], digit: number): Gt {
  let sel = table[0]!;
  for (let j = 1; j < table.length; j++) sel = j === digit ? table[j]! : sel;
  return sel;
}

function digitAt(d: bigint, w: number): number {
  return Number((d >> BigInt(w * WINDOW)) & BigInt(TABLE - 1));
}

/** g^k for g of order r, 1 <= k < r. */
export function gtPowSplit(g: Gt, k: bigint): Gt {
  const digits = splitScalar(k);
  const tables: Gt[][] = [];
  for (let i = 0; i < 4; i++) {
    const b = splitBase(g, i);
    const t: Gt[] = [F12.ONE, b];
    for (let j = 2; j < TABLE; j++) t.push(j % 2 === 0 ? F12._cyclotomicSquare(t[j / 2]!) : F12.mul(t[j - 1]!, b));
    tables.push(t);
  }
  let acc = F12.ONE;
  for (let w = WINDOWS - 1; w >= 0; w--) {
    if (w !== WINDOWS - 1) for (let s = 0; s < WINDOW; s++) acc = F12._cyclotomicSquare(acc);
    for (let i = 0; i < 4; i++) acc = F12.mul(acc, select(tables[i]!, digitAt(digits[i]!, w)));
  }
  return acc;
}

/** Fixed-base table for g of order r: rows[w][j] = g^(j·16^w). */
export class GtFixedTable {
  private rows: Gt[][] | undefined;

  constructor(g: Gt) {
    const rows: Gt[][] = [];
    let base = g;
    for (let w = 0; w < WINDOWS; w++) {
      const row: Gt[] = [F12.ONE, base];
      for (let j = 2; j < TABLE; j++) row.push(j % 2 === 0 ? F12._cyclotomicSquare(row[j / 2]!) : F12.mul(row[j - 1]!, base));
      rows.push(row);
      // next base = base^16
      base = F12._cyclotomicSquare(row[TABLE / 2]!);
    }
    this.rows = rows;
  }

  get freed(): boolean {
    return this.rows === undefined;
  }

  pow(k: bigint): Gt {
    const rows = this.rows;
    if (!rows) throw new EngineError('freed', 'GT table used after free()');
    const digits = splitScalar(k);
    let acc = F12.ONE;
    for (let i = 3; i >= 0; i--) {
      let a = F12.ONE;
      for (let w = 0; w < WINDOWS; w++) a = F12.mul(a, select(rows[w]!, digitAt(digits[i]!, w)));
      // acc holds g^(d_{i+1} + d_{i+2}|z| + …); raising by |z| is one Frobenius and a conjugate
      acc = F12.mul(splitBase(acc, 1), a);
    }
    return acc;
  }

  free(): void {
    this.rows = undefined;
  }
}
