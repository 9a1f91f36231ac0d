// The daemon's IPC boundary (DESIGN §6): framing, request ids, typed errors, the 64 KiB frame
// limit enforced before decoding, OVERLOADED from the bounded queue, socket permissions, and the
// real `ibaked` binary starting, self-testing and serving.
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMsgpack as encode } from '../src/daemon/frame.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME } from '../src/daemon/frame.js';
import { buildHandlers } from '../src/daemon/methods.js';
import { AFTER_SEND, startDaemon, type RunningDaemon } from '../src/daemon/server.js';

const dir = mkdtempSync(join(tmpdir(), 'ibaked-ipc-'));
let d: RunningDaemon;
let release: () => void = () => {};
const secretBuf = new Uint8Array([9, 8, 7, 6]);

beforeAll(async () => {
  const built = await buildHandlers({ engine: 'ts', log: () => {} });
  const gate = new Promise<void>((r) => (release = r));
  d = await startDaemon({
    socketPath: join(dir, 'sub', 'ibaked.sock'),
    handlers: {
      ...built.handlers,
      slow: async () => (await gate, 'done'),
      secret: async () => Object.defineProperty({ key: secretBuf }, AFTER_SEND, { value: () => secretBuf.fill(0) }),
      fails: async () => {
        throw Object.assign(new FrameError('SOME_FAILURE', 'failed'), { reply: new Uint8Array([1, 6]) });
      },
    },
    maxInFlight: 2,
  });
});
afterAll(async () => {
  release();
  await d?.close();
});

function rawExchange(bytes: Buffer): Promise<Record<string, unknown>[]> {
  return new Promise((resolve) => {
    const s = connect(d.socketPath);
    const dec = new FrameDecoder();
    const got: Record<string, unknown>[] = [];
    s.on('data', (c: Buffer) => got.push(...dec.push(c)));
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
    s.write(bytes);
    setTimeout(() => s.end(), 300);
  });
}

describe('ibaked IPC', () => {
  it('creates the socket 0660 in a 0750 directory', () => {
    expect(statSync(d.socketPath).mode & 0o777).toBe(0o660);
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o750);
  });

  it('answers ping, info and decode, echoing request ids', async () => {
    const c = await IbakedClient.connect(d.socketPath);
    try {
      const [p, i] = await Promise.all([c.request<{ pong: boolean }>('ping'), c.request<{ engine: string }>('info')]);
      expect(p.pong).toBe(true);
      expect(i.engine).toBe('ts');
      // malformed MIKEY bytes come back as the codec's typed error
      await expect(c.request('decode', { message: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({ code: expect.stringMatching(/^MIKEY_/) });
      await expect(c.request('decode', { message: 'not bytes' })).rejects.toMatchObject({ code: 'BAD_PARAMS' });
      await expect(c.request('nope')).rejects.toMatchObject({ code: 'UNKNOWN_METHOD' });
    } finally {
      c.close();
    }
  });

  it('runs a result\'s AFTER_SEND hook once the reply is written (keys zeroed), and passes error.reply bytes', async () => {
    const c = await IbakedClient.connect(d.socketPath);
    try {
      const r = await c.request<{ key: Uint8Array }>('secret');
      expect([...r.key]).toEqual([9, 8, 7, 6]); // the app got the bytes …
      expect([...secretBuf]).toEqual([0, 0, 0, 0]); // … and the daemon's copy is gone
      const e = await c.request('fails').catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'SOME_FAILURE' });
      expect([...(e as { reply: Uint8Array }).reply]).toEqual([1, 6]);
    } finally {
      c.close();
    }
  });

  it('refuses a frame over 64 KiB from its length prefix alone', async () => {
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(MAX_FRAME + 1);
    const replies = await rawExchange(hdr); // no body sent: refusal cannot depend on decoding
    expect(replies[0]).toMatchObject({ id: null, ok: false, error: { code: 'FRAME_TOO_LARGE' } });
  });

  it('rejects undecodable msgpack and non-map frames, and requests without id', async () => {
    const bad = Buffer.from([0, 0, 0, 1, 0xc1]); // 0xc1 is never used in msgpack
    expect((await rawExchange(bad))[0]).toMatchObject({ ok: false, error: { code: 'FRAME_BAD_MSGPACK' } });
    const arr = Buffer.from(encode([1, 2]));
    const f = Buffer.concat([Buffer.from([0, 0, 0, arr.length]), arr]);
    expect((await rawExchange(f))[0]).toMatchObject({ ok: false, error: { code: 'FRAME_NOT_MAP' } });
    expect((await rawExchange(encodeFrame({ method: 'ping' })))[0]).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });

  it('answers OVERLOADED beyond the in-flight bound, and recovers', async () => {
    const c = await IbakedClient.connect(d.socketPath);
    try {
      const a = c.request('slow');
      const b = c.request('slow');
      await expect(c.request('slow')).rejects.toMatchObject({ code: 'OVERLOADED' });
      release();
      await expect(Promise.all([a, b])).resolves.toEqual(['done', 'done']);
      await expect(c.request('ping')).resolves.toMatchObject({ pong: true });
      expect(d.stats.overloaded).toBe(1);
    } finally {
      c.close();
    }
  });
});

describe('ibaked binary', () => {
  const bin = join(process.cwd(), 'bin', 'ibaked.js');
  const built = existsSync(join(process.cwd(), 'dist', 'daemon', 'main.js'));

  it.runIf(built)('prints --help and rejects unknown flags', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn(process.execPath, [bin, ...args]);
        let out = '';
        let err = '';
        p.stdout.on('data', (c) => (out += c));
        p.stderr.on('data', (c) => (err += c));
        p.on('close', (code) => resolve({ code, out, err }));
      });
    const h = await run(['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/usage: ibaked/);
    const u = await run(['--bogus']);
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/ibaked: .*bogus/);
  });

  it.runIf(built)('self-tests, serves ping on its socket and stops on SIGTERM', async () => {
    const sock = join(dir, 'bin.sock');
    const p = spawn(process.execPath, [bin, '--socket', sock, '--engine', 'ts', '--var-dir', join(dir, 'var')]);
    let err = '';
    p.stderr.on('data', (c) => (err += c));
    for (let i = 0; i < 200 && !err.includes('listening on '); i++) await new Promise((r) => setTimeout(r, 100));
    expect(err).toMatch(/self-test passed/);
    const c = await IbakedClient.connect(sock);
    await expect(c.request('ping')).resolves.toMatchObject({ pong: true });
    c.close();
    const closed = new Promise((r) => p.on('close', r));
    p.kill('SIGTERM');
    expect(await closed).toBe(0);
  });
});
