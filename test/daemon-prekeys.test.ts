// The prekey IPC methods of a running ibaked (development mode, real socket):
// prekeys.generate signs a bundle with the identity's signing key fetched from the KMS (the
// bundle verifies against the identity and nobody else), stores the private halves 0600;
// prekeys.status counts them; mailbox.prekeys.add (the same daemon playing the mailbox) checks every
// signature and keeps public values only; a forged or replayed bundle is refused with
// IBAKE_PREKEY_INVALID; bad params are BAD_PARAMS; a non-local identity cannot generate.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { type DaemonConfig } from '../src/daemon/config.js';
import { testDaemonConfig } from './helpers/daemon-config.js';
import { startIbaked, type Ibaked } from '../src/daemon/daemon.js';
import { decodeBundle, encodeBundle, PrekeyVerifier, recordOf } from '../src/ibake/prekey/record.js';
import { IbsKeyring } from '../src/ibake/ibs-port.js';

const BOB = 'sip:bob@example.org';
const EVE = 'sip:eve@example.org';
const dir = mkdtempSync(join(tmpdir(), 'ibaked-pk-'));
const varDir = join(dir, 'var');

const config = (name: string, over: Partial<DaemonConfig> = {}): DaemonConfig => testDaemonConfig(join(dir, name, 'ibaked.sock'), varDir, over);

let d: Ibaked;
let c: IbakedClient;
beforeAll(async () => {
  d = await startIbaked(config('user'), () => {});
  c = await IbakedClient.connect(d.socketPath);
  await c.request('identity.add', { uri: BOB });
  await c.request('identity.add', { uri: EVE });
});
afterAll(async () => {
  c?.close();
  await d?.close();
  rmSync(dir, { recursive: true, force: true });
});

const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e));

describe('prekey IPC methods', () => {
  let bundle: Uint8Array;

  it('prekeys.generate returns a bundle signed by the identity; the store is 0600', async () => {
    const r = await c.request<{ identity: string; period: string; expiry: number; ids: number[]; bundle: Uint8Array }>('prekeys.generate', { identity: BOB, count: 4 });
    expect(r.identity).toBe(BOB);
    expect(r.ids).toEqual([1, 4]);
    bundle = r.bundle;
    const b = decodeBundle(bundle);
    expect(b.uri).toBe(BOB);
    expect(b.header).toMatchObject({ period: r.period, expiry: r.expiry, count: 4 });
    const ibs = new IbsKeyring(d.engine, (d.params.suite as { Ppub: Uint8Array }).Ppub);
    for (let i = 0; i < 4; i++) await new PrekeyVerifier(ibs).record(BOB, recordOf(b, i), Date.now());
    expect(await new PrekeyVerifier(ibs).record(EVE, recordOf(b, 0), Date.now()).catch((e) => e.reason)).toBe('signature');
    expect(statSync(join(varDir, 'prekeys.bin')).mode & 0o777).toBe(0o600);
    expect(await c.request('prekeys.status', { identity: BOB })).toEqual({ prekeys: [{ uri: BOB, available: 4, expired: 0, nextId: 5 }] });
    const again = await c.request<{ ids: number[] }>('prekeys.generate', { identity: BOB, count: 2 });
    expect(again.ids).toEqual([5, 6]);
  });

  it('mailbox.prekeys.add checks signatures, keeps public values, refuses replays and forgeries', async () => {
    expect(await c.request('mailbox.prekeys.add', { bundle })).toEqual({ uri: BOB, added: 4, available: 4 });
    expect(await code(c.request('mailbox.prekeys.add', { bundle }))).toBe('IBAKE_PREKEY_INVALID');
    // Bob's bundle presented as Eve's
    expect(await code(c.request('mailbox.prekeys.add', { bundle: encodeBundle({ ...decodeBundle(bundle), uri: EVE }) }))).toBe('IBAKE_PREKEY_INVALID');
    const text = readFileSync(join(varDir, 'mailbox-prekeys.json'), 'utf8');
    expect(JSON.parse(text).users[BOB].bundles).toHaveLength(1);
    const store = readFileSync(join(varDir, 'prekeys.bin'));
    // the mailbox file has none of the store's private halves (the last 32 octets of each 119-octet entry)
    let n = 0;
    for (let at = store.indexOf(Buffer.from(BOB)) + BOB.length + 8; at + 119 <= store.length; at += 119, n++) {
      expect(text.includes(store.subarray(at + 87, at + 119).toString('hex'))).toBe(false);
    }
    expect(n).toBe(6);
    expect(await c.request('mailbox.prekeys.status', { identity: BOB })).toEqual({ uri: BOB, available: 4, expired: 0, used: 0 });
  });

  it('bad params: BAD_PARAMS; a non-local identity cannot generate', async () => {
    expect(await code(c.request('prekeys.generate', { identity: BOB, count: 0 }))).toBe('BAD_PARAMS');
    expect(await code(c.request('prekeys.generate', { identity: BOB, count: 201 }))).toBe('BAD_PARAMS');
    expect(await code(c.request('prekeys.generate', { identity: BOB, expiry: 1 }))).toBe('BAD_PARAMS');
    expect(await code(c.request('prekeys.generate', { identity: BOB, colour: 'red' }))).toBe('BAD_PARAMS');
    expect(await code(c.request('prekeys.generate', { identity: 'sip:carol@example.org' }))).toBe('BAD_PARAMS');
    expect(await code(c.request('mailbox.prekeys.add', { bundle: 'x' }))).toBe('BAD_PARAMS');
    expect(await code(c.request('mailbox.prekeys.add', { bundle: new Uint8Array(10) }))).toBe('IBAKE_PREKEY_INVALID');
  });
});

describe('prekeys.generate in parallel', () => {
  // found by fuzzing: 40 generates at once each fetched the signing key (KMS_RATE_LIMITED past
  // the KMS's per-user burst) and each re-added it, wiping the copy others were signing with
  // (ENGINE_NON_CANONICAL); now one fetch is shared and a held key is never replaced
  it('16 concurrent prekeys.generate of a fresh identity all succeed with distinct ids and valid signatures', async () => {
    const URI = 'sip:burst@example.org';
    await c.request('identity.add', { uri: URI });
    const rs = await Promise.allSettled(Array.from({ length: 16 }, () => c.request<{ ids: number[]; bundle: Uint8Array }>('prekeys.generate', { identity: URI, count: 3 })));
    expect(rs.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual([]);
    const ok = rs.map((r) => (r as PromiseFulfilledResult<{ ids: number[]; bundle: Uint8Array }>).value);
    expect(new Set(ok.flatMap((r) => [r.ids[0], r.ids[0]! + 1, r.ids[1]])).size).toBe(48);
    const ibs = new IbsKeyring(d.engine, (d.params.suite as { Ppub: Uint8Array }).Ppub);
    for (const r of ok) {
      const b = decodeBundle(r.bundle);
      for (let i = 0; i < 3; i++) await new PrekeyVerifier(ibs).record(URI, recordOf(b, i), Date.now());
    }
  });
});
