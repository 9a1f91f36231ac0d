// src/mikey/hmac-sha256.ts against node:crypto (OpenSSL) on random keys and messages of every
// length around the block and padding boundaries, split into parts at random, plus the RFC 4231
// test case 2 vector.
import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha256Key, hmacSha256, sha256 } from '../src/mikey/hmac-sha256.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
function split(m: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let i = 0;
  while (i < m.length) {
    const n = randomInt(0, m.length - i + 1);
    parts.push(m.subarray(i, i + n));
    i += n;
    if (n === 0 && parts.length > 4) break;
  }
  if (i < m.length) parts.push(m.subarray(i));
  return parts;
}

describe('HMAC-SHA-256 / SHA-256 in JavaScript', () => {
  it('RFC 4231 test case 2', () => {
    const mac = hmacSha256(new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want for nothing?'));
    expect(hex(mac)).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
  it('SHA-256 equals node:crypto for every length 0..300, in random parts', () => {
    for (let len = 0; len <= 300; len++) {
      const m = new Uint8Array(randomBytes(len));
      expect(hex(sha256(...split(m)))).toBe(createHash('sha256').update(m).digest('hex'));
    }
  });
  it('HMAC equals node:crypto for keys of 0..150 octets and messages of 0..200, reusing keys', () => {
    for (let i = 0; i < 400; i++) {
      const key = new Uint8Array(randomBytes(randomInt(0, 151)));
      const k = new HmacSha256Key(key);
      for (let j = 0; j < 3; j++) {
        const m = new Uint8Array(randomBytes(randomInt(0, 201)));
        expect(hex(k.mac(...split(m)))).toBe(createHmac('sha256', key).update(m).digest('hex'));
      }
      k.wipe();
    }
  });
});
