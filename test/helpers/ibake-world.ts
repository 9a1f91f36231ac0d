// Test helper for the MIKEY-IBAKE protocol tests: a KMS domain (master secret, P_pub) on one
// engine and parties with private keys for the current period, plus a tiny "network" that
// carries bytes between endpoints and records every message. Keys are extracted in-process
// here; the KMS-over-HTTP path is exercised by test/ibake-kms.test.ts and `ibake call`.
import type { Engine } from '../../src/engine/types.js';
import { extractBls, setupBls } from '../../src/ibe/bls12381/bf.js';
import { identityBytes, periodStart } from '../../src/ibe/identity.js';
import { IbeKeyring } from '../../src/ibake/keyring.js';
import { IbakeEndpoint, type EndpointOptions } from '../../src/ibake/endpoint.js';
import { extractSigningKey } from '../../src/ibe/bls12381/ibs.js';
import { IbsKeyring } from '../../src/ibake/ibs-port.js';
import { MailboxPrekeys } from '../../src/ibake/prekey/mailbox.js';
import { PrekeyStore } from '../../src/ibake/prekey/store.js';
import { verifierFor } from '../../src/ibake/prekey/record.js';

export interface World {
  engine: Engine;
  s: Uint8Array;
  Ppub: Uint8Array;
  party(uri: string, opts?: Partial<EndpointOptions> & { keysFor?: string[]; keyTime?: number }): Promise<IbakeEndpoint & { keyring: IbeKeyring }>;
}

export async function makeWorld(engine: Engine): Promise<World> {
  const { s, Ppub } = await setupBls(engine);
  const w: World = {
    engine,
    s,
    Ppub,
    async party(uri, opts = {}) {
      const keyring = new IbeKeyring(engine, Ppub, 'month');
      const t = opts.keyTime ?? Date.now();
      for (const id of [uri, ...(opts.keysFor ?? [])]) {
        keyring.addKey(id, periodStart(t, 'month'), await extractBls(engine, s, identityBytes(id, t, 'month')));
      }
      const p256 = engine.p256Mul ? { p256: engine.p256Mul } : {};
      const ep = new IbakeEndpoint({ identity: uri, ibe: keyring, ...p256, ...opts }) as IbakeEndpoint & { keyring: IbeKeyring };
      ep.keyring = keyring;
      return ep;
    },
  };
  return w;
}

/** Deferred delivery v2 for `user`: its signing key, prekey store (memory) with `count` signed
 * prekeys delivered to a mailbox table, and a verifier keyring for callers / the mailbox. */
export async function prekeyKit(w: World, user: string, count = 3, opts: { expiryS?: number } = {}) {
  const now = Date.now();
  const period = periodStart(now, 'month');
  const signer = new IbsKeyring(w.engine, w.Ppub);
  await signer.addKey(user, period, await extractSigningKey(w.engine, w.s, identityBytes(user, now, 'month')));
  const store = PrekeyStore.memory();
  const mailbox = MailboxPrekeys.memory();
  const verifier = new IbsKeyring(w.engine, w.Ppub);
  const expiry = opts.expiryS ?? Math.floor(now / 1000) + 3600;
  const bundle = await store.generate(signer, user, count, period, expiry);
  await mailbox.add(verifierFor(verifier), bundle, now);
  return { signer, store, mailbox, verifier, period, bundle };
}

export interface Sent {
  name: string;
  from: string;
  to: string;
  bytes: Uint8Array;
}

const NAMES: Record<number, string> = { 6: 'ERROR', 22: 'I_MESSAGE_1', 23: 'R_MESSAGE_1', 24: 'I_MESSAGE_2', 25: 'R_MESSAGE_2' };
export function nameOf(b: Uint8Array): string {
  return NAMES[b[1]!] ?? String(b[1]);
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
