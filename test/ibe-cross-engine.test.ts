// IBE across engines: ciphertexts made by one engine (random rho, fresh KMS per run) decrypt on
// every other engine, in every direction; a private key extracted on one engine passes the key
// check on the others; a tampered ciphertext is refused everywhere.
import { describe, expect, it } from 'vitest';
import { createContext, extract, identityBytes, IbeError, setup } from '../src/ibe/index.js';
import { availableEngines } from './helpers/engines.js';

const engines = await availableEngines();
const enc = new TextEncoder();

describe.runIf(engines.length > 1)(`IBE between engines [${engines.map((e) => e.name).join(', ')}]`, () => {
  it('every (encrypting engine, decrypting engine) pair round-trips; tamper rejected everywhere', async () => {
    const { master, params } = await setup('bls12381-bf', engines[0]);
    const id = identityBytes('sip:cross@example.org', '2026-11-28', 'month');
    const keys = await Promise.all(engines.map((e) => extract(master, params, id, e)));
    for (const k of keys) expect(Buffer.from(k).equals(Buffer.from(keys[0]!))).toBe(true); // extraction is bit-identical
    const ctxs = await Promise.all(engines.map((e) => createContext(params, e)));
    try {
      for (const [i, from] of ctxs.entries()) {
        const m = enc.encode(`made by ${engines[i]!.name}`);
        const ct = await from.encryptTo(id, m);
        const bad = Uint8Array.from(ct);
        bad[bad.length >> 1] = bad[bad.length >> 1]! ^ 0x40;
        for (const [j, to] of ctxs.entries()) {
          expect(await to.verifyPrivateKey(id, keys[i]!)).toBe(true);
          expect(Buffer.from(await to.decryptWith(keys[j]!, ct)).toString()).toBe(`made by ${engines[i]!.name}`);
          await expect(to.decryptWith(keys[j]!, bad)).rejects.toBeInstanceOf(IbeError);
        }
      }
    } finally {
      for (const c of ctxs) c.close();
      master.fill(0);
    }
  });
});
