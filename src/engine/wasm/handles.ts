// Precompute handles of the wasm backend: persistent wasm-heap buffers (outside the per-call
// stack frames) with explicit free() and a FinalizationRegistry safety net, so a forgotten
// handle does not leak wasm memory forever. After free(), every use throws EngineError('freed').
import { EngineError } from '../errors.js';
import type { McLRaw } from './mcl.js';

interface Held {
  m: McLRaw;
  ptr: number;
  size: number;
}

const registry = new FinalizationRegistry<Held>(({ m, ptr, size }) => {
  new Uint8Array(m.HEAP8.buffer, ptr, size).fill(0);
  m._free(ptr);
});

/** One malloc'd region owned by a handle object. */
export class WasmBuffer {
  private ptrValue: number;
  private readonly token = {};

  constructor(
    private readonly m: McLRaw,
    readonly size: number,
    private readonly kind: string,
  ) {
    this.ptrValue = m._malloc(size);
    if (this.ptrValue === 0) throw new Error(`wasm allocation of ${size} octets failed`);
    registry.register(this, { m, ptr: this.ptrValue, size }, this.token);
  }

  /** The buffer address; EngineError('freed') after free(). */
  get ptr(): number {
    if (this.ptrValue === 0) throw new EngineError('freed', `${this.kind} used after free()`);
    return this.ptrValue;
  }

  get freed(): boolean {
    return this.ptrValue === 0;
  }

  /** Zeroes and releases the memory now. Idempotent. */
  free(): void {
    if (this.ptrValue === 0) return;
    registry.unregister(this.token);
    new Uint8Array(this.m.HEAP8.buffer, this.ptrValue, this.size).fill(0);
    this.m._free(this.ptrValue);
    this.ptrValue = 0;
  }
}
