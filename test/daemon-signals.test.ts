// ibaked's operations surface (issue 15, DESIGN §6) on the real binary: SIGHUP reloads the
// configuration (identities added and removed, log level, limits) and keeps exchanges; SIGTERM
// under load drains (every request answered, exit 0); logs are JSON lines (time, level, msg,
// code on failures) with no key material in them (canary), or pretty lines on request;
// /metrics on the optional listener is valid Prometheus text with cumulative histograms.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IbakedClient, type IpcError } from '../src/client/ipc.js';
import { decodeMasterFile } from '../src/kms/master.js';
import { BIN, BUILT, newDir, startDaemonProc } from './helpers/daemon-proc.js';

const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
const C = 'sip:carol@example.org';
const D = 'sip:dave@example.org';
interface Key { masterKey: Uint8Array; masterSalt: Uint8Array }
interface Recv { csbId: number; reply?: Uint8Array; established?: { keys: Key[] } }

async function pump(c: IbakedClient, first: Uint8Array, to: string, from: string, seen: Uint8Array[] = []) {
  let msg: Uint8Array | undefined = first;
  let who = to;
  const est: Key[][] = [];
  while (msg) {
    const r: Recv = await c.request<Recv>('exchange.receive', { identity: who, message: msg });
    if (r.established) {
      est.push(r.established.keys);
      for (const k of r.established.keys) seen.push(k.masterKey, k.masterSalt);
    }
    msg = r.reply;
    who = who === to ? from : to;
  }
  return est;
}
const hex = (k: Key[]) => k.map((x) => Buffer.from(x.masterKey).toString('hex') + Buffer.from(x.masterSalt).toString('hex')).join();
const idsOf = async (c: IbakedClient) => (await c.request<{ identities: Array<{ uri: string }> }>('identity.list')).identities.map((i) => i.uri).sort();

describe.runIf(BUILT)('signals', () => {
  it('SIGHUP reloads identities, log level and limits, and keeps exchanges', async () => {
    const d = await startDaemonProc({ identities: [{ uri: A }, { uri: B }, { uri: D }], maxInFlight: 64 });
    const c = await IbakedClient.connect(d.sock);
    try {
      expect(await idsOf(c)).toEqual([A, B, D].sort());
      const i1 = await c.request<{ csbId: number; message: Uint8Array }>('exchange.initiate', { from: A, to: B });
      const first = await pump(c, i1.message, B, A);
      expect(first).toHaveLength(2);
      expect(d.records().some((r) => r.level === 'debug')).toBe(false);

      d.writeConfig({ identities: [{ uri: A }, { uri: B }, { uri: C }], maxInFlight: 2, logLevel: 'debug', idlePollUs: 50, inlineWhenAlone: false });
      d.p.kill('SIGHUP');
      const rec = await d.waitFor((r) => r.msg === 'configuration reloaded', 'reloaded');
      expect(rec).toMatchObject({ added: 1, removed: 1, ignored: ['inlineWhenAlone'] }); // idlePollUs applies at once
      expect(await d.waitFor((r) => r.code === 'RESTART_NEEDED', 'restart warning')).toMatchObject({ level: 'warn', keys: ['inlineWhenAlone'] });
      expect(d.p.exitCode).toBe(null);
      expect(await idsOf(c)).toEqual([A, B, C].sort());
      // the exchange made before the reload is still there: a CSB update completes on it
      const up = await c.request<{ message: Uint8Array }>('exchange.rekey', { identity: A, csbId: i1.csbId, peer: B });
      const second = await pump(c, up.message, B, A);
      expect(second).toHaveLength(2);
      expect(hex(second[0]!)).toBe(hex(second[1]!));
      expect(hex(second[0]!)).not.toBe(hex(first[0]!));
      // the new log level and limit are in force
      await d.waitFor((r) => r.level === 'debug' && r.msg === 'request done', 'a debug record');
      const m = await c.request<{ inFlight: number }>('metrics');
      expect(m.inFlight).toBe(1);
      const many = await Promise.allSettled(Array.from({ length: 32 }, () => c.request('exchange.initiate', { from: C, to: A })));
      expect(many.some((x) => x.status === 'rejected' && (x.reason as IpcError).code === 'OVERLOADED')).toBe(true);
      // a broken configuration is refused and the running one kept
      d.writeConfig({ identities: 'nope' });
      d.p.kill('SIGHUP');
      await d.waitFor((r) => typeof r.msg === 'string' && r.msg.startsWith('reload failed'), 'reload failed');
      expect(await idsOf(c)).toEqual([A, B, C].sort());
    } finally {
      c.close();
    }
    expect(await d.stop()).toBe(0);
  });

  it('SIGTERM under load: every request in flight is answered, then it wipes and exits 0', async () => {
    const d = await startDaemonProc({ identities: [{ uri: A }, { uri: B }], drainTimeoutMs: 20_000 });
    const clients = await Promise.all(Array.from({ length: 4 }, () => IbakedClient.connect(d.sock)));
    // 32 I_MESSAGE_1 for Bob to answer (pairing work each) + 32 new exchanges, all at once
    const offers = await Promise.all(Array.from({ length: 32 }, () => clients[0]!.request<{ message: Uint8Array }>('exchange.initiate', { from: A, to: B })));
    const load = [
      ...offers.map((o, i) => clients[i % 4]!.request('exchange.receive', { identity: B, message: o.message })),
      ...Array.from({ length: 32 }, (_, i) => clients[i % 4]!.request('exchange.initiate', { from: A, to: B })),
    ];
    // the client writes this turn's requests at its end (one writev): let them leave first
    await new Promise((r) => setImmediate(r));
    d.p.kill('SIGTERM');
    const settled = await Promise.allSettled(load);
    const codes = settled.map((s) => (s.status === 'fulfilled' ? 'ok' : (s.reason as IpcError).code));
    for (const code of codes) expect(['ok', 'SHUTTING_DOWN']).toContain(code);
    expect(codes.filter((x) => x === 'ok').length).toBeGreaterThan(0);
    expect(await d.exited).toBe(0);
    expect(d.records().some((r) => r.msg === 'draining')).toBe(true);
    expect(d.records().find((r) => r.msg === 'exiting')).toMatchObject({ drained: true });
    expect(existsSync(d.sock)).toBe(false);
    for (const c of clients) c.close();
  });
});

describe.runIf(BUILT)('logs', () => {
  it('are JSON lines with time, level and code, and never contain key material (canary)', async () => {
    const d = await startDaemonProc({ logLevel: 'trace' });
    const seen: Uint8Array[] = [];
    const c = await IbakedClient.connect(d.sock);
    try {
      await c.request('identity.add', { uri: A });
      await c.request('identity.add', { uri: B, psk: 'ab'.repeat(32) });
      const i1 = await c.request<{ message: Uint8Array }>('exchange.initiate', { from: A, to: B });
      expect(await pump(c, i1.message, B, A, seen)).toHaveLength(2);
      const bad = Uint8Array.from(i1.message);
      bad[bad.length - 5]! ^= 1;
      await expect(c.request('exchange.receive', { identity: B, message: bad })).rejects.toMatchObject({ code: expect.stringMatching(/^IBAKE_/) });
    } finally {
      c.close();
    }
    expect(await d.stop()).toBe(0);
    const recs = d.records(); // every line parses as JSON
    expect(recs.length).toBeGreaterThan(10);
    for (const r of recs) {
      expect(r.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).toContain(r.level);
      expect(typeof r.msg).toBe('string');
    }
    const failed = recs.filter((r) => r.msg?.toString().startsWith('request failed'));
    expect(failed.length).toBeGreaterThan(0);
    for (const r of failed) expect(r).toMatchObject({ code: expect.stringMatching(/^[A-Z_]+$/), reqId: expect.anything(), method: 'exchange.receive' });
    const text = d.err();
    const users = JSON.parse(readFileSync(join(d.dir, 'state', 'dev-users.json'), 'utf8')).users as Record<string, string>;
    const master = decodeMasterFile(new Uint8Array(readFileSync(join(d.dir, 'state', 'kms', 'master.key')))).secret;
    const secrets = [...seen, master, ...Object.values(users).map((h) => Buffer.from(h, 'hex'))];
    expect(secrets.length).toBeGreaterThanOrEqual(7);
    for (const s of secrets) {
      const b = Buffer.from(s);
      for (const form of [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64'), b.toString('base64url')]) {
        expect(text.includes(form.slice(0, 16)), 'a secret appears in the logs').toBe(false);
      }
    }
  });

  it('--log-format pretty prints short human lines; --version prints the version', async () => {
    const dir = newDir();
    const p = spawn(process.execPath, [BIN, '--socket', join(dir, 's.sock'), '--var-dir', join(dir, 'v'), '--skip-selftest', '--log-format', 'pretty']);
    let err = '';
    p.stderr.on('data', (x) => (err += x));
    for (let i = 0; i < 300 && !err.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 100));
    const closed = new Promise((r) => p.on('close', r));
    p.kill('SIGTERM');
    expect(await closed).toBe(0);
    const lines = err.trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(l).toMatch(/^\d\d:\d\d:\d\d\.\d{3} (FATAL|ERROR|WARN |INFO |DEBUG|TRACE) \S/);
    const v = spawn(process.execPath, [BIN, '--version']);
    let out = '';
    v.stdout.on('data', (x) => (out += x));
    expect(await new Promise((r) => v.on('close', r))).toBe(0);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(out.trim()).toBe(`ibaked ${pkg.version}`);
  });
});

/** Strict Prometheus text format 0.0.4, one line at a time. */
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const VALUE = '(?:[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|NaN|[-+]Inf)';
const LABELS = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*")*,?)?\\}`;
const PROM_LINE = new RegExp(`^(?:# HELP ${NAME} .*|# TYPE ${NAME} (?:counter|gauge|histogram|summary|untyped)|${NAME}(?:${LABELS})? ${VALUE}(?: -?\\d+)?)$`);

describe.runIf(BUILT)('metrics listener', () => {
  it('/metrics is Prometheus text with cumulative histograms per method and message, OVERLOADED, connections, exchanges, engine', async () => {
    const d = await startDaemonProc({ identities: [{ uri: A }, { uri: B }], metricsListen: '127.0.0.1:0', maxInFlight: 1 });
    const url = String((await d.waitFor((r) => typeof r.url === 'string', 'metrics url')).url);
    const c = await IbakedClient.connect(d.sock);
    let overloaded = 0;
    try {
      const i1 = await c.request<{ message: Uint8Array }>('exchange.initiate', { from: A, to: B });
      await pump(c, i1.message, B, A);
      const burst = await Promise.allSettled(Array.from({ length: 32 }, () => c.request('exchange.initiate', { from: A, to: B })));
      overloaded = burst.filter((x) => x.status === 'rejected' && (x.reason as IpcError).code === 'OVERLOADED').length;
      expect(overloaded).toBeGreaterThan(0);
      expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const lines = text.split('\n').filter((l) => l !== '');
      for (const l of lines) expect(l, l).toMatch(PROM_LINE);
      const sample = (name: string, labels: string) => {
        const l = lines.find((x) => x.startsWith(`${name}{`) && labels.split(',').every((p) => x.includes(p)));
        return l === undefined ? undefined : Number(l.slice(l.lastIndexOf(' ') + 1));
      };
      const plain = (name: string) => Number(lines.find((x) => x.startsWith(name + ' '))!.split(' ')[1]);
      expect(plain('ibaked_overloaded_total')).toBe(overloaded);
      expect(plain('ibaked_connections')).toBe(1);
      expect(plain('ibaked_identities')).toBe(2);
      // idle polling: the first idle period always polls (its window starts at the maximum)
      expect(sample('ibaked_idle_polls_total', 'outcome="hit"')! + sample('ibaked_idle_polls_total', 'outcome="miss"')!).toBeGreaterThanOrEqual(1);
      expect(plain('ibaked_idle_poll_seconds_total')).toBeGreaterThan(0);
      expect(sample('ibaked_engine_info', 'engine="')).toBe(1);
      expect(sample('ibaked_exchanges', 'state="established"')).toBe(2);
      for (const m of ['I_MESSAGE_1', 'R_MESSAGE_1', 'I_MESSAGE_2', 'R_MESSAGE_2']) expect(sample('ibaked_mikey_message_duration_seconds_count', `message="${m}",outcome="ok"`)).toBe(1);
      expect(sample('ibaked_ipc_request_duration_seconds_count', 'method="exchange.receive",outcome="ok"')).toBe(4);
      // every histogram series is cumulative and its +Inf bucket is its count
      const series = new Map<string, number[]>();
      for (const l of lines.filter((x) => /_bucket\{/.test(x))) {
        const key = l.replace(/le="[^"]*",?/, '').replace(/ [^ ]+$/, '');
        series.set(key, [...(series.get(key) ?? []), Number(l.slice(l.lastIndexOf(' ') + 1))]);
      }
      expect(series.size).toBeGreaterThan(10);
      for (const [key, vals] of series) {
        for (let i = 1; i < vals.length; i++) expect(vals[i]!, key).toBeGreaterThanOrEqual(vals[i - 1]!);
        const count = lines.find((x) => x.startsWith(key.replace('_bucket{', '_count{').replace(/,?\}$/, '}')));
        if (count) expect(Number(count.split(' ').at(-1))).toBe(vals.at(-1));
      }
    } finally {
      c.close();
    }
    expect(await d.stop()).toBe(0);
  });
});
