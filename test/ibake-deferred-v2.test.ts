// Deferred delivery v2 (docs/profile.md §6.4, docs/security.md §1): no passive escrow, forward
// secrecy, forged prekeys refused.
// * The escrow test inverted: a KMS holding the master secret and the whole transcript (every
//   message, every IBE ciphertext decrypted: I_MESSAGE_1, R_MESSAGE_1 with the prekey,
//   I_MESSAGE_2, the ESK with e_i·P) derives none of the content keys from any candidate it can
//   form; the same attacker against the escrowed v1 flow reads SK out of the ESK and gets them
//   (so the test can fail). Also on a live call: parties provisioned by a real KMS over HTTP.
// * The key really is ECDH(prekey, e_i·P): recomputed with @noble/curves from the prekey's private
//   half (taken from B's store before B opens) — a value the KMS never sees.
// * Forward secrecy: once B has opened, the prekey's private half is gone (memory and file);
//   B's IBE key (from the master), the mailbox's whole state and the stored message then give
//   nothing: the ESK decrypts, but the prekey it names cannot be taken any more.
// * Forged prekeys (bad signature, another user's, expired, a reused id) → the initiator refuses
//   before any key is released (IBAKE_PREKEY_INVALID), and sends no media key.
import { hkdfSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { fastestEngine } from './helpers/engines.js';
import { hex, makeWorld, prekeyKit, type World } from './helpers/ibake-world.js';
import { extractBls } from '../src/ibe/bls12381/bf.js';
import { extractSigningKey } from '../src/ibe/bls12381/ibs.js';
import { identityBytes, periodStart } from '../src/ibe/identity.js';
import { setup } from '../src/ibe/index.js';
import { buildParams } from '../src/ibe/params.js';
import { IbeKeyring } from '../src/ibake/keyring.js';
import { IbsKeyring } from '../src/ibake/ibs-port.js';
import { openDeferred } from '../src/ibake/deferred.js';
import { readEsk } from '../src/ibake/inner.js';
import { PREKEY_EXT } from '../src/ibake/inner.js';
import { deferredSkInfo } from '../src/ibake/prekey/sk.js';
import { decodeRecord, encodeRecord, recordOf, signBundle, type PrekeyRecord } from '../src/ibake/prekey/record.js';
import { MailboxPrekeys } from '../src/ibake/prekey/mailbox.js';
import { PrekeyStore } from '../src/ibake/prekey/store.js';
import { runScenario, derivedUri } from '../src/ibake/scenario.js';
import { deriveCsKeys } from '../src/ibake/output.js';
import { requestPrivateKey, startKmsServer } from '../src/kms/index.js';
import { decodeInnerChain, decodeMessage } from '../src/mikey/index.js';
import type { IbakeEndpoint } from '../src/ibake/endpoint.js';

const engine = await fastestEngine();
const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
const M = 'sip:bob-voicemail@example.org';
const dir = mkdtempSync(join(tmpdir(), 'ibake-dv2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Payload = { kind: string; encrData?: Uint8Array; rand?: Uint8Array };
const payloads = (m: Uint8Array) => decodeMessage(m).payloads as unknown as Payload[];
const ct = (m: Uint8Array, kind: 'IBAKE' | 'ESK') => payloads(m).find((p) => p.kind === kind)?.encrData;

/** Drives I1 -> R1 -> I2 -> R2 -> confirm between the caller and the mailbox. */
async function deferredCall(alice: IbakeEndpoint, mbox: IbakeEndpoint) {
  const { message: i1, csbId } = await alice.initiate({ to: B });
  const r1 = (await mbox.receive(i1)).reply!;
  const i2 = (await alice.receive(r1)).reply!;
  const r2res = await mbox.receive(i2);
  const done = await alice.receive(r2res.reply!);
  return { csbId, i1, r1, i2, r2: r2res.reply!, stored: r2res.stored!.message, keys: done.established!.keys, established: done.established! };
}

/**
 * The passive KMS: master secret + transcript. Decrypts every IBE ciphertext it sees and tries
 * every key it can form. Returns the SRTP master keys it derives (hex) and what it learned.
 */
async function kmsAttack(w: { engine: typeof engine; s: Uint8Array; Ppub: Uint8Array }, t: { i1: Uint8Array; r1: Uint8Array; i2: Uint8Array; stored: Uint8Array; csbId: number }) {
  const ring = new IbeKeyring(w.engine, w.Ppub);
  const now = Date.now();
  for (const id of [A, B, M]) ring.addKey(id, periodStart(now, 'month'), await extractBls(w.engine, w.s, identityBytes(id, now, 'month')));
  const open = async (m: Uint8Array, kind: 'IBAKE' | 'ESK', as: string) => decodeInnerChain(await ring.decrypt(as, now, ct(m, kind)!));
  const points: Uint8Array[] = [];
  for (const [m, as] of [[t.i1, B], [t.r1, A], [t.i2, M]] as const) {
    for (const p of await open(m, 'IBAKE', as)) if (p.kind === 'ECCPT') points.push(p.point);
  }
  const r1inner = await open(t.r1, 'IBAKE', A);
  const rec = r1inner.find((p) => p.kind === 'EXT' && p.extType === PREKEY_EXT) as { data: Uint8Array } | undefined;
  const esk = readEsk(await ring.decrypt(B, now, ct(t.stored, 'ESK')!));
  const rand = payloads(t.i1).find((p) => p.kind === 'RAND')!.rand!;
  const map = (decodeMessage(t.stored).header.csMap as { entries: { ssrc: number; roc: number }[] }).entries;
  const derive = (sk: Uint8Array) => deriveCsKeys(1, sk, t.csbId, rand, map, 'AES_CM_128_HMAC_SHA1_80', 'deferred-sk').map((k) => hex(k.masterKey));
  const got: string[] = [];
  if (esk.v === 1) got.push(...derive(esk.sk)); // v1: SK is right there
  if (esk.v === 2) {
    const record = decodeRecord(rec!.data);
    points.push(esk.ei, record.publicKey);
    const info = deferredSkInfo({ idi: A, idr: B, csbId: t.csbId, prekeyId: esk.prekeyId, ei: esk.ei, prekey: record.publicKey });
    const P = [...new Set(points.map((x) => hex(x)))].map((x) => p256.Point.fromHex(x));
    const cands: Uint8Array[] = [];
    for (const x of P) cands.push(x.toBytes(false), x.toBytes(false).subarray(1, 33));
    for (let i = 0; i < P.length; i++) for (let j = 0; j < P.length; j++) if (i !== j) cands.push(P[i]!.add(P[j]!).toBytes(false), P[i]!.subtract(P[j]!).toBytes(false));
    for (const ikm of cands) got.push(...derive(new Uint8Array(hkdfSync('sha256', ikm, rand, info, 32))));
  }
  ring.close();
  return { got, esk, record: rec ? decodeRecord(rec.data) : undefined, points };
}

describe(`deferred delivery v2 (engine ${engine.name})`, () => {
  let w: World;

  it('a passive KMS with the master secret and the whole transcript cannot derive the content keys (v1: it can)', async () => {
    w = await makeWorld(engine);
    const kit = await prekeyKit(w, B, 2);
    const alice = await w.party(A, { policy: { mailboxes: { [B]: [M] } }, ibs: kit.verifier });
    const mbox = await w.party(M, { answerUndecryptable: true, mailbox: true, mailboxPrekeys: kit.mailbox });
    const call = await deferredCall(alice, mbox);
    const real = call.keys.map((k) => hex(k.masterKey));
    // the prekey's private half, read before B opens (for the independent check only)
    const { secret, record } = await kit.store.take(B, 1);
    const attack = await kmsAttack(w, call);
    expect(attack.esk.v).toBe(2);
    expect(attack.record!.id).toBe(1);
    expect(attack.got.length).toBeGreaterThan(60); // 4 distinct points: 8 + 24 candidates, 2 keys each
    for (const k of real) expect(attack.got).not.toContain(k);
    // Independent: SK = HKDF(ECDH(prekey, e_i·P)) with noble, from the private half the KMS never sees.
    const esk = attack.esk as { ei: Uint8Array; prekeyId: number };
    const rand = payloads(call.i1).find((p) => p.kind === 'RAND')!.rand!;
    const dh = p256.getSharedSecret(secret, esk.ei, false);
    const sk = new Uint8Array(hkdfSync('sha256', dh, rand, deferredSkInfo({ idi: A, idr: B, csbId: call.csbId, prekeyId: 1, ei: esk.ei, prekey: record.publicKey }), 32));
    const map = (decodeMessage(call.stored).header.csMap as { entries: { ssrc: number; roc: number }[] }).entries;
    expect(deriveCsKeys(1, sk, call.csbId, rand, map, 'AES_CM_128_HMAC_SHA1_80', 'deferred-sk').map((k) => hex(k.masterKey))).toEqual(real);

    // The same attacker against the escrowed v1 flow (policy allows it, the mailbox has no prekey): it reads the keys.
    const lax = await w.party(A, { policy: { mailboxes: { [B]: [M] }, escrowedDeferred: 'allow' }, ibs: kit.verifier });
    const empty = await w.party(M, { answerUndecryptable: true, mailbox: true, mailboxPrekeys: MailboxPrekeys.memory() });
    const v1 = await deferredCall(lax, empty);
    expect(v1.established.escrowed).toBe(true);
    const v1attack = await kmsAttack(w, v1);
    expect(v1attack.got).toEqual(v1.keys.map((k) => hex(k.masterKey)));
  });

  it('the same on a live call: parties provisioned by a KMS over HTTP (decryption and signing keys)', async () => {
    const { master, params: suite } = await setup('bls12381-bf', engine);
    const Ppub = (suite as { Ppub: Uint8Array }).Ppub;
    const params = buildParams('sip:kms.invalid', 'month', suite);
    const users: Record<string, string> = {};
    for (const u of [A, B, derivedUri(B, 'voicemail')]) users[u] = Buffer.from(new Uint8Array(32).map(() => (Math.random() * 256) | 0)).toString('hex');
    const kms = await startKmsServer({ master: master.slice(), params, users, host: '127.0.0.1', port: 0, rateLimit: false, engine, log: () => {} });
    try {
      const r = await runScenario({
        scenario: 'deferred', from: A, to: B, engine, Ppub,
        provision: async (identity) => {
          const k = await requestPrivateKey({ url: kms.url, identity, psk: users[identity]!, params, engine });
          return { period: k.period, key: k.key };
        },
        provisionSigning: async (identity) => {
          const k = await requestPrivateKey({ url: kms.url, identity, psk: users[identity]!, params, engine, signing: true });
          return { period: k.period, key: k.signingKey! };
        },
      });
      expect(r.ok).toBe(true);
      expect(r.deferred).toMatchObject({ version: 2, prekeyDeleted: true });
      expect(r.escrowed).toBe(false);
      const [i1, r1, i2] = r.messages.map((m) => m.bytes);
      const csbId = decodeMessage(i1!).header.csbId;
      const attack = await kmsAttack({ engine, s: master, Ppub }, { i1: i1!, r1: r1!, i2: i2!, stored: i2!, csbId });
      expect(attack.esk.v).toBe(2);
      for (const k of r.initiator.keys) expect(attack.got).not.toContain(hex(k.masterKey));
    } finally {
      master.fill(0);
      await kms.close();
    }
  });

  it('forward secrecy: after B opens, the prekey secret is gone; B’s IBE key and the mailbox give nothing later', async () => {
    const kitW = await makeWorld(engine);
    const now = Date.now();
    const period = periodStart(now, 'month');
    const signer = new IbsKeyring(engine, kitW.Ppub);
    await signer.addKey(B, period, await extractSigningKey(engine, kitW.s, identityBytes(B, now, 'month')));
    const storePath = join(dir, 'bob.bin');
    const store = PrekeyStore.open(storePath);
    const mailboxPath = join(dir, 'mailbox.json');
    const mailbox = MailboxPrekeys.open(mailboxPath);
    const verifier = new IbsKeyring(engine, kitW.Ppub);
    await mailbox.add((await import('../src/ibake/prekey/record.js')).verifierFor(verifier), await store.generate(signer, B, 2, period, Math.floor(now / 1000) + 3600), now);
    const alice = await kitW.party(A, { policy: { mailboxes: { [B]: [M] } }, ibs: verifier });
    const mbox = await kitW.party(M, { answerUndecryptable: true, mailbox: true, mailboxPrekeys: mailbox });
    const bob = await kitW.party(B);
    const call = await deferredCall(alice, mbox);
    const before = readFileSync(storePath);
    const opened = await openDeferred(bob.keyring, B, call.stored, { prekeys: store });
    expect(opened.keys.map((k) => hex(k.masterKey))).toEqual(call.keys.map((k) => hex(k.masterKey)));
    // gone from memory and from the file (the file shrank by one 119-octet entry)
    expect(store.holds(B, opened.prekeyId!)).toBe(false);
    const after = readFileSync(storePath);
    expect(before.length - after.length).toBe(119);
    store.close();
    // Later compromise: B's IBE key (minted from the master), the mailbox's files, the stored
    // message, B's store as it is now. The ESK still decrypts — but its prekey is not there.
    const thief = new IbeKeyring(engine, kitW.Ppub);
    thief.addKey(B, period, await extractBls(engine, kitW.s, identityBytes(B, now, 'month')));
    const reopened = PrekeyStore.open(storePath);
    await expect(openDeferred(thief, B, call.stored, { prekeys: reopened })).rejects.toMatchObject({ code: 'IBAKE_NO_PREKEY' });
    const attack = await kmsAttack(kitW, call);
    for (const k of call.keys) expect(attack.got).not.toContain(hex(k.masterKey));
    const mailboxText = readFileSync(mailboxPath, 'utf8');
    expect(mailboxText).not.toContain(hex(call.keys[0]!.masterKey));
    reopened.close();
    await mailbox.close(); // its journal's file handle
  });

  describe('forged prekeys: the initiator refuses, no key is released', () => {
    /** A mailbox table that hands out whatever record the test gives it. */
    const handing = (records: PrekeyRecord[]) => ({ take: async () => records.shift() }) as unknown as MailboxPrekeys;

    async function attempt(w2: World, alice: IbakeEndpoint, record: PrekeyRecord) {
      const mbox = await w2.party(M, { answerUndecryptable: true, mailbox: true, mailboxPrekeys: handing([record]) });
      const { message: i1 } = await alice.initiate({ to: B });
      const r1 = (await mbox.receive(i1)).reply!;
      let stage = 'I_MESSAGE_2';
      try {
        const i2 = (await alice.receive(r1)).reply!;
        stage = 'R_MESSAGE_2';
        const r2 = (await mbox.receive(i2)).reply!;
        stage = 'confirm';
        const done = await alice.receive(r2);
        return { ok: true, keys: done.established?.keys.length ?? 0 };
      } catch (e) {
        return { ok: false, stage, code: (e as { code?: string }).code, reason: (e as { reason?: string }).reason };
      }
    }

    it('bad signature, another user’s, expired, reused id', async () => {
      const w2 = await makeWorld(engine);
      const kit = await prekeyKit(w2, B, 3);
      const eve = await prekeyKit(w2, 'sip:eve@example.org', 1);
      const alice = await w2.party(A, { policy: { mailboxes: { [B]: [M] } }, ibs: new IbsKeyring(engine, w2.Ppub) });
      const good = (await kit.mailbox.take(B, Date.now()))!;
      const badSig = decodeRecord(encodeRecord(good));
      badSig.signature[150]! ^= 1;
      badSig.headerBytes = badSig.headerBytes.slice();
      const evesRecord = (await eve.mailbox.take('sip:eve@example.org', Date.now()))!;
      // expired: a bundle signed by Bob whose expiry has passed
      const gone = await signBundle(kit.signer, B, kit.period, Math.floor(Date.now() / 1000) - 10, [{ id: 77, publicKey: good.publicKey }]);
      const expired = recordOf(gone, 0);
      expect(await attempt(w2, alice, badSig)).toMatchObject({ ok: false, code: 'IBAKE_PREKEY_INVALID', reason: 'signature' });
      expect(await attempt(w2, alice, evesRecord)).toMatchObject({ ok: false, code: 'IBAKE_PREKEY_INVALID', reason: 'signature' });
      expect(await attempt(w2, alice, expired)).toMatchObject({ ok: false, code: 'IBAKE_PREKEY_INVALID', reason: 'expired' });
      // reused: the first use is accepted, the same prekey again is refused
      expect(await attempt(w2, alice, good)).toEqual({ ok: true, keys: 2 });
      expect(await attempt(w2, alice, good)).toMatchObject({ ok: false, code: 'IBAKE_PREKEY_INVALID', reason: 'reused-id' });
    });
  });
});
