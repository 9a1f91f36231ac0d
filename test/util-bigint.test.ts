// src/util/bigint.ts against the plain definition (a per-octet shift loop), random and edge values;
// publicU256At against it at every offset of views into larger buffers, and its range checks.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, bytesToBigint, publicU256At } from '../src/util/bigint.js';

function refToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = v * 256n + BigInt(x);
  return v;
}

describe('bigint <-> big-endian octets', () => {
  it('agrees with the definition on random inputs of every length 0..80, and round-trips', () => {
    for (let len = 0; len <= 80; len++) {
      for (let i = 0; i < 20; i++) {
        const b = new Uint8Array(randomBytes(len));
        if (i === 0 && len) b[0] = 0; // leading zero octets
        const v = bytesToBigint(b);
        expect(v).toBe(refToBig(b));
        expect(Buffer.from(bigintToBytes(v, len))).toEqual(Buffer.from(b));
        expect(bytesToBigint(bigintToBytes(v, len + 3))).toBe(v);
      }
    }
  });
  it('handles zero, subarrays and rejects what does not fit', () => {
    expect(bytesToBigint(new Uint8Array(0))).toBe(0n);
    expect(Buffer.from(bigintToBytes(0n, 4))).toEqual(Buffer.alloc(4));
    const big = Uint8Array.of(9, 1, 2, 3, 9);
    expect(bytesToBigint(big.subarray(1, 4))).toBe(0x010203n);
    expect(() => bigintToBytes(256n, 1)).toThrow(RangeError);
    expect(() => bigintToBytes(-1n, 8)).toThrow(RangeError);
    expect(Buffer.from(bigintToBytes(255n, 1))).toEqual(Buffer.from([255]));
    expect(Buffer.from(bigintToBytes(0x10n, 2))).toEqual(Buffer.from([0, 0x10]));
  });
});

describe('publicU256At', () => {
  it('reads the 32 octets at any offset of an array (or a view) of more than 64 octets', () => {
    for (let i = 0; i < 200; i++) {
      const whole = new Uint8Array(randomBytes(120));
      if (i % 10 === 0) whole.fill(0xff, 20, 60);
      const view = whole.subarray(i % 7, (i % 7) + 65 + (i % 30)); // a P-256 point's 65 octets, or more
      for (const off of [0, 1, 33, view.length - 32]) expect(publicU256At(view, off)).toBe(refToBig(view.subarray(off, off + 32)));
    }
  });
  it('refuses small arrays and octets outside the array (even inside its buffer)', () => {
    expect(() => publicU256At(new Uint8Array(64), 0)).toThrow(RangeError);
    const view = new Uint8Array(200).subarray(0, 65);
    expect(() => publicU256At(view, 34)).toThrow(RangeError);
    expect(() => publicU256At(view, -1)).toThrow(RangeError);
    expect(() => publicU256At(view, 1.5)).toThrow(RangeError);
  });
});
