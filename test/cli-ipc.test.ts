// The shell client (issue 15): `ibake ipc` sends one request to a real ibaked and prints the
// reply as JSON (octet strings as {"$base64"}, usable as the next call's params); `ibake call
// --via SOCKET` runs the four messages between two identities registered in the daemon and
// prints the same JSON as the in-process `ibake call` (shape compared key by key).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { BUILT, startDaemonProc, type DaemonProc } from './helpers/daemon-proc.js';

const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';

/** The structure of a JSON value: keys and value types, not the values. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return typeof v;
}

describe.runIf(BUILT)('ibake ipc and ibake call --via against a running ibaked', () => {
  let d: DaemonProc;
  beforeAll(async () => {
    d = await startDaemonProc();
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('ibake ipc prints the reply as JSON; bin travels as {"$base64"}', async () => {
    const ping = await runCli(['ipc', '--socket', d.sock, 'ping']);
    expect(ping.code).toBe(0);
    expect(JSON.parse(ping.stdout)).toMatchObject({ ok: true, result: { pong: true, time: expect.any(Number) } });
    for (const uri of [A, B]) {
      const r = await runCli(['ipc', '--socket', d.sock, 'identity.add', JSON.stringify({ uri })]);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, result: { uri, added: true } });
    }
    const init = JSON.parse((await runCli(['ipc', '--socket', d.sock, 'exchange.initiate', JSON.stringify({ from: A, to: B })])).stdout) as { result: { message: { $base64: string } } };
    expect(init.result.message.$base64).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // the printed message goes straight back in as a param
    const dec = await runCli(['ipc', '--socket', d.sock, 'decode', JSON.stringify({ message: init.result.message })]);
    expect(dec.code).toBe(0);
    expect(dec.stdout).toMatch(/I_MESSAGE_1|IBAKE|22/);
    const hex = Buffer.from(init.result.message.$base64, 'base64').toString('hex');
    expect((await runCli(['ipc', '--socket', d.sock, 'decode', JSON.stringify({ message: { $hex: hex } })])).code).toBe(0);
  });

  it('ibake ipc: error replies exit 1 with the code; bad usage exits 2; no daemon exits 1', async () => {
    const u = await runCli(['ipc', '--socket', d.sock, 'nope']);
    expect(u.code).toBe(1);
    expect(JSON.parse(u.stdout)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    const p = await runCli(['ipc', '--socket', d.sock, 'ping', '{"x":1}']);
    expect(JSON.parse(p.stdout)).toMatchObject({ ok: false, error: { code: 'BAD_PARAMS' } });
    expect((await runCli(['ipc', '--socket', d.sock, 'ping', '{nope'])).code).toBe(2);
    expect((await runCli(['ipc', '--socket', d.sock, 'ping', '[1]'])).code).toBe(2);
    expect((await runCli(['ipc', '--socket', d.sock, 'decode', '{"message":{"$hex":"zz"}}'])).code).toBe(2);
    expect((await runCli(['ipc', '--socket', d.sock])).code).toBe(2);
    const gone = await runCli(['ipc', '--socket', d.sock + '.absent', 'ping']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/IPC_CONNECT/);
  });

  it('ibake call --via prints the same JSON as the in-process call, with agreeing keys', async () => {
    const via = await runCli(['call', '--via', d.sock, '--from', A, '--to', B, '--json']);
    expect(via.stderr).toBe('');
    expect(via.code).toBe(0);
    const v = JSON.parse(via.stdout) as { ok: boolean; scenario: string; messages: Array<{ name: string }>; initiator: { keys: unknown[] }; responder: { keys: unknown[] } };
    const local = JSON.parse((await runCli(['call', '--from', A, '--to', B, '--json'])).stdout) as typeof v;
    expect(shape(v)).toEqual(shape(local));
    expect(v.ok).toBe(true);
    expect(v.scenario).toBe('basic');
    expect(v.messages.map((m) => m.name)).toEqual(['I_MESSAGE_1', 'R_MESSAGE_1', 'I_MESSAGE_2', 'R_MESSAGE_2']);
    expect(v.initiator.keys).toEqual(v.responder.keys);
    expect(v.initiator.keys.length).toBeGreaterThan(0);
    const text = await runCli(['call', '--via', d.sock, '--from', A, '--to', B]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/OK — both sides agree/);
    // identities the daemon does not hold are refused with a hint
    const unk = await runCli(['call', '--via', d.sock, '--from', A, '--to', 'sip:zed@example.org']);
    expect(unk.code).toBe(1);
    expect(unk.stderr).toMatch(/IDENTITY_UNKNOWN.*identity\.add/);
    expect((await runCli(['call', '--via', d.sock, '--from', A, '--to', B, '--reveal-secrets'])).code).toBe(2);
  });
});

describe('ibake ipc against a socket that never answers', () => {
  it('gives up after --timeout with IPC_TIMEOUT (exit 1) instead of hanging; a bad --timeout is usage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibake-silent-'));
    const sock = join(dir, 'silent.sock');
    const held: Socket[] = [];
    const srv = createServer((s) => void held.push(s)); // accepts, reads nothing, answers nothing
    await new Promise<void>((r) => srv.listen(sock, r));
    try {
      const r = await runCli(['ipc', '--socket', sock, '--timeout', '0.5', 'ping']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'IPC_TIMEOUT' } });
      expect((await runCli(['ipc', '--socket', sock, '--timeout', 'soon', 'ping'])).code).toBe(2);
      expect((await runCli(['ipc', '--socket', sock, '--timeout', '0', 'ping'])).code).toBe(2);
      expect((await runCli(['ipc', '--help'])).stdout).toMatch(/--timeout S .*default 30/);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => srv.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ibake ipc: JSON-PARAMS nesting', () => {
  // found by fuzzing: 5 000 nested arrays overflowed the stack in the JSON → msgpack conversion
  // (`ibake: internal error: Maximum call stack size exceeded`, exit 70); checked before connecting
  it('deeper than the daemon accepts (32) is a one-line usage error, exit 2, whatever the depth', async () => {
    for (const depth of [33, 5_000, 60_000]) {
      const r = await runCli(['ipc', '--socket', join(tmpdir(), 'ibaked-none.sock'), 'ping', `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`]);
      expect(r.code, String(depth)).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^ibake: params\.a\[0\].*: JSON-PARAMS nested deeper than 32 levels \(see --help\)$/m);
    }
    // 31 levels under params still reach the connection (and fail there: no daemon)
    const ok = await runCli(['ipc', '--socket', join(tmpdir(), 'ibaked-none.sock'), 'ping', `{"a":${'['.repeat(30)}${']'.repeat(30)}}`]);
    expect(ok.code).toBe(1);
    expect(ok.stderr).toMatch(/IPC_CONNECT/);
  });
});
