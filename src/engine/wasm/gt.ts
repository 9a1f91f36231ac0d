// GT / Fp12 values between the engine's 576-octet layout and mcl's wasm memory, and the GT
// membership checks, for the wasm backend.
//
// Layout: mcl stores Fp12 in the same tower order as DESIGN §3 (Fp12 = Fp6 + Fp6·w,
// Fp6 = Fp2 + Fp2·v + Fp2·v², Fp2 = Fp + Fp·u), but with ETH serialisation on it writes every Fp2
// as c1 ‖ c0. So mcl bytes ↔ canonical bytes = swapping the two 48-octet halves of each Fp2.
//
// Checks (same reasons, same order as the ts backend): canonical coefficients ('non-canonical'),
// non-zero ('not-in-subgroup', from ../encoding.ts), cyclotomic: f^(p^4)·f = f^(p^2)
// ('not-in-subgroup'), and for the full check order r: f^p = f^z (Scott's test, as blst's
// GT in_group; valid for cyclotomic f), then not the identity. mcl-wasm exports no Frobenius
// map, so it is built here from mcl's Fp2 multiplication and constants γ_i = ξ^(i(p-1)/6).
import { EngineError } from '../errors.js';
import { FP_BYTES, P, parseFp12 } from '../encoding.js';
import { bigintToBytes } from '../scalar.js';
import { GT_BYTES, type Bytes } from '../types.js';
import { FP2_SIZE, FP_SIZE, GT_SIZE, readBytes, view, type Frame, type McLRaw } from './mcl.js';
import { loadFrConstant } from './points.js';

/** |z| = 0xd201000000010000 (z is negative), as a big-endian Fr constant. */
const Z_ABS_BYTES = bigintToBytes(0xd201000000010000n, 8);

/** Swaps the two Fp halves of every Fp2 (canonical c0‖c1 ↔ mcl's ETH c1‖c0); an involution. */
export function swapFp2Halves(src: Uint8Array, dst: Uint8Array = new Uint8Array(GT_BYTES)): Uint8Array {
  for (let i = 0; i < 12; i += 2) {
    dst.set(src.subarray((i + 1) * FP_BYTES, (i + 2) * FP_BYTES), i * FP_BYTES);
    dst.set(src.subarray(i * FP_BYTES, (i + 1) * FP_BYTES), (i + 1) * FP_BYTES);
  }
  return dst;
}

// ---- Frobenius constants γ_i = ξ^(i(p-1)/6), ξ = 1 + u, computed once with bigints ----------
type F2 = [bigint, bigint];
const mod = (a: bigint): bigint => ((a % P) + P) % P;
function f2mul(a: F2, b: F2): F2 {
  return [mod(a[0] * b[0] - a[1] * b[1]), mod(a[0] * b[1] + a[1] * b[0])];
}
function f2pow(a: F2, e: bigint): F2 {
  let r: F2 = [1n, 0n];
  let b = a;
  while (e > 0n) {
    if (e & 1n) r = f2mul(r, b);
    b = f2mul(b, b);
    e >>= 1n;
  }
  return r;
}

/** Byte offset, inside mcl's Fp12, of the Fp2 coefficient of w^i (i = 0..5; w² = v). */
const W_OFFSET = [0, 3, 1, 4, 2, 5].map((slot) => slot * FP2_SIZE);

const constCache = new WeakMap<McLRaw, number>();

/** Pointer to γ_1..γ_5 (five mcl Fp2 values) in persistent wasm memory. */
function gammas(m: McLRaw): number {
  let ptr = constCache.get(m);
  if (ptr !== undefined) return ptr;
  ptr = m._malloc(5 * FP2_SIZE);
  const base = f2pow([1n, 1n], (P - 1n) / 6n);
  let g: F2 = [1n, 0n];
  const sp = m.stackSave();
  try {
    const buf = m.stackAlloc(FP_BYTES);
    for (let i = 1; i <= 5; i++) {
      g = f2mul(g, base);
      for (let h = 0; h < 2; h++) {
        view(m, buf, FP_BYTES).set(bigintToBytes(g[h]!, FP_BYTES));
        const dst = ptr + (i - 1) * FP2_SIZE + h * FP_SIZE;
        if (m._mclBnFp_setBigEndianMod(dst, buf, FP_BYTES) !== 0) throw new Error('mcl rejected a Frobenius constant');
      }
    }
  } finally {
    m.stackRestore(sp);
  }
  constCache.set(m, ptr);
  return ptr;
}

/** dst = src^p (dst and src distinct). */
export function frobenius(m: McLRaw, f: Frame, dst: number, src: number): void {
  const g = gammas(m);
  const tmp = f.alloc(FP2_SIZE);
  for (let i = 0; i < 6; i++) {
    const off = W_OFFSET[i]!;
    m.HEAP8.copyWithin(tmp, src + off, src + off + FP2_SIZE);
    m._mclBnFp_neg(tmp + FP_SIZE, tmp + FP_SIZE); // conjugate in Fp2
    if (i === 0) m.HEAP8.copyWithin(dst + off, tmp, tmp + FP2_SIZE);
    else m._mclBnFp2_mul(dst + off, tmp, g + (i - 1) * FP2_SIZE);
  }
}

/** f^(p^4)·f == f^(p^2): membership of the cyclotomic subgroup (f non-zero). */
export function isCyclotomic(m: McLRaw, f: Frame, x: number): boolean {
  const a = f.alloc(GT_SIZE);
  const b = f.alloc(GT_SIZE);
  frobenius(m, f, a, x);
  frobenius(m, f, b, a); // b = x^(p^2)
  frobenius(m, f, a, b);
  const c = f.alloc(GT_SIZE);
  frobenius(m, f, c, a); // c = x^(p^4)
  m._mclBnGT_mul(a, c, x);
  return m._mclBnGT_isEqual(a, b) === 1;
}

/** For cyclotomic x: order r iff x^p == x^z, i.e. x^p · x^|z| == 1. */
export function hasOrderR(m: McLRaw, f: Frame, x: number): boolean {
  const a = f.alloc(GT_SIZE);
  const b = f.alloc(GT_SIZE);
  frobenius(m, f, a, x);
  m._mclBnGT_powGeneric(b, x, loadFrConstant(m, f, Z_ABS_BYTES));
  m._mclBnGT_mul(a, a, b);
  return m._mclBnGT_isOne(a) === 1;
}

/** Loads any non-zero canonical Fp12 value (finalExp input); returns its pointer. */
export function loadFp12(m: McLRaw, f: Frame, bytes: unknown, what = 'Fp12 value'): number {
  parseFp12(bytes, what);
  const p = f.alloc(GT_SIZE);
  const buf = f.put(swapFp2Halves(bytes as Uint8Array));
  if (m._mclBnGT_deserialize(p, buf, GT_BYTES) !== GT_BYTES) {
    throw new EngineError('non-canonical', `${what}: rejected by mcl`);
  }
  return p;
}

/** Loads a GT operand: canonical, non-zero, cyclotomic. */
export function loadGtCyclotomic(m: McLRaw, f: Frame, bytes: unknown, what = 'GT value'): number {
  const p = loadFp12(m, f, bytes, what);
  if (!isCyclotomic(m, f, p)) throw new EngineError('not-in-subgroup', `${what}: not in the cyclotomic subgroup`);
  return p;
}

/** Full GT check: canonical, cyclotomic, order r, not the identity. */
export function loadGtFull(m: McLRaw, f: Frame, bytes: unknown, what = 'GT value'): number {
  const p = loadGtCyclotomic(m, f, bytes, what);
  if (!hasOrderR(m, f, p)) throw new EngineError('not-in-subgroup', `${what}: not of order r`);
  if (m._mclBnGT_isOne(p) === 1) throw new EngineError('identity', `${what}: the GT identity`);
  return p;
}

/** Encodes the Fp12 value at p in the canonical 576-octet layout. */
export function storeGt(m: McLRaw, f: Frame, p: number): Bytes {
  const buf = f.alloc(GT_BYTES);
  const n = m._mclBnGT_serialize(buf, GT_BYTES, p);
  if (n !== GT_BYTES) throw new Error(`mcl GT serialisation returned ${n} octets`);
  return swapFp2Halves(readBytes(m, buf, GT_BYTES));
}
