// Adversarial review of deferred delivery v2 through a real ibaked process (bin/ibaked.js,
// development mode, over its socket): a hostile local client and a hostile remote party against
// prekeys.generate / prekeys.status / mailbox.prekeys.add / deferred.open. Covers: two
// concurrent opens of one stored message (one wins, the other IBAKE_NO_PREKEY: keys released
// once), opening another identity's message (refused, its prekey kept), a stored message whose
// clear fields were altered (opens with other keys and burns the prekey: the documented limit,
// bounded to one prekey per open), mailbox bundles relabelled for another user, with a flipped
// signature bit, or delivered twice, the cap on prekeys one identity may hold (disk and memory),
// prekey ids never reused across a restart, the two state files' mode 0600, a corrupt or
// loose-mode prekey store refused (never regenerated), a corrupt mailbox table refused at start,
// and that no prekey private half or SRTP key reaches the log or the metrics.
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { BUILT, newDir, startDaemonProc, type DaemonProc } from './helpers/daemon-proc.js';

const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
const C = 'sip:carol@example.org';
const M = 'sip:bob-voicemail@example.org';

interface Key { csId: number; masterKey: Uint8Array; masterSalt: Uint8Array }
interface Recv { csbId: number; reply?: Uint8Array; established?: { mode: string; keys: Key[] }; stored?: { forUser: string; from: string; message: Uint8Array } }
const hex = (k: Key[]) => k.map((x) => `${x.csId}:${Buffer.from(x.masterKey).toString('hex')}/${Buffer.from(x.masterSalt).toString('hex')}`).join();
const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e));

const CFG = {
  workers: 0,
  engine: 'ts',
  logLevel: 'debug',
  identities: [{ uri: A }, { uri: B }, { uri: C }, { uri: M, mailbox: true }],
  deferred: { mailboxes: { [B]: [M] } },
};

/** A calls B; M answers and stores the I_MESSAGE_2. */
async function call(c: IbakedClient) {
  const i1 = await c.request<{ message: Uint8Array }>('exchange.initiate', { from: A, to: B });
  const r1 = await c.request<Recv>('exchange.receive', { identity: M, message: i1.message });
  const i2 = await c.request<Recv>('exchange.receive', { identity: A, message: r1.reply! });
  const r2 = await c.request<Recv>('exchange.receive', { identity: M, message: i2.reply! });
  const done = await c.request<Recv>('exchange.receive', { identity: A, message: r2.reply! });
  return { stored: r2.stored!.message, keys: done.established!.keys };
}

async function supply(c: IbakedClient, count: number) {
  const gen = await c.request<{ bundle: Uint8Array; ids: number[] }>('prekeys.generate', { identity: B, count });
  await c.request('mailbox.prekeys.add', { bundle: gen.bundle });
  return gen;
}

/** The private halves in a prekeys.bin (format: src/ibake/prekey/store.ts). */
function storedSecrets(file: string): string[] {
  const b = readFileSync(file);
  const out: string[] = [];
  let at = 7;
  for (let i = b.readUInt16BE(5); i > 0; i--) {
    const ul = b.readUInt16BE(at);
    at += 2 + ul;
    const count = b.readUInt32BE(at + 4);
    at += 8;
    for (let j = 0; j < count; j++, at += 119) out.push(b.subarray(at + 87, at + 119).toString('hex'));
  }
  return out;
}

describe.runIf(BUILT)('review: deferred delivery v2 through ibaked', () => {
  let d: DaemonProc;
  let c: IbakedClient;
  let c2: IbakedClient;
  beforeAll(async () => {
    d = await startDaemonProc(CFG);
    c = await IbakedClient.connect(d.sock);
    c2 = await IbakedClient.connect(d.sock);
  }, 120_000);
  afterAll(async () => {
    c?.close();
    c2?.close();
    await d?.stop();
  });

  it('two concurrent deferred.open of one message (two connections): keys are released once', async () => {
    await supply(c, 1);
    const { stored, keys } = await call(c);
    const [x, y] = await Promise.allSettled([
      c.request<{ keys: Key[] }>('deferred.open', { identity: B, message: stored }),
      c2.request<{ keys: Key[] }>('deferred.open', { identity: B, message: stored }),
    ]);
    const ok = [x, y].filter((r) => r.status === 'fulfilled') as Array<PromiseFulfilledResult<{ keys: Key[] }>>;
    const bad = [x, y].filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(1);
    expect(hex(ok[0]!.value.keys)).toBe(hex(keys));
    expect(bad.map((r) => (r.reason as { code: string }).code)).toEqual(['IBAKE_NO_PREKEY']);
  }, 120_000);

  it('another local identity cannot open B\'s message, and B\'s prekey survives the attempt', async () => {
    await supply(c, 1);
    const { stored, keys } = await call(c);
    expect(await code(c2.request('deferred.open', { identity: C, message: stored }))).toBe('IBAKE_AUTH_FAILED');
    expect(await code(c2.request('deferred.open', { identity: A, message: stored }))).toBe('IBAKE_AUTH_FAILED');
    const opened = await c.request<{ keys: Key[] }>('deferred.open', { identity: B, message: stored });
    expect(hex(opened.keys)).toBe(hex(keys));
  }, 120_000);

  it('a stored message with an altered clear field (CSB ID) opens with other keys and burns its prekey: one prekey per open (documented limit)', async () => {
    await supply(c, 1);
    const { stored, keys } = await call(c);
    const before = (await c.request<{ prekeys: Array<{ available: number }> }>('prekeys.status', { identity: B })).prekeys[0]!.available;
    // the CSB ID (common header octets 4..7) is in no MAC: it only feeds SK's HKDF info and the SRTP derivation
    const m = stored.slice();
    m[7]! ^= 0x01;
    const r = await c.request<{ csbId: number; keys: Key[] }>('deferred.open', { identity: B, message: m });
    expect(hex(r.keys)).not.toBe(hex(keys));
    const after = (await c.request<{ prekeys: Array<{ available: number }> }>('prekeys.status', { identity: B })).prekeys[0]!.available;
    expect(after).toBe(before - 1); // exactly one prekey per successful open, whatever was tried before
    expect(await code(c.request('deferred.open', { identity: B, message: stored }))).toBe('IBAKE_NO_PREKEY');
  }, 120_000);

  it('mailbox.prekeys.add refuses a bundle relabelled for another user, a flipped signature bit and a second delivery', async () => {
    const gen = await c.request<{ bundle: Uint8Array }>('prekeys.generate', { identity: B, count: 2 });
    // relabel: B → C (same length URI is not needed: rebuild the length prefix)
    const b = Buffer.from(gen.bundle);
    const ul = b.readUInt16BE(5);
    const uriC = Buffer.from(C);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(uriC.length);
    const relabelled = Buffer.concat([b.subarray(0, 5), len, uriC, b.subarray(7 + ul)]);
    expect(await code(c2.request('mailbox.prekeys.add', { bundle: new Uint8Array(relabelled) }))).toBe('IBAKE_PREKEY_INVALID');
    const flipped = gen.bundle.slice();
    flipped[7 + ul + 53 + 10]! ^= 1; // inside the signature
    expect(await code(c2.request('mailbox.prekeys.add', { bundle: flipped }))).toMatch(/IBAKE_PREKEY_INVALID|IBAKE_MALFORMED|IBAKE_BAD_INPUT/);
    expect(await c2.request('mailbox.prekeys.status', { identity: C })).toMatchObject({ available: 0, used: 0 });
    await c.request('mailbox.prekeys.add', { bundle: gen.bundle });
    expect(await code(c2.request('mailbox.prekeys.add', { bundle: gen.bundle }))).toBe('IBAKE_PREKEY_INVALID');
  }, 120_000);

  it('one identity cannot grow its prekey store without bound (disk and memory): IBAKE_BUSY past the cap, store unchanged', async () => {
    const held = () => c.request<{ prekeys: Array<{ available: number; nextId: number }> }>('prekeys.status', { identity: C }).then((r) => r.prekeys[0]);
    let last = 'ok';
    for (let i = 0; i < 60 && last === 'ok'; i++) last = await code(c.request('prekeys.generate', { identity: C, count: 200 }));
    expect(last).toBe('IBAKE_BUSY');
    const s = await held();
    expect(s!.available).toBeLessThanOrEqual(10_000);
    expect(await code(c.request('prekeys.generate', { identity: C, count: 1 }))).toBe('IBAKE_BUSY');
    expect((await held())!.nextId).toBe(s!.nextId);
  }, 300_000);

  it('prekeys that expired unused at the mailbox do not block the user\'s next bundle (period rollover with a full table)', async () => {
    const D = 'sip:dora@example.org';
    await c.request('identity.add', { uri: D });
    const expiry = Math.floor(Date.now() / 1000) + 20;
    for (let i = 0; i < 50; i++) {
      const g = await c.request<{ bundle: Uint8Array }>('prekeys.generate', { identity: D, count: 200, expiry });
      await c.request('mailbox.prekeys.add', { bundle: g.bundle });
    }
    expect(await c.request('mailbox.prekeys.status', { identity: D })).toMatchObject({ available: 10_000, expired: 0 });
    while (Date.now() / 1000 <= expiry + 1) await new Promise((r) => setTimeout(r, 500));
    expect(await c.request('mailbox.prekeys.status', { identity: D })).toMatchObject({ available: 0 });
    const fresh = await c.request<{ bundle: Uint8Array }>('prekeys.generate', { identity: D, count: 100 });
    expect(await c.request('mailbox.prekeys.add', { bundle: fresh.bundle })).toMatchObject({ uri: D, added: 100, available: 100 });
    expect(await c.request('mailbox.prekeys.status', { identity: D })).toMatchObject({ available: 100, expired: 0 });
  }, 120_000);

  it('two concurrent identity.add of one new URI, with and without mailbox: no reply contradicts the mode it got', async () => {
    for (const mailboxFirst of [false, true]) {
      const X = `sip:race-${mailboxFirst ? 'm' : 'n'}@example.org`;
      const reqs = mailboxFirst ? [{ uri: X, mailbox: true }, { uri: X }] : [{ uri: X }, { uri: X, mailbox: true }];
      const got = await Promise.allSettled(reqs.map((p) => c.request<{ mailbox?: boolean }>('identity.add', p)));
      // the mode it ended with: a plain identity.add is refused iff X is a mailbox
      const isMailbox = (await code(c.request('identity.add', { uri: X }))) === 'BAD_PARAMS';
      got.forEach((r, i) => {
        if (r.status === 'fulfilled') expect(r.value.mailbox === true).toBe(isMailbox);
        else expect((r.reason as { code: string }).code).toBe('BAD_PARAMS');
        if (r.status === 'fulfilled') expect(reqs[i]!.mailbox === true).toBe(isMailbox);
      });
    }
  }, 120_000);

  it('no prekey private half nor SRTP key reaches the log or the metrics', async () => {
    await supply(c, 2);
    const { stored, keys } = await call(c);
    const secrets = storedSecrets(join(d.dir, 'state', 'prekeys.bin'));
    expect(secrets.length).toBeGreaterThan(0);
    const opened = await c.request<{ keys: Key[] }>('deferred.open', { identity: B, message: stored });
    expect(hex(opened.keys)).toBe(hex(keys));
    const metrics = JSON.stringify(await c.request('metrics'));
    const log = d.err();
    const lookFor = [...secrets, ...keys.map((k) => Buffer.from(k.masterKey).toString('hex'))];
    for (const s of lookFor) {
      for (const form of [s, Buffer.from(s, 'hex').toString('base64')]) {
        expect(log.includes(form)).toBe(false);
        expect(metrics.includes(form)).toBe(false);
      }
    }
    expect(statSync(join(d.dir, 'state', 'prekeys.bin')).mode & 0o777).toBe(0o600);
    expect(statSync(join(d.dir, 'state', 'mailbox-prekeys.json')).mode & 0o777).toBe(0o600);
    // the hand-out journal: one line per prekey handed out, public ids only
    const journal = join(d.dir, 'state', 'mailbox-prekeys.used');
    expect(statSync(journal).mode & 0o777).toBe(0o600);
    expect(readFileSync(journal, 'utf8')).toMatch(/^(\["sip:bob@example\.org",\d+,\d+\]\n)+$/);
  }, 120_000);
});

describe.runIf(BUILT)('review: the prekey state files across restarts', () => {
  it('ids are never reused after a restart; an opened message stays unopenable; a loose-mode or corrupt store stops the start and is left as it was', async () => {
    const dir = newDir();
    let d = await startDaemonProc(CFG, { dir });
    let c = await IbakedClient.connect(d.sock);
    const gen = await supply(c, 2);
    expect(gen.ids).toEqual([1, 2]);
    const { stored } = await call(c);
    await c.request('deferred.open', { identity: B, message: stored });
    c.close();
    await d.stop();

    d = await startDaemonProc(CFG, { dir });
    c = await IbakedClient.connect(d.sock);
    expect(await code(c.request('deferred.open', { identity: B, message: stored }))).toBe('IBAKE_NO_PREKEY');
    const again = await c.request<{ ids: number[] }>('prekeys.generate', { identity: B, count: 1 });
    expect(again.ids).toEqual([3, 3]);
    c.close();
    await d.stop();

    const file = join(dir, 'state', 'prekeys.bin');
    const refused = async (why: RegExp) => {
      const bad = await startDaemonProc(CFG, { dir, wait: false });
      const running = setTimeout(() => void bad.stop(), 20_000); // a daemon that starts anyway fails the test, not hangs it
      const exit = await bad.exited;
      clearTimeout(running);
      expect(bad.err()).not.toMatch(/listening on/);
      expect(exit).not.toBe(0);
      expect(bad.err()).toMatch(why);
    };
    chmodSync(file, 0o644);
    await refused(/prekey store .* is corrupt \(mode 644/);
    chmodSync(file, 0o600);
    const good = readFileSync(file);
    writeFileSync(file, good.subarray(0, good.length - 3));
    await refused(/prekey store .* is corrupt \(truncated/);
    expect(readFileSync(file).equals(good.subarray(0, good.length - 3))).toBe(true); // never regenerated
    writeFileSync(file, good);
    d = await startDaemonProc(CFG, { dir });
    c = await IbakedClient.connect(d.sock);
    expect(await c.request('prekeys.status', { identity: B })).toEqual({ prekeys: [{ uri: B, available: 2, expired: 0, nextId: 4 }] });
    c.close();
    await d.stop();
  }, 240_000);

  it('a corrupt mailbox table with a mailbox identity configured: the daemon refuses to start', async () => {
    const dir = newDir();
    let d = await startDaemonProc(CFG, { dir });
    let c = await IbakedClient.connect(d.sock);
    await supply(c, 1);
    c.close();
    await d.stop();
    const file = join(dir, 'state', 'mailbox-prekeys.json');
    const good = readFileSync(file);
    writeFileSync(file, '{"version":2,"users":{"sip:bob@example.org":{"bundles":["zz"],"used":[]}}}', { mode: 0o600 });
    d = await startDaemonProc(CFG, { dir, wait: false });
    const exit = await d.exited;
    expect(exit).not.toBe(0);
    expect(d.err()).toMatch(/mailbox prekey file .* is corrupt/);
    expect(readFileSync(file, 'utf8')).toContain('"zz"');
    // a good table with a bad line in its hand-out journal (not a torn tail): refused as well
    writeFileSync(file, good);
    const journal = join(dir, 'state', 'mailbox-prekeys.used');
    writeFileSync(journal, `["${B}",1\n["${B}",2,1]\n`, { mode: 0o600 });
    d = await startDaemonProc(CFG, { dir, wait: false });
    expect(await d.exited).not.toBe(0);
    expect(d.err()).toMatch(/mailbox prekey file .* is corrupt \(journal line 1\)/);
    expect(readFileSync(journal, 'utf8')).toBe(`["${B}",1\n["${B}",2,1]\n`);
  }, 120_000);
});
