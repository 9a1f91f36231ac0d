// Entry of one shard worker thread (shard-pool.ts starts one per core): loads its own engine
// handle, keeps one ExchangeShard (keyrings + endpoints of every local identity) and serves the
// messages the main thread posts: keys in and out, exchange.* requests, expiry, metrics, close.
// Replies carry a request's result or its typed error; the SRTP keys of a result are wiped here
// right after they are posted (the main thread wipes its copy once the reply frame is written).
import { writeFileSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { selectEngine } from '../engine/select.js';
import { IbakedError } from '../util/errors.js';
import { BatchPost } from './batch-post.js';
import { postBatch } from './reply-batch.js';
import { encodeResult } from './frame.js';
import { createLogger } from './log.js';
import { AFTER_SEND } from './server.js';
import { ExchangeMetrics } from './metrics.js';
import { ExchangeShard } from './shard.js';
import { setThreadBatch, threadPolicy } from './router-sched.js';
import type { FromWorker, ShardReport, ToWorker, WorkerInit } from './shard-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;
// Replies (and forwarded log lines) go to the main thread batched per event-loop turn
// (batch-post.ts), results and latency observations packed (reply-batch.ts).
const out = new BatchPost<FromWorker>((items) => postBatch((msg, transfer) => port.postMessage(msg, transfer), items));
/** One finished log line to fd 2; if the pipe is full (EAGAIN) the main thread writes it instead. */
function writeStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    out.push({ t: 'raw', text });
  }
}
const logger =
  init.logTo === 'forward'
    ? undefined
    : createLogger({ level: init.logTo.level, format: init.logTo.format, sink: { write: writeStderr } }).child({ shard: init.index });
const log = logger ? (line: string) => logger.info(line) : (line: string) => out.push({ t: 'log', line });
const debug = logger ? (line: string) => logger.debug(line) : (line: string) => out.push({ t: 'log', line, debug: true });

// A thread inherits its creator's scheduling policy: a worker (re)started while the router ran
// as SCHED_BATCH (router-sched.ts) runs as SCHED_OTHER like every shard.
if (threadPolicy() === 'batch') setThreadBatch(false);

// Linux: name this thread (ps, top and the benchmarks tell the shards from the pool threads).
try {
  writeFileSync('/proc/thread-self/comm', `ibaked-shard-${init.index}`);
} catch {
  // not Linux, or no /proc: the name is cosmetic
}

function errorOut(e: unknown) {
  if (e instanceof IbakedError) {
    const reply = (e as { reply?: unknown }).reply;
    return { code: e.code, message: e.message, typed: true, ...(reply instanceof Uint8Array ? { reply } : {}) };
  }
  return { code: 'INTERNAL', message: (e as Error)?.message ?? String(e), typed: false };
}

const sel = await selectEngine({ name: init.engine });
// This thread does nothing but its shard's work, so the native engine runs each operation here
// rather than hopping to the libuv pool and back (docs/daemon.md "Cores"). IBAKED_SHARD_INLINE=0
// keeps the pool (benchmarks compare the two).
const engine =
  sel.engine.name === 'native' && process.env.IBAKED_SHARD_INLINE !== '0'
    ? await (await import('../engine/native/index.js')).loadNativeEngine({ inline: true })
    : sel.engine;
// Counters stay here until the main thread asks (report); message latencies go with the replies.
const metrics = {
  exchanges: new ExchangeMetrics(),
  observeMessage: (name: string, seconds: number, outcome: string) => out.push({ t: 'obs', name, seconds, outcome }),
};
// In 'forward' mode the main thread's logger decides what to keep, so every line goes.
const debugEnabled = logger ? () => logger.isLevelEnabled('debug') : () => true;
const shard = new ExchangeShard({ ...init, engine, metrics, log, debug, debugEnabled });

async function serve(m: ToWorker): Promise<void> {
  switch (m.t) {
    case 'key':
      shard.addKey(m.uri, m.period, m.key);
      m.key.fill(0); // the keyring keeps its own copy
      return;
    case 'level':
      if (logger) logger.level = m.level;
      return;
    case 'drop':
      return shard.dropPeriod(m.uri, m.period);
    case 'remove':
      return shard.remove(m.uri);
    case 'req': {
      let result: unknown;
      try {
        result = await shard.handle(m.method, m.params, m.route);
      } catch (e) {
        out.push({ t: 'res', id: m.id, ok: false, error: errorOut(e) });
        return;
      }
      // Posted msgpack-encoded (frame.ts EncodedResult: one byte string to copy, and the main
      // thread writes it into the reply frame as it is); once the batch holding it has been
      // posted, the encoding and the original's keys are wiped here.
      const after = typeof result === 'object' && result !== null ? (result as { [AFTER_SEND]?: unknown })[AFTER_SEND] : undefined;
      let encoded: Uint8Array;
      try {
        encoded = encodeResult(result);
      } catch (e) {
        if (typeof after === 'function') after();
        out.push({ t: 'res', id: m.id, ok: false, error: errorOut(e) });
        return;
      }
      const csbId = (result as { csbId?: unknown } | null)?.csbId;
      out.push({ t: 'res', id: m.id, ok: true, encoded, ...(typeof csbId === 'number' ? { csbId } : {}) }, () => {
        encoded.fill(0);
        if (typeof after === 'function') after();
      });
      return;
    }
    case 'expire':
      out.push({ t: 'res', id: m.id, ok: true, result: shard.expire() });
      return;
    case 'report': {
      const report: ShardReport = { counts: { ...metrics.exchanges }, byState: shard.byState(), live: shard.live() };
      out.push({ t: 'res', id: m.id, ok: true, result: report });
      return;
    }
    case 'close':
      shard.close();
      out.push({ t: 'res', id: m.id, ok: true, result: null });
      out.flush();
      port.close();
      return;
  }
}

// The replies to one posted batch of requests leave together (BatchPost.hold): when the last
// of them is done, or at the end of this event-loop turn if one of them takes longer.
const released = () => out.release();
port.on('message', (m: ToWorker | ToWorker[]) => {
  if (!Array.isArray(m)) return void serve(m);
  if (m.length === 1) return void serve(m[0]!);
  out.hold();
  void Promise.allSettled(m.map(serve)).then(released);
});
port.postMessage([{ t: 'ready' }]);
