// ibaked serving MIKEY-IBAKE over its IPC socket (DESIGN §6, docs/daemon.md): embedded
// development mode (ts engine, temp dirs), two clients on one daemon run a complete call and
// get identical SRTP keys; CSB update and close; tampering gives typed errors and no keys; every
// param is validated; unknown identities are refused; the KMS store is reused across restarts
// and a corrupt one is refused (never regenerated); logs never contain key material; metrics.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IbakedClient, type IpcError } from '../src/client/ipc.js';
import { type DaemonConfig } from '../src/daemon/config.js';
import { testDaemonConfig } from './helpers/daemon-config.js';
import { startIbaked, type Ibaked } from '../src/daemon/daemon.js';
import { decodeMasterFile } from '../src/kms/master.js';

const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
const dir = mkdtempSync(join(tmpdir(), 'ibaked-x-'));
const varDir = join(dir, 'var');
const logs: string[] = [];
const log = (l: string) => logs.push(l);

// debug: the canary below must see the per-request exchange lines too (they are debug level)
const config = (over: Partial<DaemonConfig> = {}): DaemonConfig =>
  testDaemonConfig(join(dir, 'run', 'ibaked.sock'), varDir, { logLevel: 'debug', ...over });

interface Key { csId: number; ssrc: number; profile: string; masterKey: Uint8Array; masterSalt: Uint8Array; keySource: string }
interface RecvResult { csbId: number; peer: string; reply?: Uint8Array; replyName?: string; established?: { csbId: number; peer: string; role: string; keys: Key[] } }

let d: Ibaked;
let alice: IbakedClient;
let bob: IbakedClient;
const seenKeys: Uint8Array[] = [];

/** Carries messages between the two apps until nobody has anything to send; returns the established results. */
async function pump(first: Uint8Array, fromIsAlice: boolean) {
  const est: { alice?: RecvResult['established']; bob?: RecvResult['established'] } = {};
  let msg: Uint8Array | undefined = first;
  let toBob = fromIsAlice;
  const names: string[] = [];
  while (msg) {
    const r: RecvResult = await (toBob ? bob : alice).request<RecvResult>('exchange.receive', { identity: toBob ? BOB : ALICE, message: msg });
    if (r.established) {
      est[toBob ? 'bob' : 'alice'] = r.established;
      for (const k of r.established.keys) seenKeys.push(k.masterKey, k.masterSalt);
    }
    if (r.replyName) names.push(r.replyName);
    msg = r.reply;
    toBob = !toBob;
  }
  return { ...est, names };
}

const keyText = (k: Key[]) => k.map((x) => `${x.csId}/${x.ssrc}/${x.profile}/${Buffer.from(x.masterKey).toString('hex')}/${Buffer.from(x.masterSalt).toString('hex')}`).join(',');

beforeAll(async () => {
  d = await startIbaked(config(), log);
  [alice, bob] = await Promise.all([IbakedClient.connect(d.socketPath), IbakedClient.connect(d.socketPath)]);
  const [a, b] = await Promise.all([alice.request<{ added: boolean; periods: string[] }>('identity.add', { uri: ALICE }), bob.request<{ added: boolean }>('identity.add', { uri: BOB })]);
  expect(a.added && b.added).toBe(true);
  // the current month's key (and the next one when inside the renewal lead time)
  expect(a.periods).toContain(`${new Date().toISOString().slice(0, 7)}-01`);
});
afterAll(async () => {
  alice?.close();
  bob?.close();
  await d?.close();
});

describe('ibaked exchanges over IPC (development mode)', () => {
  it('creates its store 0700/0600 and reports development mode', async () => {
    expect(statSync(varDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(varDir, 'kms')).mode & 0o777).toBe(0o700);
    expect(statSync(join(varDir, 'kms', 'master.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(varDir, 'dev-users.json')).mode & 0o777).toBe(0o600);
    const info = await alice.request<{ mode: string; paramsFingerprint: string; engine: string }>('info');
    expect(info).toMatchObject({ mode: 'development', engine: 'ts', paramsFingerprint: d.params.fingerprint });
    const list = await bob.request<{ identities: Array<{ uri: string }> }>('identity.list');
    expect(list.identities.map((i) => i.uri).sort()).toEqual([ALICE, BOB]);
    // adding again is idempotent
    await expect(alice.request('identity.add', { uri: ALICE })).resolves.toMatchObject({ added: false });
  });

  it('runs a complete call through the socket: both apps get identical SRTP keys', async () => {
    const init = await alice.request<{ csbId: number; message: Uint8Array }>('exchange.initiate', { from: ALICE, to: BOB, ssrcs: [0x1234, 0] });
    expect(init.message).toBeInstanceOf(Uint8Array);
    expect(init.message[1]).toBe(22); // I_MESSAGE_1 data type (RFC 6267 §7: 22)
    const r = await pump(init.message, true);
    expect(r.names).toEqual(['R_MESSAGE_1', 'I_MESSAGE_2', 'R_MESSAGE_2']);
    expect(r.alice && r.bob).toBeTruthy();
    expect(r.alice!.csbId).toBe(init.csbId);
    expect(r.bob!.csbId).toBe(init.csbId);
    expect(r.alice!.peer).toBe(BOB);
    expect(r.bob!.peer).toBe(ALICE);
    expect(r.alice!.keys).toHaveLength(2);
    expect(r.alice!.keys[0]!.ssrc).toBe(0x1234);
    expect(r.alice!.keys[0]!.masterKey).toHaveLength(16);
    expect(r.alice!.keys[0]!.masterSalt).toHaveLength(14);
    expect(keyText(r.alice!.keys)).toBe(keyText(r.bob!.keys));
    // the two crypto sessions have distinct keys, and keys are not all zero
    expect(Buffer.from(r.alice!.keys[0]!.masterKey).equals(Buffer.from(r.alice!.keys[1]!.masterKey))).toBe(false);
    expect(r.alice!.keys[0]!.masterKey.some((b) => b !== 0)).toBe(true);

    // CSB update (re-keying) through the socket: new, again identical keys
    const up = await alice.request<{ message: Uint8Array }>('exchange.rekey', { identity: ALICE, csbId: init.csbId, peer: BOB });
    const r2 = await pump(up.message, true);
    // update I_MESSAGE_1 -> R_MESSAGE_1 with V -> the confirming I_MESSAGE_2 with V (profile v2, docs/profile.md §6.6)
    expect(r2.names).toEqual(['R_MESSAGE_1', 'I_MESSAGE_2']);
    expect(r2.alice && r2.bob).toBeTruthy();
    expect(keyText(r2.alice!.keys)).toBe(keyText(r2.bob!.keys));
    expect(keyText(r2.alice!.keys)).not.toBe(keyText(r.alice!.keys));

    // close: the state is gone (and wiped); re-keying it now fails with a typed error
    // Alice holds the established state and the offer (kept for forks until the handshake timeout)
    await expect(alice.request('exchange.close', { identity: ALICE, csbId: init.csbId })).resolves.toMatchObject({ closed: 2 });
    await expect(alice.request('exchange.rekey', { identity: ALICE, csbId: init.csbId, peer: BOB })).rejects.toMatchObject({ code: 'IBAKE_NO_SESSION' });
    await expect(bob.request('exchange.close', { identity: BOB, csbId: init.csbId, peer: ALICE })).resolves.toMatchObject({ closed: 1 });
  });

  it('a flipped byte gives a typed error (with the ERR reply to send) and no keys', async () => {
    // tampered I_MESSAGE_1 (last octet = inside the IBE ciphertext): Bob's decryption fails
    const i1 = await alice.request<{ message: Uint8Array }>('exchange.initiate', { from: ALICE, to: BOB });
    const bad = i1.message.slice();
    bad[bad.length - 1]! ^= 0x01;
    const e1 = (await bob.request('exchange.receive', { identity: BOB, message: bad }).catch((e: unknown) => e)) as IpcError;
    expect(e1.code).toBe('IBAKE_AUTH_FAILED');
    expect(e1.reply).toBeInstanceOf(Uint8Array);
    expect(e1.reply![1]).toBe(6); // RFC 3830 Error message

    // tampered R_MESSAGE_2 (last octet = the V MAC): Alice gets no keys
    const i1b = await alice.request<{ message: Uint8Array }>('exchange.initiate', { from: ALICE, to: BOB });
    const r1 = await bob.request<RecvResult>('exchange.receive', { identity: BOB, message: i1b.message });
    const i2 = await alice.request<RecvResult>('exchange.receive', { identity: ALICE, message: r1.reply! });
    const r2 = await bob.request<RecvResult>('exchange.receive', { identity: BOB, message: i2.reply! });
    expect(r2.replyName).toBe('R_MESSAGE_2');
    const badR2 = r2.reply!.slice();
    badR2[badR2.length - 1]! ^= 0x80;
    await expect(alice.request('exchange.receive', { identity: ALICE, message: badR2 })).rejects.toMatchObject({ code: 'IBAKE_AUTH_FAILED' });
    // the halted exchange is gone: even the genuine R_MESSAGE_2 now yields no keys
    await expect(alice.request('exchange.receive', { identity: ALICE, message: r2.reply! })).rejects.toMatchObject({ code: expect.stringMatching(/^IBAKE_(NO_SESSION|STATE)$/) });
    // garbage is a typed malformed error
    await expect(bob.request('exchange.receive', { identity: BOB, message: new Uint8Array([1, 22, 0, 0]) })).rejects.toMatchObject({ code: expect.stringMatching(/^(IBAKE|MIKEY)_/) });
  });

  it('bad params give BAD_PARAMS', async () => {
    const bad: Array<[string, Record<string, unknown>]> = [
      ['exchange.initiate', { to: BOB }],
      ['exchange.initiate', { from: 'alice', to: BOB }],
      ['exchange.initiate', { from: ALICE, to: BOB, ssrcs: [] }],
      ['exchange.initiate', { from: ALICE, to: BOB, ssrcs: [-1] }],
      ['exchange.initiate', { from: ALICE, to: BOB, ssrcs: [2 ** 32] }],
      ['exchange.initiate', { from: ALICE, to: BOB, extra: 1 }],
      ['exchange.receive', { identity: BOB }],
      ['exchange.receive', { identity: BOB, message: 'AQID' }],
      ['exchange.receive', { identity: BOB, message: new Uint8Array(0) }],
      ['exchange.receive', { identity: 42, message: new Uint8Array(4) }],
      ['exchange.rekey', { identity: ALICE, csbId: 1.5, peer: BOB }],
      ['exchange.rekey', { identity: ALICE, csbId: 1 }],
      ['exchange.close', { identity: ALICE, csbId: 'x' }],
      ['identity.add', {}],
      ['identity.add', { uri: 'sip:carol@example.org', psk: 'abcd' }],
      ['identity.add', { uri: 'not a uri' }],
      // found by fuzzing: a control character in a URI was KMS_CONFIG (identity.add) or another layer's code
      ['identity.add', { uri: 'sip:eve\u001b[2J@example.org' }],
      ['identity.add', { uri: 'sip:eve\u0085@example.org' }],
      ['exchange.initiate', { from: ALICE, to: 'sip:eve\u009b31m@example.org' }],
      ['exchange.close', { identity: ALICE, csbId: 1, peer: 'sip:eve\u007f@example.org' }],
      ['identity.list', { x: 1 }],
      ['metrics', { x: 1 }],
    ];
    for (const [m, p] of bad) await expect(alice.request(m, p), `${m} ${JSON.stringify(p)}`).rejects.toMatchObject({ code: 'BAD_PARAMS' });
  });

  it('an identity not registered with the daemon is refused with IDENTITY_UNKNOWN', async () => {
    const carol = 'sip:carol@example.org';
    await expect(alice.request('exchange.initiate', { from: carol, to: BOB })).rejects.toMatchObject({ code: 'IDENTITY_UNKNOWN' });
    await expect(alice.request('exchange.receive', { identity: carol, message: new Uint8Array([1]) })).rejects.toMatchObject({ code: 'IDENTITY_UNKNOWN' });
    await expect(alice.request('exchange.rekey', { identity: carol, csbId: 1, peer: BOB })).rejects.toMatchObject({ code: 'IDENTITY_UNKNOWN' });
    // a message addressed to someone Bob does not hold: typed, no crypto
    const i1 = await alice.request<{ message: Uint8Array }>('exchange.initiate', { from: ALICE, to: carol });
    await expect(bob.request('exchange.receive', { identity: BOB, message: i1.message })).rejects.toMatchObject({ code: 'IBAKE_NO_KEY' });
  });

  it('metrics count requests, errors and exchanges, with cumulative latency histograms per method and message', async () => {
    type H = { name: string; outcome: string; count: number; buckets: Array<{ le: number | string; count: number }> };
    const m = await alice.request<{
      requests: number; errors: number; overloaded: number;
      exchanges: { initiated: number; received: number; established: number; failed: number; rekeyed: number; closed: number };
      latency: { ipc: H[]; mikey: H[] };
    }>('metrics');
    // call + update: 2 x 2 sides; the exchange whose R_MESSAGE_2 was tampered: Bob (the
    // responder gets its keys on I_MESSAGE_2) but not Alice
    expect(m.exchanges.established).toBe(5);
    expect(m.exchanges.initiated).toBe(4); // call, 2 tamper runs, the one to carol
    expect(m.exchanges.rekeyed).toBe(1);
    expect(m.exchanges.closed).toBe(3); // Alice: state + offer; Bob: state
    // failures: tampered I1, tampered R2, stale R2, garbage, not-addressed I1
    expect(m.exchanges.failed).toBe(5);
    // every MIKEY message fed to exchange.receive is in one per-message histogram …
    expect(m.latency.mikey.reduce((a, h) => a + h.count, 0)).toBe(m.exchanges.received);
    expect(m.latency.mikey.filter((h) => h.outcome !== 'ok').reduce((a, h) => a + h.count, 0)).toBe(m.exchanges.failed);
    // per IPC method: the successful exchange.receive calls are exactly the successful messages
    const okOf = (hs: H[], name?: string) => hs.filter((h) => h.outcome === 'ok' && (!name || h.name === name)).reduce((a, h) => a + h.count, 0);
    expect(okOf(m.latency.ipc, 'exchange.receive')).toBe(okOf(m.latency.mikey));
    expect(m.latency.ipc.find((h) => h.name === 'exchange.receive' && h.outcome === 'BAD_PARAMS')!.count).toBeGreaterThan(0);
    for (const h of [...m.latency.ipc, ...m.latency.mikey]) {
      // … and the buckets are cumulative: non-decreasing, ending at +Inf with the count
      for (let i = 1; i < h.buckets.length; i++) expect(h.buckets[i]!.count).toBeGreaterThanOrEqual(h.buckets[i - 1]!.count);
      expect(h.buckets.at(-1)).toEqual({ le: '+Inf', count: h.count });
    }
    expect(m.latency.mikey.map((h) => h.name)).toEqual(expect.arrayContaining(['I_MESSAGE_1', 'R_MESSAGE_1', 'I_MESSAGE_2', 'R_MESSAGE_2']));
    expect(m.errors).toBeGreaterThanOrEqual(5 + 18 + 4);
    expect(m.requests).toBeGreaterThan(m.errors);
    expect(m.overloaded).toBe(0);
  });

  it('log lines never contain key material (canary)', () => {
    const text = logs.join('\n');
    expect(text).toMatch(/established/);
    // the exchange lines are per request: debug level, never info (docs/daemon.md §5)
    const exchangeLines = logs.filter((l) => / (initiated to|established with|closed \d+ state)/.test(l));
    expect(exchangeLines.length).toBeGreaterThan(0);
    for (const l of exchangeLines) expect((JSON.parse(l) as { level: string }).level).toBe('debug');
    const users = JSON.parse(readFileSync(join(varDir, 'dev-users.json'), 'utf8')).users as Record<string, string>;
    const master = decodeMasterFile(new Uint8Array(readFileSync(join(varDir, 'kms', 'master.key')))).secret;
    const idKeys = d.identities.all().flatMap((i) => i.renewer.held().map((k) => k.key.slice()));
    expect(idKeys.length).toBeGreaterThanOrEqual(2);
    const secrets = [...seenKeys, master, ...idKeys, ...Object.values(users).map((h) => Buffer.from(h, 'hex'))];
    expect(secrets.length).toBeGreaterThan(10);
    for (const s of secrets) {
      const b = Buffer.from(s);
      for (const form of [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64'), b.toString('base64url')]) {
        expect(text.includes(form.slice(0, 16)), 'a secret appears in the logs').toBe(false);
      }
    }
  });
});

describe('ibaked restart and store integrity', () => {
  it('a restart reuses the same KMS store and identities; stop leaves no renewal timer', async () => {
    const fp = d.params.fingerprint;
    const renewers = d.identities.all().map((i) => i.renewer);
    expect(renewers.every((r) => r.timerArmed)).toBe(true);
    alice.close();
    bob.close();
    await d.close();
    expect(renewers.every((r) => !r.timerArmed && !r.running)).toBe(true);
    expect(existsSync(join(dir, 'run', 'ibaked.sock'))).toBe(false);

    d = await startIbaked(config(), log);
    expect(d.params.fingerprint).toBe(fp);
    alice = await IbakedClient.connect(d.socketPath);
    bob = await IbakedClient.connect(d.socketPath);
    const list = await alice.request<{ identities: Array<{ uri: string }> }>('identity.list');
    expect(list.identities.map((i) => i.uri).sort()).toEqual([ALICE, BOB]);
    await expect(alice.request('info')).resolves.toMatchObject({ paramsFingerprint: fp });
    // and a call still works after the restart
    const init = await alice.request<{ message: Uint8Array }>('exchange.initiate', { from: ALICE, to: BOB });
    const r = await pump(init.message, true);
    expect(keyText(r.alice!.keys)).toBe(keyText(r.bob!.keys));
    alice.close();
    bob.close();
    await d.close();
  });

  it('refuses to start on a corrupt KMS store and never regenerates it', async () => {
    const mpath = join(varDir, 'kms', 'master.key');
    const good = readFileSync(mpath);
    const bad = Buffer.from(good);
    bad[bad.length - 40]! ^= 0x01;
    writeFileSync(mpath, bad);
    await expect(startIbaked(config(), log)).rejects.toMatchObject({ code: 'KMS_CONFIG' });
    expect(readFileSync(mpath).equals(bad)).toBe(true); // untouched, not regenerated
    expect(existsSync(join(dir, 'run', 'ibaked.sock'))).toBe(false);
    writeFileSync(mpath, good);

    const upath = join(varDir, 'dev-users.json');
    const users = readFileSync(upath);
    writeFileSync(upath, '{"version":1,"users":');
    await expect(startIbaked(config(), log)).rejects.toMatchObject({ code: 'CONFIG' });
    writeFileSync(upath, users);

    // with everything restored it starts again on the same store
    d = await startIbaked(config(), log);
    expect(d.identities.list()).toHaveLength(2);
  });
});

describe('the ibaked binary with --config (development mode)', () => {
  const built = existsSync(join(process.cwd(), 'dist', 'daemon', 'main.js'));
  const bin = join(process.cwd(), 'bin', 'ibaked.js');
  const bdir = mkdtempSync(join(tmpdir(), 'ibaked-bin-'));
  const sock = join(bdir, 'ibaked.sock');
  const cfgFile = join(bdir, 'ibaked.json');
  // debug: the exchange lines (per request, debug level) are part of what the canary checks
  writeFileSync(cfgFile, JSON.stringify({ socket: 'ibaked.sock', engine: 'ts', skipSelftest: true, varDir: 'state', logLevel: 'debug' }));

  function start() {
    const p = spawn(process.execPath, [bin, '--config', cfgFile]);
    const out = { err: '' };
    p.stderr.on('data', (c) => (out.err += c));
    const closed = new Promise<number | null>((r) => p.on('close', r));
    return { p, out, closed };
  }

  it.runIf(built)('serves a complete call, stops on SIGTERM, and its stderr holds no key material', async () => {
    const { p, out, closed } = start();
    for (let i = 0; i < 300 && !out.err.includes('listening on '); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out.err).toMatch(/development mode/);
    const c = await IbakedClient.connect(sock);
    const keys: Uint8Array[] = [];
    try {
      await c.request('identity.add', { uri: ALICE });
      await c.request('identity.add', { uri: BOB });
      const i1 = await c.request<{ message: Uint8Array }>('exchange.initiate', { from: ALICE, to: BOB });
      let msg: Uint8Array | undefined = i1.message;
      let to = BOB;
      const est: Key[][] = [];
      while (msg) {
        const r: RecvResult = await c.request<RecvResult>('exchange.receive', { identity: to, message: msg });
        if (r.established) est.push(r.established.keys);
        msg = r.reply;
        to = to === BOB ? ALICE : BOB;
      }
      expect(est).toHaveLength(2);
      expect(keyText(est[0]!)).toBe(keyText(est[1]!));
      for (const k of est[0]!) keys.push(k.masterKey, k.masterSalt);
    } finally {
      c.close();
      p.kill('SIGTERM');
    }
    expect(await closed).toBe(0);
    expect(out.err).toMatch(/established/);
    const users = JSON.parse(readFileSync(join(bdir, 'state', 'dev-users.json'), 'utf8')).users as Record<string, string>;
    for (const s of [...keys, ...Object.values(users).map((h) => Buffer.from(h, 'hex'))]) {
      const b = Buffer.from(s);
      expect(out.err.includes(b.toString('hex').slice(0, 16)) || out.err.includes(b.toString('base64').slice(0, 16))).toBe(false);
    }
  });

  it.runIf(built)('exits 1 with KMS_CONFIG on a corrupt store, leaving it as it was', async () => {
    const mpath = join(bdir, 'state', 'kms', 'master.key');
    const bad = Buffer.from('IBAKEDMK-truncated');
    writeFileSync(mpath, bad, { mode: 0o600 });
    const { out, closed } = start();
    expect(await closed).toBe(1);
    expect(out.err).toMatch(/KMS_CONFIG.*refusing to start/);
    expect(readFileSync(mpath).equals(bad)).toBe(true);
  });
});
