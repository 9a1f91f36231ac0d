// util/bytes-key.ts: the cache key of public octets is one char per octet, so two keys are
// equal exactly when the octets are (checked against Buffer's latin1 decoding, an independent
// route, at every length class including the chunked one), and it refuses what is not octets.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesKey } from '../src/util/bytes-key.js';

describe('bytesKey', () => {
  it('is the octets as char codes 0-255, for short, long and chunked inputs', () => {
    for (const n of [0, 1, 35, 64, 65, 4095, 4096, 4097, 10_000]) {
      const b = new Uint8Array(randomBytes(n));
      const k = bytesKey(b);
      expect(k.length).toBe(n);
      expect(k).toBe(Buffer.from(b).toString('latin1'));
      expect(bytesKey(b.slice())).toBe(k); // a copy gives the same key
    }
  });

  it('gives different keys for different octets (a one-bit change, a prefix, views)', () => {
    const b = new Uint8Array(randomBytes(48));
    const seen = new Set([bytesKey(b)]);
    for (let i = 0; i < b.length; i++) {
      const c = b.slice();
      c[i]! ^= 1 << (i % 8);
      seen.add(bytesKey(c));
    }
    seen.add(bytesKey(b.subarray(0, 47)));
    seen.add(bytesKey(b.subarray(1)));
    expect(seen.size).toBe(b.length + 3);
  });

  it('refuses anything but a Uint8Array', () => {
    for (const v of ['ab', [1, 2], undefined, new Uint16Array(2)]) expect(() => bytesKey(v as Uint8Array)).toThrow(TypeError);
  });
});
