// Profile v2 across engines: the parties of one call run on different engines (one KMS domain),
// for every ordered pair of available engines, through the basic call (keys equal to an
// independent recomputation: noble [x][y]P, node:crypto SHA-256 over docs/profile.md §5's
// octets, the RFC 3830 PRF), forking (each device's keys, none shared), deferred delivery (the
// mailbox on one engine, the user opening it on another) and a CSB update. Same bytes in, same
// keys out, whatever engine computes the pairings. And every scenario on every engine
// (runScenario, as `ibake call` runs it), each revealed K_SESSION recomputed from its inputs.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { availableEngines } from './helpers/engines.js';
import { hex } from './helpers/ibake-world.js';
import type { Engine } from '../src/engine/types.js';
import { extractBls, setupBls } from '../src/ibe/bls12381/bf.js';
import { identityBytes, periodStart } from '../src/ibe/identity.js';
import { IbakeEndpoint, type EndpointOptions } from '../src/ibake/endpoint.js';
import { IbeKeyring } from '../src/ibake/keyring.js';
import { openDeferred } from '../src/ibake/deferred.js';
import { runScenario, SCENARIOS } from '../src/ibake/scenario.js';
import { extractSigningKey } from '../src/ibe/bls12381/ibs.js';
import { IbsKeyring } from '../src/ibake/ibs-port.js';
import { MailboxPrekeys } from '../src/ibake/prekey/mailbox.js';
import { PrekeyStore } from '../src/ibake/prekey/store.js';
import { verifierFor } from '../src/ibake/prekey/record.js';
import { decodeMessage } from '../src/mikey/index.js';
import { deriveSrtpMasterKeys, deriveTgk } from '../src/mikey/keys.js';

const engines = await availableEngines();
const pairs = engines.flatMap((a) => engines.filter((b) => b !== a).map((b) => [`${a.name} -> ${b.name}`, a, b] as const));
const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
const keysHex = (k: { masterKey: Uint8Array; masterSalt: Uint8Array }[]) => k.map((x) => hex(x.masterKey) + ':' + hex(x.masterSalt));

/** One KMS domain (set up on the first engine); parties on any engine. */
async function domain() {
  const kms = engines[0]!;
  const { s, Ppub } = await setupBls(kms);
  const now = Date.now();
  const party = async (uri: string, engine: Engine, opts: Partial<EndpointOptions> & { keysFor?: string[] } = {}) => {
    const ring = new IbeKeyring(engine, Ppub, 'month');
    for (const id of [uri, ...(opts.keysFor ?? [])]) ring.addKey(id, periodStart(now, 'month'), await extractBls(kms, s, identityBytes(id, now, 'month')));
    const ep = new IbakeEndpoint({ identity: uri, ibe: ring, ...(engine.p256Mul ? { p256: engine.p256Mul } : {}), ...opts }) as IbakeEndpoint & { ring: IbeKeyring };
    ep.ring = ring;
    return ep;
  };
  /** Deferred delivery v2: `user`'s prekeys signed on `signerEngine`, delivered to a mailbox table checked on `mailboxEngine`. */
  const prekeys = async (user: string, signerEngine: Engine, mailboxEngine: Engine) => {
    const period = periodStart(now, 'month');
    const signer = new IbsKeyring(signerEngine, Ppub);
    await signer.addKey(user, period, await extractSigningKey(kms, s, identityBytes(user, now, 'month')));
    const store = PrekeyStore.memory();
    const mailbox = MailboxPrekeys.memory();
    await mailbox.add(verifierFor(new IbsKeyring(mailboxEngine, Ppub)), await store.generate(signer, user, 2, period, Math.floor(now / 1000) + 3600), now);
    return { store, mailbox };
  };
  return Object.assign(party, { prekeys, Ppub });
}

async function call(alice: IbakeEndpoint, bob: IbakeEndpoint, to = B) {
  const { message: i1, csbId } = await alice.initiate({ to });
  const r1 = await bob.receive(i1);
  const i2 = await alice.receive(r1.reply!);
  const peer = i2.peer;
  const nc = alice.initiated.get(csbId, peer).nc?.slice();
  const x = alice.offers.get(csbId, to).x.slice();
  const r2 = await bob.receive(i2.reply!);
  const done = await alice.receive(r2.reply!);
  return { i1, csbId, r2, done, nc, x, peer };
}

describe.each(pairs)('profile v2 across engines: %s', (_n, ea, eb) => {
  it('basic call: both sides and an independent recomputation agree; a CSB update agrees too', async () => {
    const party = await domain();
    const alice = await party(A, ea);
    const bob = await party(B, eb);
    const c = await call(alice, bob);
    expect(keysHex(c.done.established!.keys)).toEqual(keysHex(c.r2.established!.keys));
    const st = alice.initiated.get(c.csbId, B);
    const point = p256.getSharedSecret(c.x, st.yP, false);
    const len16 = (u: string) => Buffer.concat([Buffer.from([Buffer.byteLength(u) >> 8, Buffer.byteLength(u) & 255]), Buffer.from(u)]);
    const k = createHash('sha256').update('MIKEY-IBAKE-V02 K_SESSION').update(point).update(len16(A)).update(len16(B)).update(c.nc!).digest();
    const rand = (decodeMessage(c.i1).payloads.find((p) => p.kind === 'RAND') as { rand: Uint8Array }).rand;
    const m1 = deriveSrtpMasterKeys(1, deriveTgk(1, k, rand, 32, 'v2'), 1, c.csbId, rand, { key: 16, salt: 14 });
    expect(hex(m1.masterKey)).toBe(hex(c.done.established!.keys[0]!.masterKey));
    const u1 = await bob.rekey(c.csbId, A);
    const u2 = await alice.receive(u1);
    const u3 = await bob.receive(u2.reply!);
    const ok = await alice.receive(u3.reply!);
    expect(keysHex(ok.established!.keys)).toEqual(keysHex(u3.established!.keys));
    expect(keysHex(ok.established!.keys)).not.toEqual(keysHex(c.done.established!.keys));
  });

  it('forking (devices on the other engine) and deferred delivery (opened on the first engine)', async () => {
    const party = await domain();
    const d1 = 'sip:bob-dev1@example.org';
    const d2 = 'sip:bob-dev2@example.org';
    const M = 'sip:bob-voicemail@example.org';
    const alice = await party(A, ea, { policy: { forking: { [B]: [d1, d2] }, mailboxes: { [B]: [M] } }, ibs: new IbsKeyring(ea, party.Ppub) });
    const dev1 = await party(d1, eb, { keysFor: [B], alsoAnswerFor: [B] });
    const dev2 = await party(d2, eb, { keysFor: [B], alsoAnswerFor: [B] });
    const { message: i1 } = await alice.initiate({ to: B });
    const got = [];
    for (const dev of [dev1, dev2]) {
      const r1 = await dev.receive(i1);
      const i2 = await alice.receive(r1.reply!);
      const r2 = await dev.receive(i2.reply!);
      const done = await alice.receive(r2.reply!);
      expect(keysHex(done.established!.keys)).toEqual(keysHex(r2.established!.keys));
      got.push(keysHex(r2.established!.keys));
    }
    expect(got[0]).not.toEqual(got[1]);
    // deferred v2: B's prekeys signed on the first engine, checked by the mailbox on the other
    const kit = await party.prekeys(B, ea, eb);
    const mbox = await party(M, eb, { answerUndecryptable: true, mailbox: true, mailboxPrekeys: kit.mailbox });
    const bobLater = await party(B, ea);
    const c = await call(alice, mbox);
    expect(c.r2.established).toBeUndefined();
    const opened = await openDeferred(bobLater.ring, B, c.r2.stored!.message, { prekeys: kit.store });
    expect(opened.prekeyId).toBe(1);
    expect(keysHex(opened.keys)).toEqual(keysHex(c.done.established!.keys));
  });
});

describe.each(engines.map((e) => [e.name, e] as const))('every scenario on %s with v2 keys', (_n, engine) => {
  it.each(SCENARIOS)('%s: the parties agree; every K_SESSION is the hash of its revealed inputs', async (scenario) => {
    const { s, Ppub } = await setupBls(engine);
    const now = Date.now();
    const r = await runScenario({
      scenario, from: A, to: B, engine, Ppub, revealSecrets: true,
      provision: async (id) => ({ period: periodStart(now, 'month'), key: await extractBls(engine, s, identityBytes(id, now, 'month')) }),
      provisionSigning: async (id) => ({ period: periodStart(now, 'month'), key: await extractSigningKey(engine, s, identityBytes(id, now, 'month')) }),
    });
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.secrets!.length).toBe(scenario === 'forking' ? 2 : 1);
    for (const x of r.secrets!) {
      const len16 = (u: string) => Buffer.concat([Buffer.from([Buffer.byteLength(u) >> 8, Buffer.byteLength(u) & 255]), Buffer.from(u)]);
      const k = createHash('sha256').update('MIKEY-IBAKE-V02 K_SESSION').update(x.point).update(len16(x.idi)).update(len16(x.idr)).update(x.nc).digest();
      expect(hex(k)).toBe(hex(x.kSession));
      expect(x.idr).toBe(x.peer);
    }
  });
});
