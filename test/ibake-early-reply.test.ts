// Early replies (IbePort.decryptAndReply, BlsContext.decryptThenEncrypt, native BfDecryptEncrypt):
// a party whose reply echoes a point it is decrypting gets the reply encrypted in the same
// engine call. Checks that the offsets it names are where writeInner puts the points, that
// `echoes` accepts exactly the point at that offset, and, end to end on native with warm caches
// (repeat peers), that every scenario still gives both sides the same keys, that a basic call
// uses the fused call for both echoing replies, and that a reply which does not echo (a
// retargeted call's blind R_MESSAGE_1: no ECCPTi) falls back to a plain encryption.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BfCore, Engine } from '../src/engine/types.js';
import { extractBls, setupBls } from '../src/ibe/bls12381/bf.js';
import { identityBytes, periodStart } from '../src/ibe/identity.js';
import { ECHOED, echoes, innerPointAt, readInner, writeInner } from '../src/ibake/inner.js';
import { IbeKeyring } from '../src/ibake/keyring.js';
import { runScenario, SCENARIOS, type ScenarioName } from '../src/ibake/scenario.js';
import { extractSigningKey } from '../src/ibe/bls12381/ibs.js';
import { loadEngine } from './helpers/engines.js';

const point = () => Uint8Array.from([4, ...randomBytes(64)]);

describe('echo offsets', () => {
  it('innerPointAt names the octets of ECCPTi / ECCPTr in writeInner\'s encoding, for any URIs', () => {
    for (let i = 0; i < 40; i++) {
      const idi = `sip:${'a'.repeat(1 + ((i * 37) % 300))}@example.org`;
      const idr = `sip:${'b'.repeat(1 + ((i * 53) % 200))}@example.org`;
      const xP = point();
      const yP = point();
      const full = writeInner({ idi, eccpti: xP, idr, eccptr: yP });
      const at1 = innerPointAt({ idi, eccpti: xP, idr, eccptr: yP }, 'i');
      const atR = innerPointAt({ idi, eccpti: xP, idr, eccptr: yP }, 'r');
      expect(Buffer.from(full.subarray(at1, at1 + 65)).equals(xP)).toBe(true);
      expect(Buffer.from(full.subarray(atR, atR + 65)).equals(yP)).toBe(true);
      // without ECCPTi (I_MESSAGE_2 after an echo), and the placeholder encodes like a point
      const i2 = writeInner({ idi, idr, eccptr: ECHOED });
      const at2 = innerPointAt({ idi, idr, eccptr: ECHOED }, 'r');
      expect(i2.length).toBe(at2 + 65 + 5);
      const real = writeInner({ idi, idr, eccptr: yP });
      const spliced = Uint8Array.from(i2);
      spliced.set(yP, at2);
      expect(Buffer.from(spliced).equals(real)).toBe(true);
      expect(readInner(real, { i: 'maybe', r: 'yes' }).eccptr).toEqual(yP);
      // echoes: exactly the point at that offset
      expect(echoes(full, atR, yP)).toBe(true);
      expect(echoes(full, atR, xP)).toBe(false);
      expect(echoes(full, atR + 1, yP)).toBe(false);
      expect(echoes(full.subarray(0, atR + 64), atR, yP)).toBe(false);
    }
  });
});

const native = await loadEngine('native');

describe.runIf(!!native?.bfCore?.decryptEncrypt)('early replies end to end (native, repeat peers)', () => {
  const e = native as Engine;
  const core = e?.bfCore as BfCore; // runIf(false) still collects this body: nothing may run here without the addon
  const n = { fused: 0, fusedReplies: 0, table: 0 };
  const counted: BfCore = {
    ...core,
    encryptWithTable: (t, m, rho) => (n.table++, core.encryptWithTable(t, m, rho)),
    decryptEncrypt: async (k, ct, t, reply, rho, sp) => {
      n.fused++;
      const out = await core.decryptEncrypt!(k, ct, t, reply, rho, sp);
      if (out.reply) n.fusedReplies++;
      return out;
    },
  };
  const engine: Engine = Object.create(e ?? null);
  Object.defineProperty(engine, 'bfCore', { value: counted });

  it.each(SCENARIOS.map((s) => [s] as const))('%s: the same keys on both sides, call after call', async (scenario: ScenarioName) => {
    const { s, Ppub } = await setupBls(engine);
    const period = periodStart(Date.now(), 'month');
    const keys = new Map<string, Uint8Array>();
    const keyrings = new Map<string, IbeKeyring>();
    const provision = async (id: string) => {
      if (!keys.has(id)) keys.set(id, await extractBls(engine, s, identityBytes(id, Date.now(), 'month')));
      return { period, key: keys.get(id)!.slice() };
    };
    try {
      const provisionSigning = async (id: string) => ({ period, key: await extractSigningKey(engine, s, identityBytes(id, Date.now(), 'month')) });
      const run = () => runScenario({ scenario, from: 'sip:alice@example.org', to: 'sip:bob@example.org', engine, Ppub, provision, provisionSigning, keyrings });
      for (let i = 0; i < 4; i++) {
        const r = await run();
        expect(r.problems).toEqual([]);
        expect(r.ok).toBe(true);
        for (const ring of keyrings.values()) await ring.ctx.settle();
      }
      n.fused = n.fusedReplies = n.table = 0;
      const r = await run();
      expect(r.ok).toBe(true);
      expect(r.initiator.keys.length).toBeGreaterThan(0);
      if (scenario === 'basic' || scenario === 'preencoded') {
        // R_MESSAGE_1 and I_MESSAGE_2 both made in their decryption's engine call; only
        // I_MESSAGE_1 is an encryption of its own
        expect(n).toEqual({ fused: 2, fusedReplies: 2, table: 1 });
      }
      if (scenario === 'retarget') {
        // C cannot decrypt I_MESSAGE_1; its blind R_MESSAGE_1 carries no xP, so the caller's
        // I_MESSAGE_2 is encrypted on its own: I_MESSAGE_1, R_MESSAGE_1, I_MESSAGE_2 and its
        // ESK to B, R_MESSAGE_2's IBAKE echo
        expect(n).toEqual({ fused: 1, fusedReplies: 0, table: 5 });
      }
    } finally {
      for (const ring of keyrings.values()) ring.close();
      s.fill(0);
    }
  });
});
