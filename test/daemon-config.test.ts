// ibaked configuration (src/daemon/config.ts) and production mode: the JSON file + flags are
// validated strictly; with `kms: {url, params}` the daemon fetches each identity's key from a
// separate KMS with its PSK (inline or pskFile 0600), runs a complete call for two of them, and
// refuses to start on a wrong PSK or a readable pskFile. Stopping leaves no renewal timer.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { defaultWorkers, resolveConfig, SHARD_FROM_CORES } from '../src/daemon/config.js';
import { startIbaked, type Ibaked } from '../src/daemon/daemon.js';
import { selectEngine } from '../src/engine/select.js';
import { initKmsDir, loadKmsDir } from '../src/kms/master.js';
import { startKmsServer, type KmsServer } from '../src/kms/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ibaked-cfg-'));
const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
const pskA = randomBytes(32).toString('hex');
const pskB = randomBytes(32).toString('hex');
let kms: KmsServer;

function writeConfig(name: string, obj: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(obj));
  return p;
}

beforeAll(async () => {
  const { engine } = await selectEngine({ name: 'ts' });
  await initKmsDir(join(dir, 'kms'), { suite: 'bls12381-bf', period: 'month', kmsId: 'sip:kms.example.org', engine });
  const { params, master } = await loadKmsDir(join(dir, 'kms'), engine);
  kms = await startKmsServer({ master, params, users: { [ALICE]: pskA, [BOB]: pskB }, host: '127.0.0.1', port: 0, engine, rateLimit: false, log: () => {} });
  master.fill(0);
  writeFileSync(join(dir, 'bob.psk'), pskB + '\n', { mode: 0o600 });
  writeFileSync(join(dir, 'open.psk'), pskB + '\n', { mode: 0o644 });
});
afterAll(async () => {
  await kms?.close();
});

describe('configuration', () => {
  it('merges file and flags (flags win), resolves paths against the file, fills defaults', () => {
    const file = writeConfig('a.json', { socket: 'run/s.sock', engine: 'wasm', maxInFlight: 9, kms: { url: 'http://127.0.0.1:1/mikey', params: 'kms/params.json' }, identities: [{ uri: ALICE, psk: pskA.toUpperCase() }] });
    const c = resolveConfig({ config: file }, {}, '/default.sock');
    expect(c).toMatchObject({ socket: join(dir, 'run/s.sock'), engine: 'wasm', maxInFlight: 9, varDir: './var', skipSelftest: false });
    expect(c.kms).toEqual({ url: 'http://127.0.0.1:1/mikey', params: join(dir, 'kms/params.json') });
    expect(c.identities).toEqual([{ uri: ALICE, psk: pskA }]);
    const f = resolveConfig({ config: file, socket: '/x.sock', engine: 'ts', maxInFlight: '3', kmsUrl: 'https://kms.example.org/mikey' }, {}, '/d');
    expect(f).toMatchObject({ socket: '/x.sock', engine: 'ts', maxInFlight: 3 });
    expect(f.kms?.url).toBe('https://kms.example.org/mikey');
    // no file, no flags: development defaults
    const dflt = resolveConfig({}, {}, '/d.sock');
    expect(dflt).toMatchObject({ socket: '/d.sock', varDir: './var', maxInFlight: 256, maxInFlightPerConnection: 64, maxQueuedReplyBytes: 64 * 1024 * 1024, identities: [], maxSessions: 4096, maxHalfOpenPerPeer: 256 });
    const lim = resolveConfig({ config: writeConfig('lim.json', { maxSessions: 100, maxHalfOpenPerPeer: 3 }) }, {}, '/d');
    expect(lim).toMatchObject({ maxSessions: 100, maxHalfOpenPerPeer: 3 });
    expect(dflt.kms).toBeUndefined();
    expect(resolveConfig({}, { IBAKED_ENGINE: 'ts' }, '/d').engine).toBe('ts');
  });

  it('workers: config key and --workers flag (flag wins), default one per core from SHARD_FROM_CORES cores', () => {
    expect(resolveConfig({ config: writeConfig('w.json', { workers: 3 }) }, {}, '/d').workers).toBe(3);
    expect(resolveConfig({ config: writeConfig('w0.json', { workers: 3 }), workers: '0' }, {}, '/d').workers).toBe(0);
    expect(resolveConfig({}, {}, '/d').workers).toBe(defaultWorkers());
    expect(defaultWorkers(1)).toBe(0);
    expect(defaultWorkers(SHARD_FROM_CORES - 1)).toBe(0);
    expect(defaultWorkers(SHARD_FROM_CORES)).toBe(SHARD_FROM_CORES);
    expect(defaultWorkers(16)).toBe(16);
    for (const w of ['-1', '1.5', 'x', '257', '']) expect(() => resolveConfig({ workers: w }, {}, '/d'), w).toThrow(expect.objectContaining({ code: 'CONFIG' }));
  });

  it('idlePollUs (0..1000 µs, default 100) and inlineWhenAlone (boolean, default true)', () => {
    expect(resolveConfig({}, {}, '/d')).toMatchObject({ idlePollUs: 100, inlineWhenAlone: true });
    expect(resolveConfig({ config: writeConfig('ip.json', { idlePollUs: 0, inlineWhenAlone: false }) }, {}, '/d')).toMatchObject({ idlePollUs: 0, inlineWhenAlone: false });
    expect(resolveConfig({ config: writeConfig('ip2.json', { idlePollUs: 1000 }) }, {}, '/d').idlePollUs).toBe(1000);
    for (const b of [{ idlePollUs: -1 }, { idlePollUs: 1001 }, { idlePollUs: 2.5 }, { idlePollUs: '100' }, { inlineWhenAlone: 'yes' }, { inlineWhenAlone: 1 }]) {
      expect(() => resolveConfig({ config: writeConfig('ipbad.json', b) }, {}, '/d'), JSON.stringify(b)).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    }
  });

  it('deferred delivery: identities[].mailbox and the deferred section (escrowed v1 denied by default)', () => {
    const c = resolveConfig({ config: writeConfig('dv.json', { identities: [{ uri: ALICE, mailbox: true }, { uri: BOB, mailbox: false }], deferred: { mailboxes: { [BOB]: [ALICE] } } }) }, {}, '/d');
    expect(c.identities).toEqual([{ uri: ALICE, mailbox: true }, { uri: BOB }]);
    expect(c.deferred).toEqual({ mailboxes: { [BOB]: [ALICE] }, escrowed: 'deny' });
    expect(resolveConfig({ config: writeConfig('dv2.json', { deferred: { mailboxes: {}, escrowed: 'allow' } }) }, {}, '/d').deferred).toEqual({ mailboxes: {}, escrowed: 'allow' });
    expect(resolveConfig({}, {}, '/d').deferred).toBeUndefined();
  });

  it('refuses bad configuration with CONFIG errors', () => {
    const bad: unknown[] = [
      [],
      { sockett: '/x' },
      { engine: 'gpu' },
      { maxInFlight: 0 },
      { maxInFlightPerConnection: 0 },
      { maxInFlightPerConnection: 100_001 },
      { maxQueuedReplyBytes: 65_535 },
      { maxQueuedReplyBytes: 2 ** 34 + 1 },
      { workers: -1 },
      { workers: 257 },
      { workers: '2' },
      { kms: { url: 'ftp://x', params: 'p' } },
      { kms: { url: 'http://x/mikey' } },
      { kms: { url: 'http://x/mikey', params: 'p', extra: 1 } },
      { identities: [{ uri: 'alice' }] },
      { identities: [{ uri: ALICE, psk: 'abc' }] },
      { identities: [{ uri: ALICE, psk: pskA, pskFile: 'f' }] },
      { identities: [{ uri: ALICE }, { uri: ALICE }] },
      { handshakeTimeoutMs: 5 },
      { maxSessions: 0 },
      { maxHalfOpenPerPeer: 1.5 },
      { identities: [{ uri: ALICE, mailbox: 'yes' }] },
      { deferred: [] },
      { deferred: { mailboxes: { [BOB]: [ALICE] }, escrowed: 'maybe' } },
      { deferred: { mailboxes: { bob: [ALICE] } } },
      { deferred: { mailboxes: { [BOB]: [] } } },
      { deferred: { mailboxes: { [BOB]: ['alice'] } } },
      { deferred: { mailboxes: { [BOB]: [ALICE] }, extra: 1 } },
    ];
    for (const [i, b] of bad.entries()) {
      expect(() => resolveConfig({ config: writeConfig(`bad${i}.json`, b) }, {}, '/d'), JSON.stringify(b)).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    }
    writeFileSync(join(dir, 'notjson.json'), '{');
    expect(() => resolveConfig({ config: join(dir, 'notjson.json') }, {}, '/d')).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    expect(() => resolveConfig({ config: join(dir, 'missing.json') }, {}, '/d')).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    expect(() => resolveConfig({ kmsUrl: 'http://x/mikey' }, {}, '/d')).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    expect(() => resolveConfig({ maxInFlight: 'many' }, {}, '/d')).toThrow(expect.objectContaining({ code: 'CONFIG' }));
  });
});

describe('production mode (separate KMS)', () => {
  const base = () => ({ engine: 'ts', skipSelftest: true, socket: join(dir, 'run', 'p.sock'), kms: { url: kms.url, params: 'kms/params.json' } });

  it('fetches each identity key with its PSK and runs a call; stop leaves no timer', async () => {
    const file = writeConfig('prod.json', { ...base(), identities: [{ uri: ALICE, psk: pskA }, { uri: BOB, pskFile: 'bob.psk' }] });
    const d: Ibaked = await startIbaked(resolveConfig({ config: file }, {}, '/d'), () => {});
    const c = await IbakedClient.connect(d.socketPath);
    try {
      expect(d.mode).toBe('production');
      await expect(c.request('info')).resolves.toMatchObject({ mode: 'production', kmsUrl: kms.url, kmsId: 'sip:kms.example.org' });
      const list = await c.request<{ identities: Array<{ uri: string }> }>('identity.list');
      expect(list.identities.map((i) => i.uri).sort()).toEqual([ALICE, BOB]);
      // production: identity.add needs a PSK, and a wrong one is the KMS's typed refusal
      await expect(c.request('identity.add', { uri: 'sip:carol@example.org' })).rejects.toMatchObject({ code: 'BAD_PARAMS' });
      await expect(c.request('identity.add', { uri: 'sip:carol@example.org', psk: randomBytes(32).toString('hex') })).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED' });
      await expect(c.request('identity.list')).resolves.toMatchObject({ identities: expect.not.arrayContaining([expect.objectContaining({ uri: 'sip:carol@example.org' })]) });

      type R = { reply?: Uint8Array; established?: { keys: Array<{ masterKey: Uint8Array; masterSalt: Uint8Array }> } };
      const i1 = await c.request<{ message: Uint8Array }>('exchange.initiate', { from: ALICE, to: BOB });
      const r1 = await c.request<R>('exchange.receive', { identity: BOB, message: i1.message });
      const i2 = await c.request<R>('exchange.receive', { identity: ALICE, message: r1.reply! });
      const r2 = await c.request<R>('exchange.receive', { identity: BOB, message: i2.reply! });
      const done = await c.request<R>('exchange.receive', { identity: ALICE, message: r2.reply! });
      const hex = (r: R) => r.established!.keys.map((k) => Buffer.from(k.masterKey).toString('hex') + Buffer.from(k.masterSalt).toString('hex')).join();
      expect(hex(done)).toBe(hex(r2));
      expect(done.reply).toBeUndefined();
    } finally {
      c.close();
      const renewers = d.identities.all().map((i) => i.renewer);
      await d.close();
      expect(renewers).toHaveLength(2);
      expect(renewers.every((r) => !r.timerArmed && !r.running && r.held().length === 0)).toBe(true);
    }
  });

  it('runs session expiry on its own timer: a half-open exchange past its deadline is purged', async () => {
    const file = writeConfig('short.json', { ...base(), handshakeTimeoutMs: 1000, expireIntervalMs: 100, identities: [{ uri: ALICE, psk: pskA }, { uri: BOB, psk: pskB }] });
    const d = await startIbaked(resolveConfig({ config: file }, {}, '/d'), () => {});
    const c = await IbakedClient.connect(d.socketPath);
    try {
      const i1 = await c.request<{ message: Uint8Array }>('exchange.initiate', { from: ALICE, to: BOB });
      const r1 = await c.request<{ reply: Uint8Array }>('exchange.receive', { identity: BOB, message: i1.message });
      const before = await c.request<{ exchanges: { expired: number } }>('metrics');
      expect(before.exchanges.expired).toBe(0);
      await new Promise((r) => setTimeout(r, 1400));
      const after = await c.request<{ exchanges: { expired: number } }>('metrics');
      expect(after.exchanges.expired).toBeGreaterThanOrEqual(2); // Alice's offer, Bob's half-open state
      await expect(c.request('exchange.receive', { identity: ALICE, message: r1.reply })).rejects.toMatchObject({ code: 'IBAKE_NO_SESSION' });
    } finally {
      c.close();
      await d.close();
    }
  });

  it('refuses to start with a wrong PSK or a group/world-readable pskFile, leaving no socket', async () => {
    const wrong = writeConfig('wrong.json', { ...base(), identities: [{ uri: ALICE, psk: randomBytes(32).toString('hex') }] });
    await expect(startIbaked(resolveConfig({ config: wrong }, {}, '/d'))).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED' });
    expect(existsSync(join(dir, 'run', 'p.sock'))).toBe(false);
    const open = writeConfig('open.json', { ...base(), identities: [{ uri: BOB, pskFile: 'open.psk' }] });
    await expect(startIbaked(resolveConfig({ config: open }, {}, '/d'))).rejects.toMatchObject({ code: 'CONFIG' });
    const noPsk = writeConfig('nopsk.json', { ...base(), identities: [{ uri: BOB }] });
    await expect(startIbaked(resolveConfig({ config: noPsk }, {}, '/d'))).rejects.toMatchObject({ code: 'BAD_PARAMS' });
    const badParams = writeConfig('badparams.json', { ...base(), kms: { url: kms.url, params: 'bob.psk' } });
    await expect(startIbaked(resolveConfig({ config: badParams }, {}, '/d'))).rejects.toMatchObject({ code: expect.stringMatching(/^(IBE|KMS)_/) });
  });
});
