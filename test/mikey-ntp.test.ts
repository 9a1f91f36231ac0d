// NTP-UTC timestamps (src/mikey/ntp.ts), checked against independent facts: the Unix epoch is
// NTP second 2 208 988 800 (RFC 5905 §6), era 1 begins 2036-02-07T06:28:16Z, the fraction is
// ms·2^32/1000; round trips on both sides of the wrap; and the same values as the IBAKE layer's
// own byte-level converter (src/ibake/freshness.ts), written separately.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesU64, msToNtp64, ntp64ToMs, u64Bytes } from '../src/mikey/ntp.js';
import { ntpTime } from '../src/mikey/builders.js';
import { msToNtp, ntpToMs } from '../src/ibake/freshness.js';

const WRAP_MS = Date.UTC(2036, 1, 7, 6, 28, 16);

describe('NTP-UTC timestamps', () => {
  it('matches the published epoch offsets and fraction', () => {
    expect(msToNtp64(0)).toBe(2_208_988_800n << 32n);
    expect(msToNtp64(WRAP_MS)).toBe(0n);
    expect(msToNtp64(WRAP_MS - 1000) >> 32n).toBe(0xffffffffn);
    expect(msToNtp64(500) & 0xffffffffn).toBe(0x80000000n);
    expect(ntpTime(new Date(WRAP_MS + 250))).toBe(msToNtp64(WRAP_MS + 250));
  });

  it('round trips to the ms on both sides of the 2036 wrap (era closest to the reference)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000_000 }), fc.integer({ min: -3_000_000, max: 3_000_000 }), (ms, skew) => {
        expect(ntp64ToMs(msToNtp64(ms), ms + skew)).toBe(ms);
      }),
    );
    expect(ntp64ToMs(msToNtp64(WRAP_MS + 5), WRAP_MS - 60_000)).toBe(WRAP_MS + 5);
    expect(ntp64ToMs(msToNtp64(WRAP_MS - 5), WRAP_MS + 60_000)).toBe(WRAP_MS - 5);
  });

  it('agrees with the IBAKE layer byte converter, and u64Bytes/bytesU64 are inverse', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000_000 }), (ms) => {
        const b = u64Bytes(msToNtp64(ms));
        expect(b).toEqual(msToNtp(ms));
        expect(bytesU64(b)).toBe(msToNtp64(ms));
        expect(ntpToMs(b, ms)).toBe(ntp64ToMs(bytesU64(b), ms));
      }),
    );
  });

  it('u64Bytes/bytesU64 equal a DataView over random 64-bit values (they avoid one, see ntp.ts)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        const ref = new Uint8Array(8);
        new DataView(ref.buffer).setBigUint64(0, v);
        expect(u64Bytes(v)).toEqual(ref);
        expect(bytesU64(ref)).toBe(v);
        expect(bytesU64(new Uint8Array([0, ...ref]).subarray(1))).toBe(v); // a view at an offset
      }),
    );
    expect(() => u64Bytes(1n << 64n)).toThrow(RangeError);
    expect(() => u64Bytes(-1n)).toThrow(RangeError);
  });

  it('refuses out-of-range input', () => {
    expect(() => msToNtp64(-1)).toThrow(RangeError);
    expect(() => msToNtp64(Number.NaN)).toThrow(RangeError);
    expect(() => ntp64ToMs(1n << 64n, 0)).toThrow(RangeError);
    expect(() => bytesU64(new Uint8Array(7))).toThrow(RangeError);
  });
});
