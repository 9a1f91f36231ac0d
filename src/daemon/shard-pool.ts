// Exchange shards on worker threads (DESIGN §6 "all cores"): `workers` threads, each running
// shard-worker.ts with its own engine handle, keyrings and endpoints. The main thread only
// routes (shards.ts: by identity and CSB ID) and relays; every identity's keys are replicated
// to every worker, so any worker can serve any identity. A worker that dies (crash, out of
// memory, terminate) is logged and restarted with every key; the requests it had in flight
// fail with SHARD_FAILED and its exchanges are gone (their later messages get IBAKE_NO_SESSION
// from the new worker). A worker that dies three times before it is ready is not restarted
// again: its requests then fail at once with SHARD_FAILED.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { IbakedError } from '../util/errors.js';
import type { LogLevel } from './log.js';
import { BatchPost, compactForPost } from './batch-post.js';
import { unpackBatch, type BatchSink, type PackedBatch } from './reply-batch.js';
import { EncodedResult } from './frame.js';
import type { ExchangeMetricsSink } from './exchange.js';
import { EXCHANGE_EVENTS, ExchangeMetrics, sumExchangeCounts } from './metrics.js';
import { exchangeKey } from './shard.js';
import type { FromWorker, ShardReport, ToWorker, WorkerError, WorkerInit } from './shard-protocol.js';
import { routeOf, shardOf, type Shards } from './shards.js';
import { AFTER_SEND } from './server.js';
import { asPromise } from '../util/as-promise.js';

export class ShardError extends IbakedError {}

export interface ShardPoolOptions extends Omit<WorkerInit, 'index'> {
  workers: number;
  /** the daemon's metrics: message latencies as they come, counters summed at each refresh */
  metrics: ExchangeMetricsSink;
  log: (line: string) => void;
  /** Where forwarded debug-level lines go (logTo 'forward'); dropped if absent. */
  debug?: (line: string) => void;
}

export interface ShardPool extends Shards {
  /** Worker restarts so far (tests, metrics). */
  readonly restarts: number;
  /** Thread ids of the live workers (benchmarks read their CPU time). */
  threadIds(): number[];
  /** A new log level for workers that log straight to stderr (SIGHUP). */
  setLogLevel(level: LogLevel): void;
  /** Terminates worker i as a crash would (tests): it is logged and restarted. */
  kill(i: number): Promise<void>;
}

/** The compiled worker script: beside this module, else (sources run by a test runner) under dist/. */
function workerScript(): URL {
  for (const rel of ['./shard-worker.js', '../../dist/daemon/shard-worker.js']) {
    const u = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(u))) return u;
  }
  throw new ShardError('START_FAILED', 'shard worker script not found (run npm run build)');
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

interface Slot {
  index: number;
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  /** requests to the current worker, posted once per event-loop turn (holdForTurn) */
  out: BatchPost<ToWorker>;
  /** the worker's exchange counters as of the last refresh */
  counts?: ExchangeMetrics;
  /** deaths before reaching 'ready', in a row */
  earlyDeaths: number;
  dead: boolean;
}

function toError(e: WorkerError): Error {
  if (!e.typed) return new Error(e.message);
  const err = new ShardError(e.code, e.message);
  if (e.reply) (err as { reply?: Uint8Array }).reply = e.reply;
  return err;
}

/**
 * A worker's encoded result as the main thread relays it: its octets (they may hold SRTP keys)
 * are zeroed once its reply frame is written (server.ts AFTER_SEND, read from the prototype).
 */
class RelayedResult extends EncodedResult {
  get [AFTER_SEND](): () => void {
    return () => this.bytes.fill(0);
  }
}

export async function startShardPool(o: ShardPoolOptions): Promise<ShardPool> {
  if (!Number.isInteger(o.workers) || o.workers < 1) throw new ShardError('CONFIG', 'workers must be >= 1 for a shard pool');
  const script = workerScript();
  const { workers: count, log, debug, metrics, ...rest } = o;
  const shared = { ...rest }; // logTo's level follows setLogLevel for restarted workers
  /** as of the last refresh: states by name, and the exchanges held */
  let byState: Record<string, number> = {};
  let live = new Set<string>();
  /** counters of workers that died (their replacements count from zero) */
  let retired = new ExchangeMetrics();
  /** copies of every identity's keys, replayed to a restarted worker: uri -> period -> key */
  const keys = new Map<string, Map<string, Uint8Array>>();
  let nextId = 1;
  let restarts = 0;
  let closing = false;

  const spawn = (index: number, slot?: Slot): Slot => {
    const init: WorkerInit = { ...shared, index };
    const worker = new Worker(script, { workerData: init, name: `ibaked-shard-${index}` });
    const s: Slot = slot ?? { index, worker, ready: Promise.resolve(), pending: new Map(), out: undefined!, earlyDeaths: 0, dead: false };
    s.worker = worker;
    s.out = new BatchPost<ToWorker>((items) => worker.postMessage(items));
    let isReady = false;
    s.ready = new Promise<void>((resolve, reject) => {
      const take = (id: number): Pending | undefined => {
        const p = s.pending.get(id);
        if (p) s.pending.delete(id);
        return p;
      };
      // An encoded result, packed or not: to its requester, or wiped if it is gone (it may hold keys).
      const encoded = (id: number, octets: Uint8Array, csbId?: number) => {
        const p = take(id);
        if (p) p.resolve(new RelayedResult(octets, csbId));
        else octets.fill(0);
      };
      const item = (m: FromWorker) => {
        if (m.t === 'res') {
          if (m.ok && 'encoded' in m) return encoded(m.id, m.encoded, m.csbId);
          const p = take(m.id);
          if (!p) return;
          if (!m.ok) p.reject(toError(m.error));
          else p.resolve(m.result);
        } else if (m.t === 'obs') metrics.observeMessage(m.name, m.seconds, m.outcome);
        else if (m.t === 'log') (m.debug ? debug ?? (() => {}) : log)(`shard ${index}: ${m.line}`);
        else if (m.t === 'raw') process.stderr.write(m.text);
        else if (m.t === 'ready') {
          isReady = true;
          s.earlyDeaths = 0;
          resolve();
        }
      };
      // Packed batches (reply-batch.ts): encoded results and latency observations as records.
      const sink: BatchSink = {
        result: encoded,
        observe: (name, seconds, outcome) => metrics.observeMessage(name, seconds, outcome),
        other: item,
      };
      worker.on('message', (batch: FromWorker[] | PackedBatch) => {
        if (!Array.isArray(batch)) {
          try {
            unpackBatch(batch, sink);
          } catch (e) {
            // A bug of ours, not input. Nothing of the batch was delivered: the worker is
            // restarted, which fails its pending requests with SHARD_FAILED (none waits forever).
            log(`shard ${index}: unreadable reply batch (${(e as Error)?.message ?? String(e)}); restarting the worker`);
            void worker.terminate();
          }
          return;
        }
        for (const m of batch) item(m);
      });
      worker.on('error', (e) => log(`shard ${index}: worker error: ${e?.message ?? String(e)}`));
      worker.on('exit', (code) => {
        if (!isReady) reject(new ShardError('START_FAILED', `shard worker ${index} exited (code ${code}) before it was ready`));
        if (s.worker !== worker) return;
        if (s.counts) retired = sumExchangeCounts([retired, s.counts]);
        s.counts = undefined;
        const lost = s.pending.size;
        for (const p of s.pending.values()) p.reject(new ShardError('SHARD_FAILED', 'the worker serving this exchange failed; its exchanges are lost'));
        s.pending.clear();
        if (closing) return;
        if (!isReady && ++s.earlyDeaths >= 3) {
          s.dead = true;
          log(`shard ${index}: worker died ${s.earlyDeaths} times before it was ready; not restarting it`);
          return;
        }
        restarts++;
        log(`shard ${index}: worker exited unexpectedly (code ${code}, ${lost} request(s) failed); restarting it`);
        spawn(index, s).ready.catch(() => {});
      });
    });
    // Every identity's keys, before any request (a port delivers in order).
    for (const [uri, byPeriod] of keys) for (const [period, key] of byPeriod) postKey(s, uri, period, key);
    return s;
  };

  const post = (s: Slot, m: ToWorker) => s.worker.postMessage(m);
  /** postMessage copies synchronously: the key is posted straight from the pool's copy, nothing else to wipe. */
  const postKey = (s: Slot, uri: string, period: string, key: Uint8Array) => post(s, { t: 'key', uri, period, key });
  const call = (s: Slot, m: ToWorker & { id: number }): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (s.dead) return reject(new ShardError('SHARD_FAILED', `shard ${s.index} is down`));
      s.pending.set(m.id, { resolve, reject });
      s.out.holdForTurn(); // one post per worker per event-loop turn (batch-post.ts)
      s.out.push(m);
    });
  const broadcast = (make: () => ToWorker) => {
    for (const s of slots) if (!s.dead) post(s, make());
  };
  const all = <T>(t: 'expire'): Promise<T[]> =>
    Promise.all(slots.filter((s) => !s.dead).map((s) => call(s, { t, id: nextId++ }) as Promise<T>));

  /** Pulls every worker's report: counters summed into the daemon's (expiry is counted there), states, exchanges. */
  const refresh = async () => {
    const live0 = slots.filter((x) => !x.dead);
    const reports = await Promise.all(
      live0.map(async (x) => {
        const r = (await call(x, { t: 'report', id: nextId++ })) as ShardReport;
        x.counts = r.counts;
        return r;
      }),
    );
    const sum = sumExchangeCounts([retired, ...slots.flatMap((x) => (x.counts ? [x.counts] : []))]);
    for (const k of EXCHANGE_EVENTS) if (k !== 'expired') metrics.exchanges[k] = sum[k];
    const states: Record<string, number> = {};
    for (const r of reports) for (const [k, v] of Object.entries(r.byState)) states[k] = (states[k] ?? 0) + v;
    byState = states;
    live = new Set(reports.flatMap((r) => r.live));
  };

  const slots: Slot[] = [];
  for (let i = 0; i < count; i++) slots.push(spawn(i));
  try {
    await Promise.all(slots.map((s) => s.ready));
  } catch (e) {
    closing = true;
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw e;
  }

  return {
    count,
    get restarts() {
      return restarts;
    },
    threadIds: () => slots.filter((s) => !s.dead).map((s) => s.worker.threadId),
    // A worker answers every request with an encoded result (RelayedResult: wiped once its
    // reply is written) or an error.
    handle: (method, params) =>
      asPromise(() => {
        const r = routeOf(method, params);
        return call(slots[shardOf(r.identity, r.csbId, count)]!, { t: 'req', id: nextId++, method, params: compactForPost(params), route: r.route });
      }),
    addKey: (uri, period, key) => {
      let byPeriod = keys.get(uri);
      if (!byPeriod) keys.set(uri, (byPeriod = new Map()));
      byPeriod.get(period)?.fill(0);
      const own = key.slice();
      byPeriod.set(period, own);
      for (const x of slots) if (!x.dead) postKey(x, uri, period, own);
    },
    dropPeriod: (uri, period) => {
      const k = keys.get(uri)?.get(period);
      k?.fill(0);
      keys.get(uri)?.delete(period);
      broadcast(() => ({ t: 'drop', uri, period }));
    },
    remove: (uri) => {
      for (const k of keys.get(uri)?.values() ?? []) k.fill(0);
      keys.delete(uri);
      broadcast(() => ({ t: 'remove', uri }));
    },
    expire: async () => {
      const n = (await all<number>('expire')).reduce((a, b) => a + b, 0);
      await refresh();
      return n;
    },
    refresh,
    byState: () => ({ ...byState }),
    exists: (identity, csbId) => live.has(exchangeKey(identity, csbId)),
    setLogLevel: (level) => {
      if (shared.logTo === 'forward') return;
      shared.logTo = { ...shared.logTo, level };
      broadcast(() => ({ t: 'level', level }));
    },
    kill: async (i) => {
      await slots[i]!.worker.terminate();
    },
    close: async () => {
      if (closing) return;
      closing = true;
      const live = slots.filter((s) => !s.dead);
      await Promise.all(live.map((s) => call(s, { t: 'close', id: nextId++ }).catch(() => {})));
      await Promise.all(slots.map((s) => s.worker.terminate()));
      for (const byPeriod of keys.values()) for (const k of byPeriod.values()) k.fill(0);
      keys.clear();
    },
  };
}
