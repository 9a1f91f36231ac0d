// Fixed-base tables on mcl operations for the wasm backend (mcl-wasm offers none).
//
// * G1: rows[w][j-1] = j·16^w·B (64 windows of 4 bits, j = 1..15), normalised to affine so
//   every addition is a mixed one; [k]B is then at most 64 additions and no doublings.
// * GT: the 4-dimensional Frobenius split used by the ts backend: p ≡ z (mod r), so for g of
//   order r, g^p = g^z and k = d0 + d1·|z| + d2·|z|² + d3·|z|³ (0 <= di < 2^64) gives
//   g^k = Π (frob^i(g) conjugated for odd i)^(di). The table holds g^(j·16^w) for the 16
//   windows of a 64-bit digit; a power is ~64 Fp12 multiplications and 3 Frobenius maps.
// Both look up entries by secret digits (variable memory access) and mcl's group law branches:
// the wasm tier is not side-channel hardened (design/security.md); the native tier is.
import { R, bytesToBigint } from '../scalar.js';
import type { Frame, McLRaw } from './mcl.js';
import { FP_SIZE, G1_SIZE, GT_SIZE } from './mcl.js';
import { frobenius } from './gt.js';
import { WasmBuffer } from './handles.js';
import { splitScalar } from '../gt-split.js';

const WINDOW = 4;
const ENTRIES = (1 << WINDOW) - 1; // j = 1..15; digit 0 adds nothing

/** Nibble w (0 = least significant) of a 32-octet big-endian scalar. */
function nibble(k: Uint8Array, w: number): number {
  const byte = k[31 - (w >> 1)]!;
  return w & 1 ? byte >> 4 : byte & 15;
}

export class G1FixedTable {
  private readonly buf: WasmBuffer;
  static readonly WINDOWS = 64;

  /** base: pointer to a validated, non-identity G1 point (in a live frame). */
  constructor(
    private readonly m: McLRaw,
    f: Frame,
    base: number,
  ) {
    const n = G1FixedTable.WINDOWS * ENTRIES;
    this.buf = new WasmBuffer(m, n * G1_SIZE, 'G1 table');
    const tmp = m._malloc(n * G1_SIZE);
    try {
      const b = f.alloc(G1_SIZE);
      m.HEAP8.copyWithin(b, base, base + G1_SIZE);
      for (let w = 0; w < G1FixedTable.WINDOWS; w++) {
        const row = tmp + w * ENTRIES * G1_SIZE;
        m.HEAP8.copyWithin(row, b, b + G1_SIZE);
        for (let j = 1; j < ENTRIES; j++) m._mclBnG1_add(row + j * G1_SIZE, row + (j - 1) * G1_SIZE, b);
        // next base = 16·b = 2·(8·b)
        m._mclBnG1_dbl(b, row + 7 * G1_SIZE);
      }
      m._mclBnG1_normalizeVec(this.buf.ptr, tmp, n);
    } finally {
      m._free(tmp);
    }
  }

  get freed(): boolean {
    return this.buf.freed;
  }

  /** out = [k]B; k already validated (32 octets, 1 <= k < r). */
  mul(out: number, k: Uint8Array): void {
    const t = this.buf.ptr;
    const m = this.m;
    m._mclBnG1_clear(out);
    for (let w = 0; w < G1FixedTable.WINDOWS; w++) {
      const d = nibble(k, w);
      if (d !== 0) m._mclBnG1_add(out, out, t + (w * ENTRIES + d - 1) * G1_SIZE);
    }
  }

  free(): void {
    this.buf.free();
  }
}

/** |z| for BLS12-381. */
const DIGIT_WINDOWS = 16; // 16 windows of 4 bits cover a 64-bit digit

/** Conjugates the Fp12 at p in place (negates the w coefficient, an Fp6). */
export function conjugate(m: McLRaw, p: number): void {
  for (let i = 6; i < 12; i++) m._mclBnFp_neg(p + i * FP_SIZE, p + i * FP_SIZE);
}

export class GtFixedTable {
  private readonly buf: WasmBuffer;

  /** g: pointer to a GT element of order r (in a live frame). */
  constructor(
    private readonly m: McLRaw,
    f: Frame,
    g: number,
  ) {
    this.buf = new WasmBuffer(m, DIGIT_WINDOWS * ENTRIES * GT_SIZE, 'GT table');
    const t = this.buf.ptr;
    const b = f.alloc(GT_SIZE);
    m.HEAP8.copyWithin(b, g, g + GT_SIZE);
    for (let w = 0; w < DIGIT_WINDOWS; w++) {
      const row = t + w * ENTRIES * GT_SIZE;
      m.HEAP8.copyWithin(row, b, b + GT_SIZE);
      for (let j = 1; j < ENTRIES; j++) m._mclBnGT_mul(row + j * GT_SIZE, row + (j - 1) * GT_SIZE, b);
      m._mclBnGT_mul(b, row + 7 * GT_SIZE, row + 7 * GT_SIZE); // b^16 = (b^8)^2
    }
  }

  get freed(): boolean {
    return this.buf.freed;
  }

  /** out = g^k; k already validated. */
  pow(f: Frame, out: number, k: Uint8Array): void {
    const m = this.m;
    const t = this.buf.ptr;
    const digits = splitScalar(bytesToBigint(k) % R);
    const a = f.allocSecret(GT_SIZE);
    const tmp = f.allocSecret(GT_SIZE);
    m._mclBnGT_setInt32(out, 1);
    for (let i = 3; i >= 0; i--) {
      const d = digits[i]!;
      m._mclBnGT_setInt32(a, 1);
      for (let w = 0; w < DIGIT_WINDOWS; w++) {
        const j = Number((d >> BigInt(w * WINDOW)) & 15n);
        if (j !== 0) m._mclBnGT_mul(a, a, t + (w * ENTRIES + j - 1) * GT_SIZE);
      }
      // out holds g^(d_{i+1} + d_{i+2}|z| + …); raising it to |z| is a Frobenius and a conjugate
      frobenius(m, f, tmp, out);
      conjugate(m, tmp);
      m._mclBnGT_mul(out, tmp, a);
    }
  }

  free(): void {
    this.buf.free();
  }
}
