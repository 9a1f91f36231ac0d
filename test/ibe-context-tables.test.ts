// The recipient cache's deferred GT table: the first encryptions to a peer use a plain GT power
// with g_ID (on an engine with the fused core, Q_ID and g_ID come from one BfCore.recipient call),
// the table is built in the background from the third one on, and every encryption — plain,
// while building, and through the table — gives the bytes of the uncached reference path.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { encryptBlsWithRho, extractBls, setupBls } from '../src/ibe/bls12381/bf.js';
import { BlsContext } from '../src/ibe/bls12381/context.js';
import { identityBytes } from '../src/ibe/identity.js';
import type { BfCore, Engine } from '../src/engine/types.js';
import { availableEngines } from './helpers/engines.js';

/** The engine with gtPow / gtFixedBase calls counted. A fused encryption with the plain g_ID
 * (Engine.bfCore.encrypt, native) does the same plain power inside and counts as a gtPow; the
 * fused recipient entry (bfCore.recipient) counts as recipient, a plain pairing as pairing. */
function counting(e: Engine) {
  const n = { gtPow: 0, gtFixedBase: 0, recipient: 0, pairing: 0 };
  const c: Engine = Object.create(e);
  Object.defineProperty(c, 'gtPow', { value: (a: Uint8Array, k: Uint8Array) => (n.gtPow++, e.gtPow(a, k)) });
  Object.defineProperty(c, 'gtFixedBase', { value: (a: Uint8Array) => (n.gtFixedBase++, e.gtFixedBase(a)) });
  Object.defineProperty(c, 'pairing', { value: (a: Uint8Array, b: Uint8Array) => (n.pairing++, e.pairing(a, b)) });
  const core = e.bfCore;
  if (core) {
    const counted: BfCore = {
      ...core,
      encrypt: (g, m, rho) => (n.gtPow++, core.encrypt(g, m, rho)),
      recipient: (P, id, dst) => (n.recipient++, core.recipient(P, id, dst)),
    };
    Object.defineProperty(c, 'bfCore', { value: counted });
  }
  return { c, n };
}

const engines = await availableEngines();

describe.each(engines.map((e) => [e.name, e] as const))('deferred recipient tables on %s', (_n, e) => {
  it('plain, building and table encryptions all equal the uncached path, and decrypt', async () => {
    const { s, Ppub } = await setupBls(e);
    const id = identityBytes('sip:table@example.org', '2026-11-28', 'month');
    const key = await extractBls(e, s, id);
    const { c, n } = counting(e);
    const ctx = new BlsContext(c, Ppub, { recipients: 2 });
    const m = new TextEncoder().encode('deferred table');
    let afterSettle = -1;
    try {
      for (let i = 0; i < 5; i++) {
        const rho = randomBytes(32);
        const ref = await encryptBlsWithRho(e, Ppub, id, m, rho);
        const got = await ctx.encryptToWithRho(id, m, rho);
        expect(Buffer.from(got).toString('hex')).toBe(Buffer.from(ref).toString('hex'));
        expect(Buffer.from(await ctx.decryptWith(key, got)).toString()).toBe('deferred table');
        // first use: the entry (one fused call, or hash + pairing) and a plain power; no table
        if (i === 0) expect(n).toEqual(e.bfCore ? { gtPow: 1, gtFixedBase: 0, recipient: 1, pairing: 0 } : { gtPow: 1, gtFixedBase: 0, recipient: 0, pairing: 1 });
        if (i === 1) {
          // two uses in one call: no table yet, the entry reused
          expect(n).toEqual(e.bfCore ? { gtPow: 2, gtFixedBase: 0, recipient: 1, pairing: 0 } : { gtPow: 2, gtFixedBase: 0, recipient: 0, pairing: 1 });
        }
        if (i === 2) {
          await ctx.settle(); // the build started by the third use is done:
          afterSettle = n.gtPow; // from here on the table is used, never the plain power
        }
      }
      expect(n.gtFixedBase).toBe(1);
      expect(n.gtPow).toBe(afterSettle);
      expect(n.recipient + n.pairing).toBe(1); // g_ID computed once for the entry
      // eviction frees the entry (and its table) and a later encryption rebuilds it correctly
      for (const other of ['sip:x@example.org', 'sip:y@example.org']) await ctx.encryptTo(identityBytes(other, '2026-11-28', 'month'), m);
      const rho = randomBytes(32);
      expect(Buffer.from(await ctx.encryptToWithRho(id, m, rho)).toString('hex')).toBe(
        Buffer.from(await encryptBlsWithRho(e, Ppub, id, m, rho)).toString('hex'),
      );
    } finally {
      ctx.close();
    }
  });
});
