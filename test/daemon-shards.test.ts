// ibaked with its exchanges sharded over two worker threads (DESIGN §6; src/daemon/shards.ts,
// shard-pool.ts): every message of a call may arrive on a different connection and still reaches
// the worker holding its state; exchange.rekey and exchange.close reach that worker too; a
// worker that dies is logged and restarted, the requests it had in flight fail with
// SHARD_FAILED, its exchanges are gone (IBAKE_NO_SESSION), and new calls work again.
// Also the router's pure parts: a message's CSB ID, and shardOf's spread and stability.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { testDaemonConfig } from './helpers/daemon-config.js';
import { startIbaked, type Ibaked } from '../src/daemon/daemon.js';
import type { ShardPool } from '../src/daemon/shard-pool.js';
import { messageCsbId, shardOf } from '../src/daemon/shards.js';
import { decodeMsgpack, EncodedResult, encodeFrame, encodeResultFrame, MAX_FRAME } from '../src/daemon/frame.js';
import { AFTER_SEND } from '../src/daemon/server.js';

const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
const dir = mkdtempSync(join(tmpdir(), 'ibaked-shards-'));
const logs: string[] = [];

interface Key { masterKey: Uint8Array; masterSalt: Uint8Array }
interface Recv { reply?: Uint8Array; replyName?: string; established?: { csbId: number; keys: Key[] } }

let d: Ibaked;
/** several connections per side; each request picks the next one */
let conns: IbakedClient[] = [];
let turn = 0;
const next = () => conns[turn++ % conns.length]!;
const hex = (k: Key[]) => k.map((x) => Buffer.from(x.masterKey).toString('hex') + Buffer.from(x.masterSalt).toString('hex')).join(',');

/** Carries messages between the two identities, each request on the next connection. */
async function pump(first: Uint8Array) {
  return pumpFrom(first, true);
}

async function pumpFrom(first: Uint8Array, toBobFirst: boolean) {
  const est: { alice?: Key[]; bob?: Key[] } = {};
  let msg: Uint8Array | undefined = first;
  let toBob = toBobFirst;
  while (msg) {
    const r: Recv = await next().request<Recv>('exchange.receive', { identity: toBob ? BOB : ALICE, message: msg });
    if (r.established) est[toBob ? 'bob' : 'alice'] = r.established.keys;
    msg = r.reply;
    toBob = !toBob;
  }
  return est;
}

async function call() {
  const init = await next().request<{ csbId: number; message: Uint8Array }>('exchange.initiate', { from: ALICE, to: BOB });
  const r = await pump(init.message);
  return { csbId: init.csbId, ...r };
}

beforeAll(async () => {
  const cfg = testDaemonConfig(join(dir, 'ibaked.sock'), join(dir, 'var'), { workers: 2, identities: [{ uri: ALICE }, { uri: BOB }], expireIntervalMs: 60_000 });
  d = await startIbaked(cfg, (l) => logs.push(l));
  conns = await Promise.all([0, 1, 2].map(() => IbakedClient.connect(d.socketPath)));
}, 60_000);
afterAll(async () => {
  for (const c of conns) c.close();
  await d?.close();
});

describe('router', () => {
  it('reads the CSB ID from a MIKEY header and maps (identity, CSB ID) to a stable shard', () => {
    expect(messageCsbId(Uint8Array.from([1, 22, 0, 1, 0xde, 0xad, 0xbe, 0xef]))).toBe(0xdeadbeef);
    expect(messageCsbId(Uint8Array.from([1, 2, 3]))).toBe(0);
    expect(messageCsbId('x')).toBe(0);
    const hits = [0, 0, 0, 0];
    for (let c = 1; c <= 4000; c++) {
      const s = shardOf(ALICE, c * 2654435761, 4);
      expect(s).toBe(shardOf(ALICE, c * 2654435761, 4));
      hits[s]!++;
    }
    for (const h of hits) expect(h).toBeGreaterThan(800); // ~1000 each
    expect(shardOf(ALICE, 7, 1)).toBe(0);
  });
});

describe('ibaked with two shard workers', () => {
  it('runs on two workers and completes calls whose messages arrive on different connections, on both shards', async () => {
    expect(d.shards.count).toBe(2);
    const used = new Set<number>();
    for (let i = 0; i < 40 && used.size < 2; i++) {
      const r = await call();
      expect(r.alice && r.bob).toBeTruthy();
      expect(hex(r.alice!)).toBe(hex(r.bob!));
      used.add(shardOf(ALICE, r.csbId, 2));
    }
    expect([...used].sort()).toEqual([0, 1]);
  });

  it('a message given as SDP (the key-mgmt line) is routed by the CSB ID inside it', async () => {
    for (let i = 0; i < 6; i++) {
      const init = await next().request<{ csbId: number; keyMgmt: string }>('exchange.initiate', { from: ALICE, to: BOB });
      expect(init.keyMgmt).toMatch(/^a=key-mgmt:mikey /);
      const r1 = await next().request<Recv>('exchange.receive', { identity: BOB, sdp: `v=0\r\n${init.keyMgmt}\r\n` });
      const r = await pumpFrom(r1.reply!, false);
      expect(r.alice && r.bob).toBeTruthy();
      expect(hex(r.alice!)).toBe(hex(r.bob!));
    }
  });

  it('exchange.rekey and exchange.close reach the worker holding the exchange', async () => {
    const r = await call();
    const up = await next().request<{ message: Uint8Array }>('exchange.rekey', { identity: ALICE, csbId: r.csbId, peer: BOB });
    const r2 = await pump(up.message);
    expect(r2.alice && r2.bob).toBeTruthy();
    expect(hex(r2.alice!)).toBe(hex(r2.bob!));
    expect(hex(r2.alice!)).not.toBe(hex(r.alice!));
    const ca = await next().request<{ closed: number }>('exchange.close', { identity: ALICE, csbId: r.csbId });
    const cb = await next().request<{ closed: number }>('exchange.close', { identity: BOB, csbId: r.csbId });
    expect(ca.closed).toBeGreaterThan(0);
    expect(cb.closed).toBeGreaterThan(0);
    await expect(next().request('exchange.rekey', { identity: ALICE, csbId: r.csbId, peer: BOB })).rejects.toMatchObject({ code: 'IBAKE_NO_SESSION' });
    const m = await next().request<{ workers: number; exchanges: { established: number; closed: number; rekeyed: number; byState: Record<string, number> }; latency: { mikey: Array<{ name: string; count: number }> } }>('metrics');
    expect(m.workers).toBe(2);
    expect(m.exchanges.established).toBeGreaterThanOrEqual(4); // both sides of two calls, at least
    expect(m.latency.mikey.find((h) => h.name === 'I_MESSAGE_1')!.count).toBeGreaterThanOrEqual(2); // relayed from the workers
    expect(m.exchanges.rekeyed).toBe(1);
    expect(m.exchanges.closed).toBe(ca.closed + cb.closed);
  });

  it('a worker\'s result crosses as msgpack: the reply frame holds the bytes encodeFrame would write, and the main thread\'s copy (keys included) is wiped once written', async () => {
    const pool = d.shards as ShardPool;
    const init = (await pool.handle('exchange.initiate', { from: ALICE, to: BOB })) as EncodedResult;
    expect(init).toBeInstanceOf(EncodedResult);
    expect(init.csbId).toBe((decodeMsgpack(init.bytes) as { csbId: number }).csbId); // ownership reads it
    let msg = (decodeMsgpack(init.bytes) as { message: Uint8Array }).message;
    let toBob = true;
    let established: EncodedResult | undefined;
    while (msg) {
      const r = (await pool.handle('exchange.receive', { identity: toBob ? BOB : ALICE, message: msg })) as EncodedResult;
      const obj = decodeMsgpack(r.bytes) as { reply?: Uint8Array; established?: { keys: Key[] } };
      // the frame with embedded bytes is byte for byte the frame of the decoded object
      for (const id of [7, 'req-1', 2 ** 53 - 1]) expect(Buffer.compare(encodeResultFrame(id, r), encodeFrame({ id, ok: true, result: obj }))).toBe(0);
      if (obj.established && !established) established = r;
      msg = obj.reply!;
      toBob = !toBob;
    }
    expect(established).toBeDefined();
    const keyHex = Buffer.from((decodeMsgpack(established!.bytes) as { established: { keys: Key[] } }).established.keys[0]!.masterKey).toString('hex');
    expect(Buffer.from(established!.bytes).toString('hex')).toContain(keyHex);
    (established as unknown as Record<symbol, () => void>)[AFTER_SEND]!(); // what the server calls once the reply is written
    expect(established!.bytes.every((b) => b === 0)).toBe(true);
    await pool.handle('exchange.close', { identity: ALICE, csbId: init.csbId! });
    await pool.handle('exchange.close', { identity: BOB, csbId: init.csbId! });
    // a result over the frame cap becomes REPLY_TOO_LARGE, as an encoded object would
    expect(() => encodeResultFrame(1, new EncodedResult(new Uint8Array(MAX_FRAME)))).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
  });

  it('a worker that dies is logged and restarted; its in-flight requests fail with SHARD_FAILED, its exchanges are gone, new calls work', async () => {
    const pool = d.shards as ShardPool;
    const before = pool.restarts;
    // An exchange whose initiator state lives on shard k.
    let init: { csbId: number; message: Uint8Array };
    do init = await next().request('exchange.initiate', { from: ALICE, to: BOB });
    while (shardOf(ALICE, init.csbId, 2) !== shardOf(BOB, init.csbId, 2));
    const k = shardOf(ALICE, init.csbId, 2);
    // Bob's answer is computed on shard k (ts engine: tens of ms); kill the worker meanwhile.
    const inFlight = next().request<Recv>('exchange.receive', { identity: BOB, message: init.message });
    await new Promise((r) => setTimeout(r, 5));
    await pool.kill(k);
    await expect(inFlight).rejects.toMatchObject({ code: 'SHARD_FAILED' });
    for (let i = 0; i < 100 && !logs.some((l) => /shard \d: worker exited unexpectedly/.test(l)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(logs.some((l) => l.includes(`shard ${k}: worker exited unexpectedly`))).toBe(true);
    expect(pool.restarts).toBe(before + 1);
    // The lost exchange fails cleanly on the restarted worker: Alice's offer is gone.
    await expect(next().request('exchange.close', { identity: ALICE, csbId: init.csbId })).resolves.toEqual({ closed: 0 });
    // The restarted worker got every identity's keys: calls on both shards complete again.
    const used = new Set<number>();
    for (let i = 0; i < 40 && used.size < 2; i++) {
      const r = await call();
      expect(hex(r.alice!)).toBe(hex(r.bob!));
      used.add(shardOf(ALICE, r.csbId, 2));
    }
    expect(used.size).toBe(2);
  });
});

describe('a shard serves exchange.initiate with the CSB ID its router chose', () => {
  it('uses it, refuses one already in use (IBAKE_STATE) and malformed ones (IBAKE_BAD_INPUT); other methods are not its', async () => {
    const { setupBls } = await import('../src/ibe/bls12381/bf.js');
    const { ExchangeShard } = await import('../src/daemon/shard.js');
    const { loadEngine } = await import('./helpers/engines.js');
    const { ExchangeMetrics } = await import('../src/daemon/metrics.js');
    const seen: string[] = [];
    const metrics = { exchanges: new ExchangeMetrics(), observeMessage: (name: string) => void seen.push(name) };
    const engine = (await loadEngine('ts'))!;
    const { s, Ppub } = await setupBls(engine);
    s.fill(0);
    const shard = new ExchangeShard({ engine, Ppub, period: 'month', handshakeTimeoutMs: 60_000, establishedLifetimeMs: 60_000, metrics, log: () => {} });
    shard.addKey(ALICE, '2026-12-01', new Uint8Array(96).fill(1)); // initiate only encrypts to the peer
    const r = (await shard.handle('exchange.initiate', { from: ALICE, to: BOB }, { csbId: 0xdeadbeef })) as { csbId: number; message: Uint8Array };
    expect(r.csbId).toBe(0xdeadbeef);
    expect(messageCsbId(r.message)).toBe(0xdeadbeef);
    expect(metrics.exchanges.initiated).toBe(1);
    expect(shard.exists(ALICE, 0xdeadbeef)).toBe(true);
    expect(shard.live()).toEqual([`${ALICE} ${0xdeadbeef}`]);
    expect(shard.byState()).toMatchObject({ offered: 1 });
    await expect(shard.handle('exchange.initiate', { from: ALICE, to: BOB }, { csbId: 0xdeadbeef })).rejects.toMatchObject({ code: 'IBAKE_STATE' });
    for (const bad of [0, -1, 1.5, 2 ** 32]) await expect(shard.handle('exchange.initiate', { from: ALICE, to: BOB }, { csbId: bad })).rejects.toMatchObject({ code: 'IBAKE_BAD_INPUT' });
    await expect(shard.handle('exchange.initiate', { from: BOB, to: ALICE }, {})).rejects.toMatchObject({ code: 'IDENTITY_UNKNOWN' });
    await expect(shard.handle('ping', {})).rejects.toMatchObject({ code: 'BAD_PARAMS' });
    shard.close();
    await expect(shard.handle('exchange.close', { identity: ALICE, csbId: 1 })).rejects.toMatchObject({ code: 'IDENTITY_UNKNOWN' });
  });
});
