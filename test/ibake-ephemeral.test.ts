// Ephemeral P-256 secrets are always 32 octets: node:crypto drops leading zero octets of the
// private key (about one key in 256), which once made a 31-octet secret reach the KDF inputs
// and the serialised state. 3000 draws miss such a key with probability about e^-11.7.
import { describe, expect, it } from 'vitest';
import { generateEphemeral, publicFromSecret } from '../src/ibake/ecdh.js';

describe('generateEphemeral', () => {
  it('always returns a 32-octet secret that matches its public point', () => {
    let short = 0;
    for (let i = 0; i < 3000; i++) {
      const e = generateEphemeral();
      expect(e.secret.length).toBe(32);
      if (e.secret[0] === 0) {
        short++;
        expect(Buffer.from(publicFromSecret(e.secret)).equals(Buffer.from(e.publicPoint))).toBe(true);
      }
    }
    expect(short).toBeGreaterThan(0); // the padded case was exercised
  });
});
