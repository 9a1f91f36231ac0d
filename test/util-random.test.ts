// src/util/random.ts: pooled CSPRNG octets. Every draw is new (no 32-octet value repeats over
// many pool refills, including draws that straddle a refill), lengths are exact, the bits are
// balanced (a loose bound: a stuck or zeroed pool fails it), and bad lengths are refused.
// randomNonZeroU32 stays in [1, 2^32 − 2] and spreads over the whole range.
import { describe, expect, it } from 'vitest';
import { randomNonZeroU32, randomOctets } from '../src/util/random.js';

describe('randomOctets', () => {
  it('gives fresh values of the asked length across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const n = i % 3 === 0 ? 32 : i % 3 === 1 ? 16 : 33; // 33: draws straddle the 4 KiB boundary
      const b = randomOctets(n);
      expect(b).toBeInstanceOf(Uint8Array);
      expect(b.length).toBe(n);
      if (n === 32) {
        const h = Buffer.from(b).toString('hex');
        expect(seen.has(h)).toBe(false);
        seen.add(h);
      }
    }
    expect(seen.size).toBeGreaterThan(1600);
  });

  it('has balanced bits and no all-zero draws (a zeroed pool would show)', () => {
    let ones = 0;
    let total = 0;
    for (let i = 0; i < 3000; i++) {
      const b = randomOctets(32);
      expect(b.some((x) => x !== 0)).toBe(true);
      for (const x of b) for (let k = 0; k < 8; k++) ones += (x >> k) & 1;
      total += 256;
    }
    // 768000 bits: the standard deviation of the share of ones is about 0.00057
    expect(Math.abs(ones / total - 0.5)).toBeLessThan(0.005);
  });

  it('long requests bypass the pool; 0 gives an empty array; bad lengths throw', () => {
    expect(randomOctets(1000).length).toBe(1000);
    expect(randomOctets(0).length).toBe(0);
    for (const bad of [-1, 1.5, Number.NaN]) expect(() => randomOctets(bad)).toThrow(RangeError);
  });
});

describe('randomNonZeroU32', () => {
  it('gives integers in [1, 2^32 - 2], spread over the range, rarely repeating', () => {
    const seen = new Set<number>();
    const quarters = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const v = randomNonZeroU32();
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(1);
      expect(v).toBeLessThanOrEqual(0xfffffffe);
      seen.add(v);
      quarters[Math.floor(v / 2 ** 30)]!++;
    }
    expect(seen.size).toBeGreaterThan(3990); // 4000 draws from 2^32: a repeat is rare (p ≈ 0.002)
    for (const q of quarters) expect(q).toBeGreaterThan(850); // 1000 expected in each quarter
  });
});
