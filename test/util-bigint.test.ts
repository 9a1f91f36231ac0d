// src/util/bigint.ts against the plain definition (a per-octet shift loop), random and edge values.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, bytesToBigint } from '../src/util/bigint.js';

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
