// Signed one-time prekeys of deferred delivery v2 (src/ibake/prekey/*, src/ibake/ibs-port.ts):
// * record / bundle octets (fixed layout checked byte by byte), round trips, malformed input;
// * the user's store: generate → signed bundle, file 0600 written atomically with the private
//   halves, reopen, take once (the private half leaves memory and the file), ids never reused,
//   expired prekeys purged, corrupt / loose-mode files refused;
// * the mailbox: every signature checked on add (all or nothing), forged bundles (another
//   user's key, tampered public key or id, expired, not yet valid period) refused, a used id
//   refused a second time (also after a restart), no private value ever stored;
// * the initiator's checks: another user's record, expired, replayed id → refused;
// * SK = HKDF(ECDH(e_i, prekey), …): both sides agree; any other identity, CSB ID, RAND or
//   prekey gives another SK; the public values alone (what the KMS sees) are not enough.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractSigningKey, identityFor, type IbeParams } from '../src/ibe/index.js';
import { IbsKeyring } from '../src/ibake/ibs-port.js';
import { generateEphemeral, publicFromSecret } from '../src/ibake/ecdh.js';
import {
  checkRecord, decodeBundle, decodeRecord, encodeBundle, encodeRecord, signedMessage, signRecord, type PrekeyRecord,
} from '../src/ibake/prekey/record.js';
import { PrekeyStore } from '../src/ibake/prekey/store.js';
import { MailboxPrekeys } from '../src/ibake/prekey/mailbox.js';
import { deriveDeferredSk, PrekeySeen } from '../src/ibake/prekey/sk.js';
import { errorCode } from './helpers/outcome.js';
import { kmsDomain } from './kms-fixtures.js';
import type { Engine } from '../src/engine/types.js';

const BOB = 'sip:bob@example.org';
const EVE = 'sip:eve@example.org';
const NOW = Date.parse('2026-12-04T12:00:00Z');
const PERIOD = '2026-12-01';
const EXPIRY = Date.parse('2027-01-01T00:00:00Z') / 1000;
const dir = mkdtempSync(join(tmpdir(), 'ibake-prekeys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let engine: Engine;
let params: IbeParams;
let bobRing: IbsKeyring; // holds Bob's signing key
let eveRing: IbsKeyring; // holds Eve's
let verifier: IbsKeyring; // holds none: an initiator or a mailbox

beforeAll(async () => {
  const d = await kmsDomain('urn:ibaked:kms:prekeys');
  engine = d.engine;
  params = d.params;
  bobRing = new IbsKeyring(engine, (params.suite as { Ppub: Uint8Array }).Ppub);
  eveRing = new IbsKeyring(engine, (params.suite as { Ppub: Uint8Array }).Ppub);
  verifier = new IbsKeyring(engine, (params.suite as { Ppub: Uint8Array }).Ppub);
  const idOf = (uri: string) => identityFor(uri, PERIOD, 'day').bytes;
  await bobRing.addKey(BOB, PERIOD, await extractSigningKey(d.master, params, idOf(BOB), engine));
  await eveRing.addKey(EVE, PERIOD, await extractSigningKey(d.master, params, idOf(EVE), engine));
  await expect(bobRing.addKey(BOB, '2026-11-01', await extractSigningKey(d.master, params, idOf(BOB), engine))).rejects.toMatchObject({ code: 'IBAKE_NO_KEY' });
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('record and bundle octets', () => {
  it('the documented layout, byte by byte', async () => {
    const pub = generateEphemeral().publicPoint;
    const r = await signRecord(bobRing, BOB, { id: 0x01020304, period: PERIOD, expiry: 0x6789abcd, publicKey: pub });
    const b = encodeRecord(r);
    expect(b.length).toBe(280);
    expect(hex(b.subarray(0, 23))).toBe('01' + '01020304' + Buffer.from(PERIOD).toString('hex') + '000000006789abcd');
    expect(hex(b.subarray(23, 88))).toBe(hex(pub));
    expect(hex(b.subarray(88))).toBe(hex(r.signature));
    const msg = signedMessage(BOB, r);
    expect(hex(msg)).toBe(Buffer.from('MIKEY-IBAKE-V02 PREKEY\0').toString('hex') + '0013' + Buffer.from(BOB).toString('hex') + hex(b.subarray(0, 88)));
    expect(decodeRecord(b)).toEqual(r);
    const bundle = encodeBundle({ uri: BOB, records: [r] });
    expect(Buffer.from(bundle.subarray(0, 5)).toString('latin1')).toBe('IBPK\u0001');
    expect(hex(bundle.subarray(5, 7))).toBe('0013');
    expect(hex(bundle.subarray(7 + BOB.length, 9 + BOB.length))).toBe('0001');
    expect(decodeBundle(bundle)).toEqual({ uri: BOB, records: [r] });
  });

  it('malformed records and bundles are refused', async () => {
    const r = await signRecord(bobRing, BOB, { id: 7, period: PERIOD, expiry: EXPIRY, publicKey: generateEphemeral().publicPoint });
    const b = encodeRecord(r);
    const mutate = (at: number, v: number) => {
      const c = b.slice();
      c[at] = v;
      return c;
    };
    for (const [what, bytes] of [
      ['version', mutate(0, 2)],
      ['id 0', Uint8Array.from([...b.subarray(0, 1), 0, 0, 0, 0, ...b.subarray(5)])],
      ['point prefix', mutate(23, 3)],
      ['point off curve', mutate(87, b[87]! ^ 1)],
      ['short', b.subarray(0, 279)],
    ] as const) {
      expect(await errorCode(Promise.resolve().then(() => decodeRecord(bytes))), what).toBe('IBAKE_PREKEY_INVALID');
    }
    expect(await errorCode(Promise.resolve().then(() => decodeRecord(mutate(9, 0x2f))))).toBe('IBAKE_PREKEY_INVALID'); // "2026/12-01"
    expect(await errorCode(Promise.resolve().then(() => decodeRecord(mutate(11, 0x33))))).toBe('IBAKE_PREKEY_INVALID'); // "2026-13-01"
    const bundle = encodeBundle({ uri: BOB, records: [r] });
    const twice = encodeBundle({ uri: BOB, records: [r, r] });
    expect(await errorCode(Promise.resolve().then(() => decodeBundle(twice)))).toBe('IBAKE_PREKEY_INVALID');
    expect(await errorCode(Promise.resolve().then(() => decodeBundle(bundle.subarray(0, bundle.length - 1))))).toBe('IBAKE_PREKEY_INVALID');
    expect(await errorCode(Promise.resolve().then(() => decodeBundle(Uint8Array.from([...bundle, 0]))))).toBe('IBAKE_PREKEY_INVALID');
    const magic = bundle.slice();
    magic[0] = 0;
    expect(await errorCode(Promise.resolve().then(() => decodeBundle(magic)))).toBe('IBAKE_PREKEY_INVALID');
  });
});

describe('the user’s prekey store', () => {
  const path = join(dir, 'bob-prekeys.bin');
  let bundle: Uint8Array;

  it('generate: a signed bundle; the file is 0600 and holds the private halves', async () => {
    const store = PrekeyStore.open(path, { now: () => NOW });
    bundle = await store.generate(bobRing, BOB, 5, PERIOD, EXPIRY);
    const { uri, records } = decodeBundle(bundle);
    expect(uri).toBe(BOB);
    expect(records.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    for (const r of records) await checkRecord(verifier, BOB, r, NOW);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(store.status()).toEqual([{ uri: BOB, available: 5, expired: 0, nextId: 6 }]);
    store.close();
  });

  it('take: the private half matches, leaves memory and the file, and cannot be taken again', async () => {
    const store = PrekeyStore.open(path, { now: () => NOW });
    expect(store.status(BOB)[0]!.available).toBe(5);
    const { secret, record } = await store.take(BOB, 3);
    expect(hex(publicFromSecret(secret))).toBe(hex(record.publicKey));
    expect(readFileSync(path).includes(Buffer.from(secret))).toBe(false);
    expect(store.holds(BOB, 3)).toBe(false);
    expect(await errorCode(store.take(BOB, 3))).toBe('IBAKE_NO_PREKEY');
    const other = await store.take(BOB, 4);
    expect(readFileSync(path).includes(Buffer.from(other.secret))).toBe(false);
    store.close();
    const again = PrekeyStore.open(path, { now: () => NOW });
    expect(again.status(BOB)[0]).toEqual({ uri: BOB, available: 3, expired: 0, nextId: 6 });
    expect(await errorCode(again.take(BOB, 3))).toBe('IBAKE_NO_PREKEY');
    // ids are never reused
    const more = decodeBundle(await again.generate(bobRing, BOB, 2, PERIOD, EXPIRY));
    expect(more.records.map((r) => r.id)).toEqual([6, 7]);
    again.close();
  });

  it('expired prekeys are purged; a signing key of another user cannot make Bob’s bundle', async () => {
    let now = NOW;
    const store = PrekeyStore.open(join(dir, 'exp.bin'), { now: () => now });
    await store.generate(bobRing, BOB, 2, PERIOD, NOW / 1000 + 60);
    now += 120_000;
    expect(store.status(BOB)[0]).toMatchObject({ available: 0, expired: 2 });
    expect(await store.purge()).toBe(2);
    expect(store.status(BOB)[0]).toMatchObject({ available: 0, expired: 0, nextId: 3 });
    expect(await errorCode(store.generate(eveRing, BOB, 1, PERIOD, EXPIRY))).toBe('IBAKE_NO_KEY');
    expect(await errorCode(store.generate(bobRing, BOB, 0, PERIOD, EXPIRY))).toBe('IBAKE_BAD_INPUT');
    expect(await errorCode(store.generate(bobRing, BOB, 1, PERIOD, now / 1000 - 1))).toBe('IBAKE_BAD_INPUT');
    store.close();
  });

  it('a corrupt, truncated or loosely-permissioned file is refused, never regenerated', () => {
    const good = readFileSync(path);
    const bad = join(dir, 'bad.bin');
    for (const bytes of [good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])]), Buffer.from('IBPS\x02\0\0')]) {
      writeFileSync(bad, bytes, { mode: 0o600 });
      expect(() => PrekeyStore.open(bad)).toThrow(/corrupt/);
      expect(readFileSync(bad).equals(bytes)).toBe(true);
    }
    writeFileSync(bad, good, { mode: 0o600 });
    chmodSync(bad, 0o644);
    expect(() => PrekeyStore.open(bad)).toThrow(/0600/);
  });
});

describe('the mailbox', () => {
  it('adds checked bundles, hands out each prekey once, keeps only public values', async () => {
    const path = join(dir, 'mailbox.json');
    const user = PrekeyStore.open(join(dir, 'mb-user.bin'), { now: () => NOW });
    const bundle = await user.generate(bobRing, BOB, 3, PERIOD, EXPIRY);
    const mb = MailboxPrekeys.open(path);
    expect(await mb.add(verifier, bundle, NOW)).toEqual({ uri: BOB, added: 3, available: 3 });
    expect(await errorCode(mb.add(verifier, bundle, NOW))).toBe('IBAKE_PREKEY_INVALID'); // same ids again
    const first = (await mb.take(BOB, NOW))!;
    expect(first.id).toBe(1);
    expect(mb.status(BOB, NOW)).toEqual({ uri: BOB, available: 2, expired: 0, used: 1 });
    const text = readFileSync(path, 'utf8');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    for (const id of [1, 2, 3]) {
      const { secret } = await user.take(BOB, id);
      expect(text.includes(hex(secret))).toBe(false);
    }
    // after a restart the used id stays used: re-adding a bundle with id 1 is refused
    const mb2 = MailboxPrekeys.open(path);
    expect(mb2.status(BOB, NOW)).toEqual({ uri: BOB, available: 2, expired: 0, used: 1 });
    const replay = encodeBundle({ uri: BOB, records: [first] });
    expect(await mb2.add(verifier, replay, NOW).catch((e) => e.reason)).toBe('reused-id');
    expect((await mb2.take(BOB, NOW))!.id).toBe(2);
    expect((await mb2.take(BOB, NOW))!.id).toBe(3);
    expect(await mb2.take(BOB, NOW)).toBeUndefined();
    expect(await mb2.take(EVE, NOW)).toBeUndefined();
    user.close();
  });

  it('refuses forged bundles, all or nothing', async () => {
    const mb = MailboxPrekeys.memory();
    const good = await signRecord(bobRing, BOB, { id: 10, period: PERIOD, expiry: EXPIRY, publicKey: generateEphemeral().publicPoint });
    const reasons = async (records: PrekeyRecord[], uri = BOB, now = NOW) => mb.add(verifier, encodeBundle({ uri, records }), now).then(() => 'accepted', (e) => e.reason ?? e.code);
    // Eve signs a prekey and claims it is Bob's
    const byEve = await signRecord(eveRing, EVE, { id: 11, period: PERIOD, expiry: EXPIRY, publicKey: generateEphemeral().publicPoint });
    expect(await reasons([good, byEve])).toBe('signature');
    // Bob's record presented as Eve's
    expect(await reasons([good], EVE)).toBe('signature');
    // tampered public key / id / expiry under Bob's signature
    expect(await reasons([{ ...good, publicKey: generateEphemeral().publicPoint }])).toBe('signature');
    expect(await reasons([{ ...good, id: 12 }])).toBe('signature');
    expect(await reasons([{ ...good, expiry: good.expiry + 1 }])).toBe('signature');
    // expired, and a period that has not started
    expect(await reasons([good], BOB, EXPIRY * 1000 + 1)).toBe('expired');
    expect(await reasons([good], BOB, Date.parse('2026-11-30T00:00:00Z'))).toBe('future');
    // nothing of the refused bundles was stored
    expect(mb.status(BOB, NOW)).toEqual({ uri: BOB, available: 0, expired: 0, used: 0 });
    expect(await reasons([good])).toBe('accepted');
  });
});

describe('the initiator’s checks and SK', () => {
  it('another user’s record, an expired one, a replayed id: refused', async () => {
    const r = await signRecord(bobRing, BOB, { id: 20, period: PERIOD, expiry: EXPIRY, publicKey: generateEphemeral().publicPoint });
    await checkRecord(verifier, BOB, r, NOW);
    expect(await checkRecord(verifier, EVE, r, NOW).catch((e) => e.reason)).toBe('signature');
    expect(await checkRecord(verifier, BOB, r, EXPIRY * 1000).catch((e) => e.reason)).toBe('expired');
    const bad = { ...r, signature: r.signature.slice() };
    bad.signature[100]! ^= 1;
    expect(await checkRecord(verifier, BOB, bad, NOW).catch((e) => e.reason)).toBe('signature');
    const seen = new PrekeySeen();
    seen.note(BOB, r.id, r.expiry, NOW);
    expect(() => seen.note(BOB, r.id, r.expiry, NOW)).toThrow(expect.objectContaining({ code: 'IBAKE_PREKEY_INVALID', reason: 'reused-id' }));
    seen.note(EVE, r.id, r.expiry, NOW); // another user's id space
  });

  it('SK: initiator and user agree; every input matters; public values alone do not give it', async () => {
    const prekey = generateEphemeral();
    const ei = generateEphemeral();
    const base = { idi: 'sip:alice@example.org', idr: BOB, csbId: 0xdeadbeef, rand: new Uint8Array(16).fill(9), prekeyId: 4, ei: ei.publicPoint, prekey: prekey.publicPoint };
    const a = deriveDeferredSk({ ...base, secret: ei.secret, peer: prekey.publicPoint });
    const b = deriveDeferredSk({ ...base, secret: prekey.secret, peer: ei.publicPoint });
    expect(a.length).toBe(32);
    expect(hex(a)).toBe(hex(b));
    const variants = [
      { idi: 'sip:mallory@example.org' }, { idr: 'sip:mailbox@example.org' }, { csbId: 1 }, { rand: new Uint8Array(16) }, { prekeyId: 5 },
    ];
    for (const v of variants) expect(hex(deriveDeferredSk({ ...base, ...v, secret: ei.secret, peer: prekey.publicPoint }))).not.toBe(hex(a));
    // what the KMS holds after decrypting the ESK: e_i·P, the prekey's public key, ids, RAND —
    // and its own fresh scalars; none reproduces SK
    const kms = generateEphemeral();
    for (const peer of [prekey.publicPoint, ei.publicPoint]) expect(hex(deriveDeferredSk({ ...base, secret: kms.secret, peer }))).not.toBe(hex(a));
  });
});

