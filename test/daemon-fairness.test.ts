// ibaked's shared limits under one misbehaving client, against the real binary over its socket:
// a connection that pipelines more than maxInFlightPerConnection requests gets OVERLOADED for
// its own excess while another connection is still served (and the cap reloads on SIGHUP);
// clients that never read cannot pin more than about maxQueuedReplyBytes of replies in total
// (they are paused, never closed, and get a reply to every request once they read); a numeric request id
// that is not a safe integer (so could not be echoed exactly) is refused with id null.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { FrameDecoder } from '../src/daemon/frame.js';
import { BUILT, frame, rawFrames, startDaemonProc } from './helpers/daemon-proc.js';

const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw connection that collects reply frames (reading can be paused). */
async function rawConn(path: string) {
  const s: Socket = connect(path);
  s.on('error', () => {});
  await new Promise<void>((r) => s.once('connect', () => r()));
  const dec = new FrameDecoder();
  const frames: Record<string, unknown>[] = [];
  let closed = false;
  s.on('data', (c: Buffer) => frames.push(...dec.push(c)));
  s.on('close', () => (closed = true));
  return { s, frames, closed: () => closed };
}

const untilTrue = async (f: () => boolean, what: string, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
};

describe.runIf(BUILT)('fairness: a per-connection in-flight cap', () => {
  it('a greedy connection gets OVERLOADED for its own excess while another connection is served; SIGHUP changes the cap', async () => {
    // exchanges on a shard worker: requests stay in flight while the main thread serves others
    const d = await startDaemonProc({ identities: [{ uri: A }, { uri: B }], workers: 1 });
    const other = await IbakedClient.connect(d.sock);
    const greedy = await rawConn(d.sock);
    try {
      await other.request('ping');
      const N = 300; // more than maxInFlight (256)
      greedy.s.write(Buffer.concat(Array.from({ length: N }, (_, i) => frame({ id: i, method: 'exchange.initiate', params: { from: A, to: B } }))));
      const overloaded = () => greedy.frames.filter((f) => (f.error as { code?: string } | undefined)?.code === 'OVERLOADED');
      await untilTrue(() => overloaded().length > 0, 'the greedy connection to be refused');
      // while the greedy connection's admitted requests still run, another connection is served
      await expect(other.request('ping')).resolves.toMatchObject({ pong: true });
      await untilTrue(() => greedy.frames.length === N, 'every greedy reply');
      const ok = greedy.frames.filter((f) => f.ok === true).length;
      expect(ok + overloaded().length).toBe(N);
      expect(overloaded()[0]).toMatchObject({ ok: false, error: { message: expect.stringMatching(/more than 64 requests in flight on this connection/) } });
      expect(ok).toBeGreaterThanOrEqual(64);
      expect(ok).toBeLessThan(256);

      // reloadable: a cap of 4 refuses most of a burst of 40
      d.writeConfig({ identities: [{ uri: A }, { uri: B }], workers: 1, maxInFlightPerConnection: 4 });
      d.p.kill('SIGHUP');
      await d.waitFor((r) => r.msg === 'configuration reloaded', 'reloaded');
      greedy.frames.length = 0;
      greedy.s.write(Buffer.concat(Array.from({ length: 40 }, (_, i) => frame({ id: i, method: 'exchange.initiate', params: { from: A, to: B } }))));
      await untilTrue(() => greedy.frames.length === 40, 'the burst replies');
      expect(overloaded().length).toBeGreaterThanOrEqual(20);
      expect(overloaded()[0]).toMatchObject({ error: { message: expect.stringMatching(/more than 4 requests in flight on this connection/) } });
      await expect(other.request('ping')).resolves.toMatchObject({ pong: true });
    } finally {
      greedy.s.destroy();
      other.close();
    }
    expect(await d.stop()).toBe(0);
  });

  it('the new limits are validated', async () => {
    for (const bad of [{ maxInFlightPerConnection: 0 }, { maxInFlightPerConnection: 1.5 }, { maxQueuedReplyBytes: 1000 }, { maxQueuedReplyBytes: '64MiB' }]) {
      const d = await startDaemonProc(bad, { wait: false });
      expect(await d.exited).toBe(2);
      expect(d.err()).toMatch(new RegExp(`${Object.keys(bad)[0]} must be an integer`));
    }
  });
});

describe.runIf(BUILT)('memory: a bound on replies queued across connections', () => {
  it('non-reading clients pin about maxQueuedReplyBytes in all, not 1 MiB each; others are served; readers get every reply', async () => {
    const BOUND = 256 * 1024;
    const d = await startDaemonProc({ maxQueuedReplyBytes: BOUND, frameTimeoutMs: 3000 });
    const c = await IbakedClient.connect(d.sock);
    const K = 8;
    const PER = 400;
    const conns: Awaited<ReturnType<typeof rawConn>>[] = [];
    try {
      // identity.list replies of ~5 KB: 10 identities with long URIs
      const uris = Array.from({ length: 10 }, (_, i) => `sip:${i}${'u'.repeat(480)}@example.org`);
      for (const uri of uris) await c.request('identity.add', { uri });
      const reply = frame({ id: 1, ok: true, result: await c.request('identity.list') }).length;
      expect(reply).toBeGreaterThan(4800);
      // PER replies are ~2 MB per connection: past the per-connection 1 MiB pause on their own
      for (let k = 0; k < K; k++) {
        const r = await rawConn(d.sock);
        r.s.pause(); // never read (for now)
        conns.push(r);
      }
      const base = (await c.request<{ requests: number }>('metrics')).requests;
      let polls = 0;
      const one = (i: number) => frame({ id: i, method: 'identity.list' });
      for (let i = 0; i < PER; i += 8) {
        for (const r of conns) r.s.write(Buffer.concat(Array.from({ length: 8 }, (_, j) => one(i + j))));
        await sleep(5);
      }
      // wait until the daemon takes no more of their requests
      let last = -1;
      let m = { requests: 0, queuedReplyBytes: 0 };
      for (let i = 0; i < 100; i++) {
        await sleep(200);
        m = await c.request<typeof m>('metrics');
        polls++;
        if (m.requests - last <= 1) break;
        last = m.requests;
      }
      const taken = m.requests - base - polls;
      expect(taken).toBeGreaterThan(0);
      // each connection alone may hold 1 MiB (plus the kernel's socket buffer): K of them would
      // hold K MiB. With the total bound, far less was taken in all.
      expect(taken * reply).toBeLessThan((K * 1024 * 1024) / 2);
      expect(m.queuedReplyBytes).toBeLessThan(BOUND + K * 128 * 1024);
      expect(d.records().some((r) => r.code === 'REPLY_QUEUE_FULL' && r.level === 'warn')).toBe(true);
      // a client that reads is still served, past our own frame timeout while they wait
      await sleep(3500);
      await expect(c.request('ping')).resolves.toMatchObject({ pong: true });
      // reading again: every request of every connection is answered, none was closed
      for (const r of conns) r.s.resume();
      await untilTrue(() => conns.every((r) => r.frames.length === PER || r.closed()), 'every reply');
      for (const r of conns) {
        expect(r.closed()).toBe(false);
        // one reply per request: the backlog read at once on resume may exceed the per-connection cap
        expect(new Set(r.frames.map((f) => f.id)).size).toBe(PER);
        for (const f of r.frames) if (f.ok !== true) expect(f).toMatchObject({ error: { code: 'OVERLOADED' } });
      }
      expect((await c.request<{ queuedReplyBytes: number }>('metrics')).queuedReplyBytes).toBe(0);
    } finally {
      for (const r of conns) r.s.destroy();
      c.close();
    }
    expect(await d.stop()).toBe(0);
  });
});

/** A frame {id: <raw msgpack>, method: 'ping'} with the id's msgpack bytes given. */
function pingWithRawId(idBytes: number[]): Buffer {
  const body = Buffer.concat([Buffer.from([0x82, 0xa2, 0x69, 0x64]), Buffer.from(idBytes), Buffer.from([0xa6, ...Buffer.from('method'), 0xa4, ...Buffer.from('ping')])]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return [0xcf, ...b];
};
const f64 = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return [0xcb, ...b];
};

describe.runIf(BUILT)('request ids', () => {
  it('a numeric id that is not a safe integer is refused with id null; the largest safe one is echoed exactly', async () => {
    const d = await startDaemonProc();
    try {
      const bad = [u64(2n ** 53n + 1n), u64(2n ** 64n - 1n), u64(2n ** 53n), f64(2 ** 53), f64(1.5), f64(NaN), f64(Infinity), f64(-Infinity), [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]];
      for (const id of bad) {
        const r = await rawFrames(d.sock, pingWithRawId(id), { halfClose: true });
        expect(r.frames).toEqual([{ id: null, ok: false, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/safe integer/) } }]);
      }
      const good = await rawFrames(d.sock, pingWithRawId(u64(2n ** 53n - 1n)), { halfClose: true });
      expect(good.frames).toEqual([{ id: 2 ** 53 - 1, ok: true, result: expect.objectContaining({ pong: true }) }]);
      const neg = await rawFrames(d.sock, pingWithRawId([0xd3, ...(() => { const b = Buffer.alloc(8); b.writeBigInt64BE(-(2n ** 53n) + 1n); return b; })()]), { halfClose: true });
      expect(neg.frames[0]).toMatchObject({ id: -(2 ** 53) + 1, ok: true });
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });
});
