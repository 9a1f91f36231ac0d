// Loads mcl-wasm once, configured for this project's profile, and exposes its raw C API
// (pointer-level mclBn* functions) with types. We bypass mcl-wasm's object wrappers because they
// copy every value through the JS heap on each call and do not expose what we need: per-call
// DST hashing, the mulCT scalar multiplications, generic GT pow and the precomputed G2 lines.
//
// Profile: curve BLS12-381, ETH (= ZCash) point serialisation, RFC 9380 map-to mode (IRTF),
// and the automatic subgroup check on deserialisation switched off — the engine does that check
// itself so that it can name the failing step (not-on-curve vs not-in-subgroup).
import { createRequire } from 'node:module';
import { EngineError } from '../errors.js';

/** Byte sizes of mcl's in-memory values for BLS12-381 (Montgomery form, Jacobian points). */
export const FR_SIZE = 32;
export const FP_SIZE = 48;
export const FP2_SIZE = 96;
export const G1_SIZE = 3 * FP_SIZE;
export const G2_SIZE = 3 * FP2_SIZE;
export const GT_SIZE = 12 * FP_SIZE;

/** mcl's ioMode for the uncompressed affine serialisation (IoEcAffineSerialize). */
export const IO_EC_AFFINE_SERIALIZE = 1 << 12;

type Ptr = number;

/** The subset of mcl's exported C functions this backend uses. Pointers are wasm addresses. */
export interface McLRaw {
  readonly HEAP8: Int8Array;
  readonly HEAP32: Int32Array;
  _malloc(n: number): Ptr;
  _free(p: Ptr): void;
  stackSave(): number;
  stackAlloc(n: number): Ptr;
  stackRestore(sp: number): void;

  _mclBnFr_setBigEndianMod(x: Ptr, buf: Ptr, n: number): number;
  _mclBnFp_setBigEndianMod(x: Ptr, buf: Ptr, n: number): number;
  _mclBnFp_setInt32(x: Ptr, v: number): void;
  _mclBnFp_neg(y: Ptr, x: Ptr): void;
  _mclBnFp2_mul(z: Ptr, x: Ptr, y: Ptr): void;

  _mclBnG1_deserialize(x: Ptr, buf: Ptr, n: number): number;
  _mclBnG1_serialize(buf: Ptr, max: number, x: Ptr): number;
  _mclBnG1_setStr(x: Ptr, buf: Ptr, n: number, ioMode: number): number;
  _mclBnG1_getStr(buf: Ptr, max: number, x: Ptr, ioMode: number): number;
  _mclBnG1_isValid(x: Ptr): number;
  _mclBnG1_isValidOrder(x: Ptr): number;
  _mclBnG1_isZero(x: Ptr): number;
  _mclBnG1_normalize(y: Ptr, x: Ptr): void;
  _mclBnG1_add(z: Ptr, x: Ptr, y: Ptr): void;
  _mclBnG1_dbl(y: Ptr, x: Ptr): void;
  _mclBnG1_clear(x: Ptr): void;
  _mclBnG1_mulCT(z: Ptr, x: Ptr, k: Ptr): void;
  _mclBnG1_hashAndMapToWithDst(x: Ptr, msg: Ptr, msgLen: number, dst: Ptr, dstLen: number): number;
  _mclBnG1_normalizeVec(y: Ptr, x: Ptr, n: number): void;

  _mclBnG2_deserialize(x: Ptr, buf: Ptr, n: number): number;
  _mclBnG2_serialize(buf: Ptr, max: number, x: Ptr): number;
  _mclBnG2_setStr(x: Ptr, buf: Ptr, n: number, ioMode: number): number;
  _mclBnG2_getStr(buf: Ptr, max: number, x: Ptr, ioMode: number): number;
  _mclBnG2_isValid(x: Ptr): number;
  _mclBnG2_isValidOrder(x: Ptr): number;
  _mclBnG2_isZero(x: Ptr): number;
  _mclBnG2_add(z: Ptr, x: Ptr, y: Ptr): void;
  _mclBnG2_mulCT(z: Ptr, x: Ptr, k: Ptr): void;
  _mclBnG2_hashAndMapToWithDst(x: Ptr, msg: Ptr, msgLen: number, dst: Ptr, dstLen: number): number;

  _mclBnGT_deserialize(x: Ptr, buf: Ptr, n: number): number;
  _mclBnGT_serialize(buf: Ptr, max: number, x: Ptr): number;
  _mclBnGT_isEqual(x: Ptr, y: Ptr): number;
  _mclBnGT_isOne(x: Ptr): number;
  _mclBnGT_isZero(x: Ptr): number;
  _mclBnGT_setInt32(x: Ptr, v: number): void;
  _mclBnGT_mul(z: Ptr, x: Ptr, y: Ptr): void;
  _mclBnGT_pow(z: Ptr, x: Ptr, k: Ptr): void;
  _mclBnGT_powGeneric(z: Ptr, x: Ptr, k: Ptr): void;

  _mclBn_pairing(z: Ptr, p: Ptr, q: Ptr): void;
  _mclBn_millerLoop(z: Ptr, p: Ptr, q: Ptr): void;
  _mclBn_finalExp(y: Ptr, x: Ptr): void;
  _mclBn_getUint64NumToPrecompute(): number;
  _mclBn_precomputeG2(qbuf: Ptr, q: Ptr): void;
  _mclBn_precomputedMillerLoop(f: Ptr, p: Ptr, qbuf: Ptr): void;
}

interface McLModule {
  init(curve: number): Promise<void>;
  BLS12_381: number;
  IRTF: number;
  setETHserialization(on: boolean): void;
  setMapToMode(mode: number): void;
  verifyOrderG1(on: boolean): void;
  verifyOrderG2(on: boolean): void;
  mod: McLRaw;
}

let loading: Promise<McLRaw> | undefined;

async function load(): Promise<McLRaw> {
  let m: McLModule;
  try {
    const require = createRequire(import.meta.url);
    m = require('mcl-wasm') as McLModule;
  } catch (e) {
    throw new EngineError('unavailable', `mcl-wasm is not installed: ${(e as Error).message}`);
  }
  try {
    await m.init(m.BLS12_381);
    m.setETHserialization(true);
    m.setMapToMode(m.IRTF);
    m.verifyOrderG1(false);
    m.verifyOrderG2(false);
  } catch (e) {
    throw new EngineError('unavailable', `mcl-wasm failed to initialise: ${(e as Error).message}`);
  }
  const raw = m.mod;
  const needed: (keyof McLRaw)[] = [
    '_mclBnG1_hashAndMapToWithDst',
    '_mclBnG2_hashAndMapToWithDst',
    '_mclBnG1_mulCT',
    '_mclBnG2_mulCT',
    '_mclBnGT_powGeneric',
    '_mclBn_precomputeG2',
  ];
  for (const f of needed) {
    if (typeof raw[f] !== 'function') throw new EngineError('unavailable', `mcl-wasm lacks ${String(f)}`);
  }
  return raw;
}

/** The initialised mcl module (shared by the whole process; loaded on first use). */
export function loadMcl(): Promise<McLRaw> {
  if (!loading) {
    loading = load();
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

/** Buffers larger than this go to the wasm heap instead of the (1 MiB) wasm stack. */
const STACK_LIMIT = 16 * 1024;

/**
 * Scratch memory for one engine call: small buffers on the wasm stack, large ones (long hash
 * messages) on the wasm heap. Everything is released when the frame ends (withFrame), after the
 * regions marked secret are zeroed.
 */
export class Frame {
  private readonly wipes: [Ptr, number][] = [];
  private readonly heap: Ptr[] = [];
  constructor(private readonly m: McLRaw) {}
  alloc(n: number): Ptr {
    if (n > STACK_LIMIT) {
      const p = this.m._malloc(n);
      if (p === 0) throw new RangeError(`wasm heap allocation of ${n} octets failed`);
      this.heap.push(p);
      return p;
    }
    return this.m.stackAlloc((n + 15) & ~15);
  }
  /** Allocates n bytes that are zeroed when the frame ends (scalars, secret intermediates). */
  allocSecret(n: number): Ptr {
    const p = this.alloc(n);
    this.wipes.push([p, n]);
    return p;
  }
  /** Copies bytes into a fresh buffer. */
  put(bytes: Uint8Array, secret = false): Ptr {
    const n = Math.max(bytes.length, 1);
    const p = secret ? this.allocSecret(n) : this.alloc(n);
    new Uint8Array(this.m.HEAP8.buffer, p, bytes.length).set(bytes);
    return p;
  }
  /** Zeroes the secret regions and frees heap buffers (called once, by withFrame). */
  release(): void {
    for (const [p, n] of this.wipes) new Uint8Array(this.m.HEAP8.buffer, p, n).fill(0);
    this.wipes.length = 0;
    for (const p of this.heap) this.m._free(p);
    this.heap.length = 0;
  }
}

/**
 * Bytes of wasm stack below a frame that are zeroed when it ends. mcl keeps its temporaries
 * (field elements of a scalar multiplication, the pairing value of an IBE decryption, …) on
 * the wasm stack below our frame; the deepest operation measured uses ~28 KiB (GT pow, G2 mul).
 */
export const STACK_SCRUB = 64 * 1024;

/**
 * Runs fn with a fresh Frame. Afterwards — also on a throw — the secret regions are zeroed, heap
 * buffers freed, the STACK_SCRUB bytes below the frame (our buffers and mcl's temporaries) zeroed
 * and the wasm stack pointer restored.
 */
export function withFrame<T>(m: McLRaw, fn: (f: Frame) => T): T {
  const sp = m.stackSave();
  const f = new Frame(m);
  try {
    return fn(f);
  } finally {
    f.release();
    m.stackRestore(sp);
    m.HEAP8.fill(0, Math.max(0, sp - STACK_SCRUB), sp);
  }
}

/** Copies n bytes out of wasm memory. */
export function readBytes(m: McLRaw, p: Ptr, n: number): Uint8Array {
  return new Uint8Array(m.HEAP8.buffer, p, n).slice();
}

/** A view on wasm memory (valid until the next call that may grow memory). */
export function view(m: McLRaw, p: Ptr, n: number): Uint8Array {
  return new Uint8Array(m.HEAP8.buffer, p, n);
}
