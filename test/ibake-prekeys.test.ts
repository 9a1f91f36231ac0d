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
  decodeBundle, decodeRecord, encodeBundle, encodeHeader, encodeRecord, PrekeyVerifier, recordOf, signBundle, signedMessage, verifierFor,
} from '../src/ibake/prekey/record.js';
import { createHash } from 'node:crypto';
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

describe('the signing keyring', () => {
  // found by fuzzing prekeys.generate in parallel: re-adding a held key wiped the buffer a
  // sign() in flight was using, and that sign failed with ENGINE_NON_CANONICAL
  it('adding a held signing key again keeps the held copy: signs running with it are not disturbed', async () => {
    const d = await kmsDomain('urn:ibaked:kms:prekeys-readd');
    const ring = new IbsKeyring(d.engine, (d.params.suite as { Ppub: Uint8Array }).Ppub);
    const key = await extractSigningKey(d.master, d.params, identityFor(BOB, PERIOD, 'day').bytes, d.engine);
    await ring.addKey(BOB, PERIOD, key);
    const m = Uint8Array.of(1, 2, 3);
    const signing = Array.from({ length: 4 }, () => ring.sign(BOB, PERIOD, m));
    await Promise.all(Array.from({ length: 4 }, () => ring.addKey(BOB, PERIOD, key.slice())));
    for (const sig of await Promise.all(signing)) expect(await ring.verify(BOB, PERIOD, m, sig)).toBe(true);
    expect(await ring.verify(BOB, PERIOD, m, await ring.sign(BOB, PERIOD, m))).toBe(true);
    ring.close();
  });
});

describe('bundle and record octets', () => {
  const prekeys = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, publicKey: generateEphemeral().publicPoint }));

  it('the documented layout, byte by byte; Merkle paths for every size 1..9', async () => {
    const ps = prekeys(3);
    const b = await signBundle(bobRing, BOB, PERIOD, 0x7789abcd, ps);
    const h = encodeHeader(b.header);
    expect(h.length).toBe(53);
    expect(hex(h.subarray(0, 21))).toBe('02' + Buffer.from(PERIOD).toString('hex') + '000000007789abcd' + '0003');
    // root = H(1 ‖ H(1 ‖ l1 ‖ l2) ‖ H(1 ‖ l3 ‖ H(2))), leaf = H(0 ‖ id ‖ pub)
    const H = (...x: Uint8Array[]) => new Uint8Array(createHash('sha256').update(Buffer.concat(x)).digest());
    const leaf = (p: { id: number; publicKey: Uint8Array }) => H(Uint8Array.of(0, 0, 0, 0, p.id), p.publicKey);
    const want = H(Uint8Array.of(1), H(Uint8Array.of(1), leaf(ps[0]!), leaf(ps[1]!)), H(Uint8Array.of(1), leaf(ps[2]!), H(Uint8Array.of(2))));
    expect(hex(h.subarray(21))).toBe(hex(want));
    expect(hex(signedMessage(BOB, h))).toBe(Buffer.from('MIKEY-IBAKE-V02 PREKEY BUNDLE\0').toString('hex') + '0013' + Buffer.from(BOB).toString('hex') + hex(h));
    const bytes = encodeBundle(b);
    expect(Buffer.from(bytes.subarray(0, 5)).toString('latin1')).toBe('IBPK\u0002');
    expect(bytes.length).toBe(7 + BOB.length + 53 + 192 + 3 * 69);
    expect(decodeBundle(bytes)).toEqual(b);
    const r = recordOf(b, 2);
    const rb = encodeRecord(r);
    expect(rb.length).toBe(53 + 192 + 2 + 4 + 65 + 2 * 32);
    expect(hex(rb.subarray(245, 251))).toBe('0002' + '00000003');
    expect(decodeRecord(rb)).toEqual(r);
    await verifierFor(verifier).record(BOB, decodeRecord(rb), NOW);
    for (let n = 1; n <= 9; n++) {
      const bn = await signBundle(bobRing, BOB, PERIOD, EXPIRY, prekeys(n));
      for (let i = 0; i < n; i++) await new PrekeyVerifier(verifier).record(BOB, decodeRecord(encodeRecord(recordOf(bn, i))), NOW);
    }
  });

  it('malformed or forged records and bundles are refused', async () => {
    const ps = prekeys(4);
    const b = await signBundle(bobRing, BOB, PERIOD, EXPIRY, ps);
    const rb = encodeRecord(recordOf(b, 1));
    const mutate = (bytes: Uint8Array, at: number, v: number) => {
      const c = bytes.slice();
      c[at] = v;
      return c;
    };
    const decodeCode = (bytes: Uint8Array) => errorCode(Promise.resolve().then(() => decodeRecord(bytes)));
    expect(await decodeCode(mutate(rb, 0, 1))).toBe('IBAKE_PREKEY_INVALID'); // version
    expect(await decodeCode(mutate(rb, 5, 0x2f))).toBe('IBAKE_PREKEY_INVALID'); // "2026/12-01"
    expect(await decodeCode(mutate(rb, 20, 0))).toBe('IBAKE_PREKEY_INVALID'); // count 0
    expect(await decodeCode(mutate(rb, 251, 3))).toBe('IBAKE_PREKEY_INVALID'); // point prefix
    expect(await decodeCode(rb.subarray(0, rb.length - 1))).toBe('IBAKE_PREKEY_INVALID');
    expect(await decodeCode(mutate(rb, 246, 9))).toBe('IBAKE_PREKEY_INVALID'); // index outside
    // well-formed but forged: another id / key / path / root under Bob's signature
    const reason = (bytes: Uint8Array, uri = BOB) => new PrekeyVerifier(verifier).record(uri, decodeRecord(bytes), NOW).then(() => 'accepted', (e) => e.reason);
    expect(await reason(mutate(rb, 250, rb[250]! ^ 1))).toBe('signature'); // id
    expect(await reason(mutate(rb, 316, rb[316]! ^ 1))).toBe('signature'); // path
    expect(await reason(mutate(rb, 30, rb[30]! ^ 1))).toBe('signature'); // root (header)
    expect(await reason(mutate(rb, 100, rb[100]! ^ 1))).toBe('signature'); // signature
    expect(await reason(rb, EVE)).toBe('signature'); // another user's name
    expect(await reason(rb)).toBe('accepted');
    // bundles: duplicate ids, root not matching, truncation, magic
    const bytes = encodeBundle(b);
    expect(await errorCode(Promise.resolve().then(() => decodeBundle(encodeBundle({ ...b, prekeys: [ps[0]!, ps[0]!, ps[2]!, ps[3]!] }))))).toBe('IBAKE_PREKEY_INVALID');
    expect(await errorCode(Promise.resolve().then(() => decodeBundle(mutate(bytes, bytes.length - 1, bytes[bytes.length - 1]! ^ 1))))).toBe('IBAKE_PREKEY_INVALID');
    expect(await errorCode(Promise.resolve().then(() => decodeBundle(bytes.subarray(0, bytes.length - 1))))).toBe('IBAKE_PREKEY_INVALID');
    expect(await errorCode(Promise.resolve().then(() => decodeBundle(mutate(bytes, 0, 0))))).toBe('IBAKE_PREKEY_INVALID');
  });
});

describe('the user’s prekey store', () => {
  const path = join(dir, 'bob-prekeys.bin');
  let bundle: Uint8Array;

  it('generate: a signed bundle; the file is 0600 and holds the private halves', async () => {
    const store = PrekeyStore.open(path, { now: () => NOW });
    bundle = await store.generate(bobRing, BOB, 5, PERIOD, EXPIRY);
    const b = decodeBundle(bundle);
    expect(b.uri).toBe(BOB);
    expect(b.prekeys.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    for (let i = 0; i < 5; i++) await new PrekeyVerifier(verifier).record(BOB, recordOf(b, i), NOW);
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
    expect(more.prekeys.map((r) => r.id)).toEqual([6, 7]);
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
    for (const bytes of [good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])]), Buffer.from('IBPS\x01\0\0')]) {
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
    const v = new PrekeyVerifier(verifier);
    expect(await mb.add(v, bundle, NOW)).toEqual({ uri: BOB, added: 3, available: 3 });
    expect(await errorCode(mb.add(v, bundle, NOW))).toBe('IBAKE_PREKEY_INVALID'); // same ids again
    const first = (await mb.take(BOB, NOW))!;
    expect(first.id).toBe(1);
    await new PrekeyVerifier(verifier).record(BOB, decodeRecord(encodeRecord(first)), NOW);
    expect(mb.status(BOB, NOW)).toEqual({ uri: BOB, available: 2, expired: 0, used: 1 });
    const text = readFileSync(path, 'utf8');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    for (const id of [1, 2, 3]) {
      const { secret } = await user.take(BOB, id);
      expect(text.includes(hex(secret))).toBe(false);
    }
    // after a restart the used id stays used: re-adding the bundle is refused
    const mb2 = MailboxPrekeys.open(path);
    expect(mb2.status(BOB, NOW)).toEqual({ uri: BOB, available: 2, expired: 0, used: 1 });
    expect(await mb2.add(v, bundle, NOW).catch((e) => e.reason)).toBe('reused-id');
    expect((await mb2.take(BOB, NOW))!.id).toBe(2);
    expect((await mb2.take(BOB, NOW))!.id).toBe(3);
    expect(await mb2.take(BOB, NOW)).toBeUndefined();
    expect(await mb2.take(EVE, NOW)).toBeUndefined();
    user.close();
    await mb.close(); // their journals' file handles
    await mb2.close();
  });

  it('refuses forged bundles, all or nothing', async () => {
    const mb = MailboxPrekeys.memory();
    const ps = [10, 11].map((id) => ({ id, publicKey: generateEphemeral().publicPoint }));
    const good = await signBundle(bobRing, BOB, PERIOD, EXPIRY, ps);
    const reasons = async (b: Parameters<typeof encodeBundle>[0], now = NOW) =>
      mb.add(new PrekeyVerifier(verifier), encodeBundle(b), now).then(() => 'accepted', (e) => e.reason ?? e.code);
    // Eve signs a bundle and claims it is Bob's; Bob's bundle presented as Eve's
    const byEve = await signBundle(eveRing, EVE, PERIOD, EXPIRY, ps);
    expect(await reasons({ ...byEve, uri: BOB })).toBe('signature');
    expect(await reasons({ ...good, uri: EVE })).toBe('signature');
    // a prekey swapped (the root no longer matches), a header changed under Bob's signature
    expect(await reasons({ ...good, prekeys: [ps[0]!, { id: 11, publicKey: generateEphemeral().publicPoint }] })).toBe('signature');
    expect(await reasons({ ...good, header: { ...good.header, expiry: good.header.expiry + 1 } })).toBe('signature');
    // expired, and a period that has not started
    expect(await reasons(good, EXPIRY * 1000 + 1)).toBe('expired');
    expect(await reasons(good, Date.parse('2026-11-30T00:00:00Z'))).toBe('future');
    expect(mb.status(BOB, NOW)).toEqual({ uri: BOB, available: 0, expired: 0, used: 0 });
    expect(await reasons(good)).toBe('accepted');
  });
});

describe('the initiator’s checks and SK', () => {
  it('another user’s record, an expired one, a replayed id: refused; a checked bundle header is remembered', async () => {
    const b = await signBundle(bobRing, BOB, PERIOD, EXPIRY, [20, 21].map((id) => ({ id, publicKey: generateEphemeral().publicPoint })));
    const r = recordOf(b, 0);
    let verifies = 0;
    const counting = { sign: verifier.sign.bind(verifier), verify: (...a: Parameters<IbsKeyring['verify']>) => (verifies++, verifier.verify(...a)) };
    const v = new PrekeyVerifier(counting);
    await v.record(BOB, r, NOW);
    await v.record(BOB, recordOf(b, 1), NOW);
    expect(verifies).toBe(1); // the second prekey of the same bundle: hashes only
    expect(await v.record(EVE, r, NOW).catch((e) => e.reason)).toBe('signature');
    expect(await v.record(BOB, r, EXPIRY * 1000).catch((e) => e.reason)).toBe('expired');
    const seen = new PrekeySeen();
    seen.note(BOB, r.id, r.header.expiry, NOW);
    expect(() => seen.note(BOB, r.id, r.header.expiry, NOW)).toThrow(expect.objectContaining({ code: 'IBAKE_PREKEY_INVALID', reason: 'reused-id' }));
    seen.note(EVE, r.id, r.header.expiry, NOW); // another user's id space
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

