// src/util/byte-slab.ts: arrays carved from shared slabs behave like `new Uint8Array(n)` —
// plain Uint8Array, zero-filled, of the asked length, never overlapping another live array
// (writing one leaves every other as it was, across slab boundaries), slice() a real copy —
// small ones stay V8 heap arrays and large ones get buffers of their own; copyBytes copies
// exactly the range and refuses a range outside its source.
import { describe, expect, it } from 'vitest';
import { copyBytes, freshBytes, MAX_SLAB_ARRAY } from '../src/util/byte-slab.js';

describe('freshBytes', () => {
  it('gives zero-filled plain Uint8Arrays of the asked length, small and large ones of their own', () => {
    for (const n of [0, 1, 64, 65, 100, 1000, MAX_SLAB_ARRAY, MAX_SLAB_ARRAY + 1, 10_000]) {
      const a = freshBytes(n);
      expect(a.constructor).toBe(Uint8Array);
      expect(a.length).toBe(n);
      expect(a.every((x) => x === 0)).toBe(true);
      const own = n <= 64 || n > MAX_SLAB_ARRAY;
      expect(a.byteOffset === 0 && a.buffer.byteLength === n).toBe(own);
    }
  });

  it('never hands out an octet twice: 3 000 live arrays over many slabs keep their own contents', () => {
    const live: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      const a = freshBytes(65 + ((i * 37) % 700));
      expect(a.every((x) => x === 0)).toBe(true); // nothing written before shows through
      a.fill((i % 255) + 1);
      live.push(a);
    }
    live.forEach((a, i) => expect(a.every((x) => x === (i % 255) + 1)).toBe(true));
    // slab views are aligned like buffers of their own
    expect(live.every((a) => a.byteOffset % 8 === 0)).toBe(true);
  });

  it('slice() of a slab array is a copy, not a view of the slab', () => {
    const a = freshBytes(200);
    const b = a.slice();
    b[0] = 9;
    expect(a[0]).toBe(0);
    expect(b.buffer).not.toBe(a.buffer);
  });
});

describe('copyBytes', () => {
  const src = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) & 0xff);

  it('copies exactly the range, whole by default, into fresh storage', () => {
    for (const [s, e] of [[0, 3000], [0, 0], [5, 69], [10, 74], [10, 75], [100, 2148], [0, 2049], [2999, 3000]] as const) {
      const c = copyBytes(src, s, e);
      expect(Array.from(c)).toEqual(Array.from(src.subarray(s, e)));
      c.fill(0);
      expect(src[s]).toBe((s * 7 + 3) & 0xff); // the source is untouched
    }
    expect(Array.from(copyBytes(src.subarray(0, 70)))).toEqual(Array.from(src.subarray(0, 70)));
    const small = Uint8Array.of(1, 2, 3);
    expect(Array.from(copyBytes(small, 1))).toEqual([2, 3]);
  });

  it('copies a Buffer too (whose own slice() would be a view)', () => {
    const b = Buffer.from(src.subarray(0, 300));
    const c = copyBytes(b);
    b.fill(0);
    expect(c.constructor).toBe(Uint8Array);
    expect(Array.from(c)).toEqual(Array.from(src.subarray(0, 300)));
  });

  it('refuses a range outside its source', () => {
    for (const [s, e] of [[-1, 3], [0, 3001], [5, 4], [0.5, 3], [0, Number.NaN]] as const) {
      expect(() => copyBytes(src, s, e)).toThrow(RangeError);
    }
  });
});
