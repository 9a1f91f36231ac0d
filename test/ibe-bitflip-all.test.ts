// Every single-bit flip of a bls12381-bf ciphertext is rejected (IBE_DECRYPT_FAILED), checked
// exhaustively on the fastest available engine (the property test in ibe-bls12381.test.ts
// samples positions on every engine); the untouched ciphertext still decrypts afterwards.
import { describe, expect, it } from 'vitest';
import { createContext, extract, identityBytes, IbeError, setup } from '../src/ibe/index.js';
import { fastestEngine } from './helpers/engines.js';

const engine = await fastestEngine();

describe(`IBE ciphertext bit flips (engine ${engine.name})`, () => {
  it('rejects every one of them', async () => {
    const { master, params } = await setup('bls12381-bf', engine);
    const id = identityBytes('sip:flip@example.org', '2026-11-28', 'month');
    const key = await extract(master, params, id, engine);
    master.fill(0);
    const ctx = await createContext(params, engine);
    try {
      const m = new TextEncoder().encode('IDRi || ECCPTi || IDRr, about the size of an IBAKE plaintext');
      const ct = await ctx.encryptTo(id, m);
      // ts is slow: flip every bit of a prefix and every 7th bit of the rest there.
      const stride = engine.name === 'ts' ? 7 : 1;
      let accepted = 0;
      let tried = 0;
      for (let bit = 0; bit < ct.length * 8; bit += bit < 256 ? 1 : stride) {
        const bad = Uint8Array.from(ct);
        bad[bit >> 3] = bad[bit >> 3]! ^ (0x80 >> (bit & 7));
        tried++;
        try {
          await ctx.decryptWith(key, bad);
          accepted++;
        } catch (e) {
          expect(e).toBeInstanceOf(IbeError);
          expect((e as IbeError).code).toBe('IBE_DECRYPT_FAILED');
        }
      }
      expect(tried).toBeGreaterThan(0);
      expect(accepted).toBe(0);
      expect(Buffer.from(await ctx.decryptWith(key, ct)).equals(Buffer.from(m))).toBe(true);
    } finally {
      ctx.close();
      key.fill(0);
    }
  });
});
