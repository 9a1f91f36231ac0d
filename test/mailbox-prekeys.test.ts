// The mailbox prekey table's bounds and persistence (src/ibake/prekey/mailbox.ts,
// mailbox-journal.ts, used-ids.ts):
// * used ids as ranges: membership, counts and range merging against a Set, pruning by expiry;
// * caps: unused per user, held per user (a user fragmenting its ids), held in all (which also
//   bounds the number of users): IBAKE_BUSY and nothing stored; a drained user refills freely;
// * a hand-out rewrites nothing: the snapshot stays byte-identical (same inode), the journal
//   grows by one line; a reopen (a crash: nothing closed) replays it, no id is handed out twice;
// * a torn last journal line is tolerated and cut off; a bad line before the last, or a loose
//   mode, refuses the table and leaves the files as they were;
// * compaction (on add, after `compactLines` hand-outs) empties the journal and forgets ids of
//   expired bundles; a bundle older than what was forgotten is refused (a clock gone back);
// * a version-2 file is read (its used ids kept without expiry); a crash between the snapshot
//   and the journal's truncation replays lines the snapshot already holds, harmlessly.
// Signatures: a keyed-hash stand-in for the IBS port (verify really checks); the real Cha–Cheon
// checks of `add` are covered by test/ibake-prekeys.test.ts and the daemon tests.
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateEphemeral } from '../src/ibake/ecdh.js';
import type { IbsPort } from '../src/ibake/ibs-port.js';
import { journalPathOf, MailboxPrekeys, type MailboxLimits } from '../src/ibake/prekey/mailbox.js';
import { encodeBundle, PrekeyVerifier, signBundle } from '../src/ibake/prekey/record.js';
import { NEVER, UsedIds } from '../src/ibake/prekey/used-ids.js';
import { errorCode } from './helpers/outcome.js';

const PERIOD = '2026-12-01';
const NOW = Date.parse('2026-12-04T12:00:00Z');
const DAY = 86_400;
const EXPIRY = NOW / 1000 + 10 * DAY;
const dir = mkdtempSync(join(tmpdir(), 'mailbox-prekeys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// a keyed hash in place of Cha–Cheon: only this test's `sign` makes signatures `verify` accepts
const KEY = randomBytes(32);
const mac = (uri: string, period: string, m: Uint8Array) => {
  const h = createHash('sha256').update(KEY).update(`${uri}\0${period}\0`).update(m).digest();
  return new Uint8Array(Buffer.concat(Array.from({ length: 6 }, () => h)));
};
const ibs: IbsPort = {
  sign: async (uri, period, m) => mac(uri, period, m),
  verify: async (uri, period, m, sig) => Buffer.from(mac(uri, period, m)).equals(sig),
};
const verifier = () => new PrekeyVerifier(ibs);
const POINT = generateEphemeral().publicPoint; // ids must differ, the public keys need not here
const range = (lo: number, hi: number, step = 1) => Array.from({ length: Math.floor((hi - lo) / step) + 1 }, (_, i) => lo + i * step);
const bundleOf = async (uri: string, ids: number[], expiry = EXPIRY) =>
  encodeBundle(await signBundle(ibs, uri, PERIOD, expiry, ids.map((id) => ({ id, publicKey: POINT }))));
const user = (i: number) => `sip:u${i}@example.org`;
let n = 0;
const newPath = () => join(dir, `t${++n}.json`);
const lines = (path: string) => readFileSync(journalPathOf(path), 'utf8').split('\n').filter((l) => l !== '');
/** A file-backed table with `user(1)` holding ids 1..5, `taken` of them handed out. */
const fiveHeld = async (taken: number) => {
  const path = newPath();
  const B = user(1);
  const mb = MailboxPrekeys.open(path);
  await mb.add(verifier(), await bundleOf(B, range(1, 5)), NOW);
  await takeIds(mb, B, taken);
  return { path, B, mb };
};
const takeIds = async (mb: MailboxPrekeys, uri: string, count: number, now = NOW) => {
  const ids: (number | undefined)[] = [];
  for (let i = 0; i < count; i++) ids.push((await mb.take(uri, now))?.id);
  return ids;
};

describe('used ids as ranges', () => {
  it('agree with a Set (membership, count, maximal runs) under random inserts; prune by expiry', () => {
    for (let round = 0; round < 20; round++) {
      const u = new UsedIds();
      const set = new Set<number>();
      for (let i = 0; i < 300; i++) {
        const id = 1 + Math.floor(Math.random() * 200);
        u.add(id, 1000 + (id % 7));
        set.add(id);
      }
      for (let id = 0; id <= 202; id++) expect(u.has(id)).toBe(set.has(id));
      expect(u.size).toBe(set.size);
      const runs = [...set].filter((id) => !set.has(id - 1)).length;
      expect(u.ranges).toBe(runs);
      const json = u.toJSON();
      for (const [lo, hi, exp] of json) {
        // a range's expiry is the latest of its ids'
        expect(exp).toBe(Math.max(...range(lo, hi).map((id) => 1000 + (id % 7))));
      }
      const copy = new UsedIds();
      for (const r of json) expect(copy.appendRange(r)).toBe(true);
      expect(copy.toJSON()).toEqual(json);
      const latest = u.prune(1003);
      expect(latest).toBe(Math.max(0, ...json.map((r) => r[2]).filter((e) => e <= 1003)));
      expect(u.toJSON()).toEqual(json.filter((r) => r[2] > 1003));
    }
  });

  it('appendRange refuses unsorted, overlapping, adjacent or malformed ranges', () => {
    const u = new UsedIds();
    expect(u.appendRange([5, 9, 100])).toBe(true);
    for (const r of [[1, 3, 100], [9, 12, 100], [10, 12, 100], [12, 11, 100], [0, 0, 1], [20, 2 ** 32, 1], [20, 21, -1], [20, 21], '20', [20, 21.5, 1]]) {
      expect(u.appendRange(r)).toBe(false);
    }
    expect(u.toJSON()).toEqual([[5, 9, 100]]);
  });
});

describe('the caps', () => {
  const limits: Partial<MailboxLimits> = { perUser: 10, heldPerUser: 15, total: 30 };

  it('unused per user: IBAKE_BUSY and nothing stored; a drained user refills', async () => {
    const mb = MailboxPrekeys.memory(limits);
    const A = user(1);
    await mb.add(verifier(), await bundleOf(A, range(1, 5)), NOW);
    await mb.add(verifier(), await bundleOf(A, range(6, 10)), NOW);
    expect(await errorCode(mb.add(verifier(), await bundleOf(A, [11]), NOW))).toBe('IBAKE_BUSY');
    expect(mb.status(A, NOW)).toEqual({ uri: A, available: 10, expired: 0, used: 0 });
    // drained and refilled three times: the used ids stay one range, so nothing blocks the refill
    let next = 11;
    for (let i = 0; i < 3; i++) {
      expect(await takeIds(mb, A, 10)).toEqual(range(next - 10, next - 1));
      expect(await mb.take(A, NOW)).toBeUndefined();
      expect(await mb.add(verifier(), await bundleOf(A, range(next, next + 9)), NOW)).toEqual({ uri: A, added: 10, available: 10 });
      next += 10;
    }
    expect(mb.status(A, NOW)).toEqual({ uri: A, available: 10, expired: 0, used: 30 });
  });

  it('held per user: a user fragmenting its ids is stopped at heldPerUser', async () => {
    const mb = MailboxPrekeys.memory(limits);
    const F = user(2);
    await mb.add(verifier(), await bundleOf(F, range(1, 9, 2)), NOW);
    await takeIds(mb, F, 5);
    await mb.add(verifier(), await bundleOf(F, range(11, 19, 2)), NOW);
    await takeIds(mb, F, 5);
    // ten used ranges, no unused prekey: 10 + 6 > 15
    const e = await mb.add(verifier(), await bundleOf(F, range(21, 31, 2)), NOW).catch((x) => x);
    expect(e.code).toBe('IBAKE_BUSY');
    expect(e.message).toMatch(/more than 15 prekeys and used-id ranges at this mailbox/);
    expect(mb.status(F, NOW)).toEqual({ uri: F, available: 0, expired: 0, used: 10 });
    expect(await mb.add(verifier(), await bundleOf(F, range(21, 29, 2)), NOW)).toMatchObject({ available: 5 });
  });

  it('held in all (which bounds the users too): IBAKE_BUSY for anyone past it, until expired ones are forgotten', async () => {
    const mb = MailboxPrekeys.memory(limits);
    const soon = NOW / 1000 + 60;
    for (let i = 0; i < 30; i++) await mb.add(verifier(), await bundleOf(user(100 + i), [1], soon), NOW);
    const newcomer = user(200);
    const e = await mb.add(verifier(), await bundleOf(newcomer, [1]), NOW).catch((x) => x);
    expect(e.code).toBe('IBAKE_BUSY');
    expect(e.message).toMatch(/more than 30 prekeys and used-id ranges in all/);
    expect(mb.status(newcomer, NOW)).toEqual({ uri: newcomer, available: 0, expired: 0, used: 0 });
    // a user handed its prekey out still holds a used id: the cap stays reached
    expect((await mb.take(user(100), NOW))!.id).toBe(1);
    expect(await errorCode(mb.add(verifier(), await bundleOf(newcomer, [1]), NOW))).toBe('IBAKE_BUSY');
    // once the 30 bundles have expired, everything of theirs is forgotten
    const later = (soon + 1) * 1000;
    expect(await mb.add(verifier(), await bundleOf(newcomer, range(1, 10)), later)).toMatchObject({ available: 10 });
    expect(mb.status(user(100), later)).toEqual({ uri: user(100), available: 0, expired: 0, used: 0 });
  });
});

describe('the journal', () => {
  it('a hand-out leaves the snapshot alone and appends one line; a reopen replays it', async () => {
    const path = newPath();
    const B = user(1);
    const bundle = await bundleOf(B, range(1, 5));
    const mb = MailboxPrekeys.open(path);
    await mb.add(verifier(), bundle, NOW);
    const snap = readFileSync(path);
    const { ino, mode } = statSync(path);
    expect(mode & 0o777).toBe(0o600);
    expect(lines(path)).toEqual([]);
    expect(statSync(journalPathOf(path)).mode & 0o777).toBe(0o600);
    for (let i = 1; i <= 3; i++) {
      expect((await mb.take(B, NOW))!.id).toBe(i);
      expect(readFileSync(path).equals(snap)).toBe(true);
      expect(statSync(path).ino).toBe(ino);
      expect(lines(path)).toHaveLength(i);
      expect(JSON.parse(lines(path)[i - 1]!)).toEqual([B, i, EXPIRY]);
    }
    // a crash now (nothing closed, nothing compacted): the reopened table knows ids 1..3
    const mb2 = MailboxPrekeys.open(path);
    expect(mb2.status(B, NOW)).toEqual({ uri: B, available: 2, expired: 0, used: 3 });
    expect(await mb2.add(verifier(), bundle, NOW).catch((e) => e.reason)).toBe('reused-id');
    expect(await takeIds(mb2, B, 3)).toEqual([4, 5, undefined]);
    expect(MailboxPrekeys.open(path).status(B, NOW)).toMatchObject({ available: 0, used: 5 });
    await mb.close();
    await mb2.close();
  });

  it('a torn last line is ignored and cut off; a bad line before it, or a loose mode, refuses the table', async () => {
    const { path, B, mb } = await fiveHeld(2);
    await mb.close();
    const journal = journalPathOf(path);
    const good = readFileSync(journal, 'utf8');
    // a write cut short by a crash: that prekey was never returned
    appendFileSync(journal, `["${B}",3,`);
    const mb2 = MailboxPrekeys.open(path);
    expect(readFileSync(journal, 'utf8')).toBe(good);
    expect(mb2.status(B, NOW)).toMatchObject({ available: 3, used: 2 });
    expect((await mb2.take(B, NOW))!.id).toBe(3);
    await mb2.close();
    expect(lines(path).map((l) => JSON.parse(l)[1])).toEqual([1, 2, 3]);
    expect(MailboxPrekeys.open(path).status(B, NOW)).toMatchObject({ available: 2, used: 3 });
    // a complete line that is not an entry, anywhere but as a torn tail: corrupt
    const now = readFileSync(journal, 'utf8');
    const [l1, ...rest] = now.split('\n');
    for (const bad of [`${l1}\n{"x":1}\n${rest.join('\n')}`, `${l1}\n\n${rest.join('\n')}`, `["${B}",0,1]\n${now}`, `["${B}",1]\n${now}`, `${now}[1,2,3]\n`]) {
      writeFileSync(journal, bad);
      expect(() => MailboxPrekeys.open(path)).toThrow(/mailbox prekey file .* is corrupt \(journal line/);
      expect(readFileSync(journal, 'utf8')).toBe(bad);
    }
    writeFileSync(journal, now);
    chmodSync(journal, 0o644);
    expect(() => MailboxPrekeys.open(path)).toThrow(/journal mode must be 0600/);
  });

  it('compaction empties the journal, forgets ids of expired bundles and refuses bundles older than what it forgot', async () => {
    const path = newPath();
    const B = user(1);
    const t1 = NOW / 1000 + DAY;
    const early = await bundleOf(B, range(1, 3), t1);
    const mb = MailboxPrekeys.open(path, { compactLines: 4 });
    await mb.add(verifier(), early, NOW);
    await mb.add(verifier(), await bundleOf(B, range(10, 12)), NOW);
    expect(await takeIds(mb, B, 3)).toEqual([1, 2, 3]);
    expect(lines(path)).toHaveLength(3);
    expect((await mb.take(B, NOW))!.id).toBe(10); // the 4th line: a compaction follows it
    await mb.close(); // queued after the compaction
    expect(lines(path)).toEqual([]);
    let snap = JSON.parse(readFileSync(path, 'utf8'));
    expect(snap.version).toBe(3);
    expect(snap.users[B].used).toEqual([[1, 3, t1], [10, 10, EXPIRY]]);
    expect(snap.users[B].bundles).toHaveLength(1); // the early bundle is used up
    // after t1, the next add forgets ids 1..3; ids 10.. stay
    const after = (t1 + 1) * 1000;
    await mb.add(verifier(), await bundleOf(user(2), [1]), after);
    snap = JSON.parse(readFileSync(path, 'utf8'));
    expect(snap.users[B].used).toEqual([[10, 10, EXPIRY]]);
    expect(snap.forgotten).toBe(t1);
    expect(mb.status(B, after)).toEqual({ uri: B, available: 2, expired: 0, used: 1 });
    // the clock goes back before t1: the early bundle (whose ids were forgotten) is still refused
    const mb2 = MailboxPrekeys.open(path);
    expect(await mb2.add(verifier(), early, NOW).catch((e) => e.reason)).toBe('expired');
    expect(mb2.status(B, NOW)).toEqual({ uri: B, available: 2, expired: 0, used: 1 });
    // a user whose ids have all been forgotten and who holds nothing is dropped
    await takeIds(mb2, B, 2, after);
    await mb2.add(verifier(), await bundleOf(user(3), [1]), after);
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')).users).sort()).toEqual([user(1), user(2), user(3)].sort());
    const end = (EXPIRY + 1) * 1000;
    await mb2.add(verifier(), await bundleOf(user(4), [1], EXPIRY + DAY), end);
    snap = JSON.parse(readFileSync(path, 'utf8'));
    expect(Object.keys(snap.users)).toEqual([user(4)]);
    expect(snap.forgotten).toBe(EXPIRY);
    await mb2.close();
    await mb.close(); // its add after the first close reopened the journal
  });

  it('a crash between the snapshot and the journal truncation replays lines the snapshot holds: no id comes back', async () => {
    const { path, B, mb } = await fiveHeld(2);
    const journal = readFileSync(journalPathOf(path));
    await mb.add(verifier(), await bundleOf(user(2), [1]), NOW); // compacts
    await mb.close();
    writeFileSync(journalPathOf(path), journal);
    const mb2 = MailboxPrekeys.open(path);
    expect(mb2.status(B, NOW)).toEqual({ uri: B, available: 3, expired: 0, used: 2 });
    expect(await takeIds(mb2, B, 4)).toEqual([3, 4, 5, undefined]);
    await mb2.close();
  });

  it('reads a version-2 file (used ids kept without expiry) and refuses a corrupt one', async () => {
    const path = newPath();
    const B = user(1);
    const bundle = await bundleOf(B, range(1, 4));
    const v2 = JSON.stringify({ version: 2, users: { [B]: { bundles: [Buffer.from(bundle).toString('hex')], used: [2, 1] } } });
    writeFileSync(path, v2, { mode: 0o600 });
    const mb = MailboxPrekeys.open(path);
    expect(mb.status(B, NOW)).toEqual({ uri: B, available: 2, expired: 0, used: 2 });
    expect((await mb.take(B, NOW))!.id).toBe(3);
    await mb.add(verifier(), await bundleOf(user(2), [1], EXPIRY + DAY), (EXPIRY + 1) * 1000);
    expect(JSON.parse(readFileSync(path, 'utf8')).users[B].used).toEqual([[1, 3, NEVER]]);
    await mb.close();
    for (const bad of [
      '{"version":3,"users":{}}', // no forgotten
      `{"version":3,"forgotten":0,"users":{"${B}":{"bundles":[],"used":[[3,4,1],[1,2,1]]}}}`,
      `{"version":3,"forgotten":0,"users":{"${B}":{"bundles":["${Buffer.from(bundle).toString('hex')}","${Buffer.from(bundle).toString('hex')}"],"used":[]}}}`,
      `{"version":2,"users":{"${B}":{"bundles":[],"used":[0]}}}`,
      '{"version":4,"users":{}}',
    ]) {
      writeFileSync(path, bad, { mode: 0o600 });
      expect(() => MailboxPrekeys.open(path)).toThrow(/mailbox prekey file .* is corrupt/);
      expect(readFileSync(path, 'utf8')).toBe(bad);
    }
  });
});
