// G1/G2 elements and scalars moving between the engine's byte forms and mcl's wasm memory,
// with full validation in the contract's order. The byte-level part (type, length, flags,
// infinity, coordinates < p) is ../encoding.ts, shared with the other backends; then mcl decodes
// the point (failure = 'not-on-curve': no square root for a compressed x, or an uncompressed
// (x, y) off the curve) and checks the order ('not-in-subgroup').
import { EngineError } from '../errors.js';
import { infinityEncoding, parseG1, parseG2 } from '../encoding.js';
import { checkScalar } from '../scalar.js';
import {
  G1_COMPRESSED,
  G1_UNCOMPRESSED,
  G2_COMPRESSED,
  G2_UNCOMPRESSED,
  SCALAR_BYTES,
  type Bytes,
} from '../types.js';
import { FR_SIZE, G1_SIZE, G2_SIZE, IO_EC_AFFINE_SERIALIZE, readBytes, type Frame, type McLRaw } from './mcl.js';

/** Decodes and fully validates a G1 element into a fresh frame slot; returns its pointer. */
export function loadG1(m: McLRaw, f: Frame, bytes: unknown, what = 'G1 point'): number {
  const fields = parseG1(bytes, what);
  const b = bytes as Uint8Array;
  const p = f.alloc(G1_SIZE);
  const buf = f.put(b);
  const ok = fields.compressed
    ? m._mclBnG1_deserialize(p, buf, G1_COMPRESSED) === G1_COMPRESSED
    : m._mclBnG1_setStr(p, buf, G1_UNCOMPRESSED, IO_EC_AFFINE_SERIALIZE) === 0;
  if (!ok || m._mclBnG1_isValid(p) !== 1) throw new EngineError('not-on-curve', `${what}: not on the curve`);
  if (m._mclBnG1_isValidOrder(p) !== 1) throw new EngineError('not-in-subgroup', `${what}: not in the prime-order subgroup`);
  return p;
}

/** Like loadG1 for G2 (96 or 192 octets). */
export function loadG2(m: McLRaw, f: Frame, bytes: unknown, what = 'G2 point'): number {
  const fields = parseG2(bytes, what);
  const b = bytes as Uint8Array;
  const p = f.alloc(G2_SIZE);
  const buf = f.put(b);
  const ok = fields.compressed
    ? m._mclBnG2_deserialize(p, buf, G2_COMPRESSED) === G2_COMPRESSED
    : m._mclBnG2_setStr(p, buf, G2_UNCOMPRESSED, IO_EC_AFFINE_SERIALIZE) === 0;
  if (!ok || m._mclBnG2_isValid(p) !== 1) throw new EngineError('not-on-curve', `${what}: not on the curve`);
  if (m._mclBnG2_isValidOrder(p) !== 1) throw new EngineError('not-in-subgroup', `${what}: not in the prime-order subgroup`);
  return p;
}

/** Encodes the G1 point at p (ZCash form; the identity gets its canonical infinity encoding). */
export function storeG1(m: McLRaw, f: Frame, p: number, compressed = true): Bytes {
  if (m._mclBnG1_isZero(p) === 1) return infinityEncoding('G1', compressed);
  const len = compressed ? G1_COMPRESSED : G1_UNCOMPRESSED;
  const buf = f.alloc(len + 16);
  const n = compressed
    ? m._mclBnG1_serialize(buf, len, p)
    : m._mclBnG1_getStr(buf, len + 16, p, IO_EC_AFFINE_SERIALIZE);
  if (n !== len) throw new Error(`mcl G1 serialisation returned ${n} octets`);
  return readBytes(m, buf, len);
}

export function storeG2(m: McLRaw, f: Frame, p: number, compressed = true): Bytes {
  if (m._mclBnG2_isZero(p) === 1) return infinityEncoding('G2', compressed);
  const len = compressed ? G2_COMPRESSED : G2_UNCOMPRESSED;
  const buf = f.alloc(len + 16);
  const n = compressed
    ? m._mclBnG2_serialize(buf, len, p)
    : m._mclBnG2_getStr(buf, len + 16, p, IO_EC_AFFINE_SERIALIZE);
  if (n !== len) throw new Error(`mcl G2 serialisation returned ${n} octets`);
  return readBytes(m, buf, len);
}

/**
 * Validates a scalar (Uint8Array, 32 octets, 1 <= k < r) and loads it into an mcl Fr slot that
 * the frame zeroes on exit. Returns the Fr pointer.
 */
export function loadScalar(m: McLRaw, f: Frame, k: unknown): number {
  checkScalar(k);
  const buf = f.put(k as Uint8Array, true);
  const fr = f.allocSecret(FR_SIZE);
  if (m._mclBnFr_setBigEndianMod(fr, buf, SCALAR_BYTES) !== 0) throw new Error('mcl rejected a checked scalar');
  return fr;
}

/** Loads a public constant (e.g. |z|, r-1) into an Fr slot. */
export function loadFrConstant(m: McLRaw, f: Frame, v: Uint8Array): number {
  const buf = f.put(v);
  const fr = f.alloc(FR_SIZE);
  if (m._mclBnFr_setBigEndianMod(fr, buf, v.length) !== 0) throw new Error('mcl rejected an Fr constant');
  return fr;
}
