// Bounded byte reader and growable writer for the MIKEY codec. Every read checks the bytes that
// remain before touching them and throws a MikeyError naming the field and offset, so decoders
// never read past the input, never loop without progress, and allocate only views of the input.
import { copyBytes } from '../util/byte-slab.js';
import { MikeyError, encodeError } from './errors.js';

export class Reader {
  readonly buf: Uint8Array;
  /** absolute offset of buf[0] in the outermost buffer, for error messages and spans */
  readonly base: number;
  pos = 0;
  constructor(buf: Uint8Array, base = 0) {
    this.buf = buf;
    this.base = base;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  /** absolute offset of the next byte */
  get at(): number {
    return this.base + this.pos;
  }
  need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new MikeyError(
        'MIKEY_TRUNCATED',
        this.at,
        `${what} needs ${n} byte(s) but only ${this.remaining} remain`,
      );
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    const v = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    this.pos += 4;
    return v;
  }
  /**
   * n bytes as a view of the reader's buffer. Decoders build their Reader over a private copy
   * of the input, so decoded fields never alias the caller's buffer (one copy, not one per field).
   */
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** a sub-reader over the next n bytes, consuming them */
  sub(n: number, what: string): Reader {
    this.need(n, what);
    const r = new Reader(this.buf.subarray(this.pos, this.pos + n), this.at);
    this.pos += n;
    return r;
  }
}

/**
 * Scratch buffers for Writers: allocating a fresh buffer per encode, and growing it for messages
 * over a few hundred octets, was about a quarter of encoding time. A Writer takes one (or makes
 * one) and result() copies the octets out, zeroes what was written (inner chains can hold an
 * SK) and gives the buffer back. Nested Writers (a KEMAC's inner chain) take different buffers.
 */
const SCRATCH_OCTETS = 4096;
const MAX_FREE = 8;
const free: Uint8Array[] = [];
/** A finished Writer's buffer (never written: the first write grows it). */
const FINISHED = new Uint8Array(0);

export class Writer {
  private buf = free.pop() ?? new Uint8Array(SCRATCH_OCTETS);
  length = 0;
  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = Math.max(this.buf.length * 2, SCRATCH_OCTETS);
    while (cap < this.length + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.length));
    this.release();
    this.buf = nb;
  }
  /** Zeroes what was written and returns a scratch-sized buffer to the free list. */
  private release(): void {
    this.buf.fill(0, 0, this.length);
    if (this.buf.length === SCRATCH_OCTETS && free.length < MAX_FREE) free.push(this.buf);
  }
  u8(v: number, what: string): void {
    checkUint(v, 0xff, what);
    this.grow(1);
    this.buf[this.length++] = v;
  }
  u16(v: number, what: string): void {
    checkUint(v, 0xffff, what);
    this.grow(2);
    this.buf[this.length++] = v >>> 8;
    this.buf[this.length++] = v & 0xff;
  }
  u32(v: number, what: string): void {
    checkUint(v, 0xffffffff, what);
    this.grow(4);
    this.buf[this.length++] = v >>> 24;
    this.buf[this.length++] = (v >>> 16) & 0xff;
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
  }
  bytes(b: Uint8Array, what: string): void {
    if (!(b instanceof Uint8Array)) throw encodeError(`${what} must be a Uint8Array`);
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** How many octets were written, without copying them out. The Writer is finished afterwards. */
  finishLength(): number {
    const n = this.length;
    this.release();
    this.buf = FINISHED;
    this.length = 0;
    return n;
  }
  /** The octets written (a new array: util/byte-slab.ts). The Writer is finished afterwards. */
  result(): Uint8Array {
    const out = copyBytes(this.buf, 0, this.length);
    this.release();
    this.buf = FINISHED;
    this.length = 0;
    return out;
  }
}

export function checkUint(v: unknown, max: number, what: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw encodeError(`${what} must be an integer in 0..${max}, got ${String(v)}`);
  }
}

export function checkBytes(v: unknown, what: string, maxLen = 0xffff, minLen = 0): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw encodeError(`${what} must be a Uint8Array`);
  if (v.length > maxLen || v.length < minLen) {
    throw encodeError(`${what} length must be in ${minLen}..${maxLen}, got ${v.length}`);
  }
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
