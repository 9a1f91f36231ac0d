// Adversarial review (round after issues 13/15/16): a hostile local client against a real
// ibaked process over its socket. Each test is an attack that must be refused.
import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { formatKeyMgmtLine } from '../src/srtp/sdp.js';
import { BUILT, frame, rawFrames, startDaemonProc, type DaemonProc } from './helpers/daemon-proc.js';
import { asNobody, NOBODY_IPC_JS } from './helpers/as-nobody.js';

const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
interface Recv { csbId: number; reply?: Uint8Array; established?: { keys: Array<{ masterKey: Uint8Array }> } }

describe.runIf(BUILT)('exchange ownership cannot be bypassed', () => {
  let d: DaemonProc;
  let owner: IbakedClient;
  let other: IbakedClient;
  beforeAll(async () => {
    d = await startDaemonProc({ exchangeOwner: 'connection' });
    [owner, other] = await Promise.all([IbakedClient.connect(d.sock), IbakedClient.connect(d.sock)]);
    await owner.request('identity.add', { uri: A });
    await owner.request('identity.add', { uri: B });
  });
  afterAll(async () => {
    owner?.close();
    other?.close();
    await d?.stop();
  });

  it('by handing the message of an owned exchange as `sdp` text instead of `message` bin', async () => {
    // the owner runs the call up to I_MESSAGE_2 (B's exchange is owned by `owner` from I_MESSAGE_1 on)
    const i1 = await owner.request<{ csbId: number; message: Uint8Array }>('exchange.initiate', { from: A, to: B });
    const r1 = await owner.request<Recv>('exchange.receive', { identity: B, message: i1.message });
    const i2 = await owner.request<Recv>('exchange.receive', { identity: A, message: r1.reply! });
    // as bin, another connection is refused...
    await expect(other.request('exchange.receive', { identity: B, message: i2.reply! })).rejects.toMatchObject({ code: 'IBAKE_NO_SESSION' });
    // ...and the same octets as an a=key-mgmt line must be refused too (no keys to a non-owner)
    const viaSdp = other.request<Recv>('exchange.receive', { identity: B, sdp: formatKeyMgmtLine(i2.reply!) });
    await expect(viaSdp).rejects.toMatchObject({ code: 'IBAKE_NO_SESSION' });
    // a forged I_MESSAGE_2 with the owned CSB ID, as sdp, must not abort the owner's exchange either
    const forged = Uint8Array.from(i2.reply!);
    forged[forged.length - 40] ^= 1;
    await expect(other.request('exchange.receive', { identity: B, sdp: formatKeyMgmtLine(forged) })).rejects.toMatchObject({ code: 'IBAKE_NO_SESSION' });
    // the owner still completes it
    const r2 = await owner.request<Recv>('exchange.receive', { identity: B, message: i2.reply! });
    expect(r2.established?.keys.length).toBe(2);
  });
});

describe.runIf(BUILT)('logs cannot be forged by a client', () => {
  it('--log-format pretty: a request id with a line break and terminal escapes stays inside one escaped line', async () => {
    const d = await startDaemonProc({}, { args: ['--log-format', 'pretty'], wait: true });
    try {
      const forged = 'x\n00:00:00.000 FATAL forged record\u001b[2J';
      // exchange.close on an unknown identity fails: logged at info with its reqId
      const r = await rawFrames(d.sock, frame({ id: forged, method: 'exchange.close', params: { identity: 'sip:nobody@example.org', csbId: 1 } }), { halfClose: true });
      expect(r.frames[0]).toMatchObject({ id: forged, ok: false });
      await new Promise((res) => setTimeout(res, 300));
      const lines = d.err().split('\n');
      expect(lines.some((l) => l.includes('forged record'))).toBe(true); // the request was logged
      expect(lines.some((l) => l.startsWith('00:00:00.000 FATAL'))).toBe(false);
      expect(d.err()).not.toContain('\u001b');
    } finally {
      await d.stop();
    }
  });
});

describe.runIf(BUILT)('metrics cannot be inflated by a client', () => {
  it('client-chosen method names and request ids never become label values', async () => {
    const d = await startDaemonProc({ metricsListen: '127.0.0.1:0', logLevel: 'info' });
    try {
      const rec = await d.waitFor((r) => typeof r.url === 'string' && String(r.url).endsWith('/metrics'), 'metrics url');
      const names = Array.from({ length: 300 }, (_, i) => `evil_method_${i}`);
      const frames = names.map((m, i) => frame({ id: `evil_id_${i}`, method: m }));
      // also a known method with hostile params, and `constructor`/`__proto__`-style names
      frames.push(frame({ id: 'p', method: 'constructor' }), frame({ id: 'q', method: '__proto__' }), frame({ id: 'r', method: 'exchange.close', params: { identity: 'sip:evil_label@x', csbId: 1 } }));
      const r = await rawFrames(d.sock, frames, { halfClose: true });
      expect(r.frames.length).toBe(frames.length);
      const text = await (await fetch(String(rec.url))).text();
      expect(text).not.toMatch(/evil_/);
      expect(text).not.toMatch(/constructor|__proto__/);
      const methods = new Set([...text.matchAll(/ibaked_ipc_request_duration_seconds_count\{method="([^"]*)"/g)].map((m) => m[1]));
      expect(methods.size).toBeLessThan(40); // the handler names only
    } finally {
      await d.stop();
    }
  });
});

describe.runIf(BUILT)('one uid cannot take every connection', () => {
  it.runIf(asNobody)('a uid holding maxConnectionsPerUid idle connections is refused more; another uid still connects', async () => {
    const d = await startDaemonProc({ maxConnections: 8, maxConnectionsPerUid: 6 });
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 6; i++) held.push(await new Promise<Socket>((res, rej) => { const s = connect(d.sock, () => res(s)); s.on('error', rej); }));
      const seventh = await rawFrames(d.sock, frame({ id: 1, method: 'ping' }), { halfClose: true });
      expect(seventh.frames[0]).toMatchObject({ ok: false, error: { code: 'TOO_MANY_CONNECTIONS' } });
      // uid 65534 (group 0 reaches the 0660 socket) still gets served
      const script = `import(${JSON.stringify(NOBODY_IPC_JS)}).then(async ({ IbakedClient }) => {
        const c = await IbakedClient.connect(${JSON.stringify(d.sock)});
        const r = await c.request('ping').then((x) => String(x.pong), (e) => e.code);
        process.stdout.write(r); c.close();
      })`;
      const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 0, cwd: '/', encoding: 'utf8' });
      expect(out.stdout + out.stderr).toBe('true');
    } finally {
      for (const s of held) s.destroy();
      await d.stop();
    }
  });
});
