// Entry of one shard worker thread (shard-pool.ts starts one per core): loads its own engine
// handle, keeps one ExchangeShard (keyrings + endpoints of every local identity) and serves the
// messages the main thread posts: keys in and out, exchange.* requests, expiry, metrics, close.
// Replies carry a request's result or its typed error; the SRTP keys of a result are wiped here
// right after they are posted (the main thread wipes its copy once the reply frame is written).
import { parentPort, workerData } from 'node:worker_threads';
import { selectEngine } from '../engine/select.js';
import { IbakedError } from '../util/errors.js';
import { AFTER_SEND } from './server.js';
import { ExchangeShard } from './shard.js';
import type { ToWorker, WorkerInit } from './shard-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const log = (line: string) => port.postMessage({ t: 'log', line });

function errorOut(e: unknown) {
  if (e instanceof IbakedError) {
    const reply = (e as { reply?: unknown }).reply;
    return { code: e.code, message: e.message, typed: true, ...(reply instanceof Uint8Array ? { reply } : {}) };
  }
  return { code: 'INTERNAL', message: (e as Error)?.message ?? String(e), typed: false };
}

const sel = await selectEngine({ name: init.engine });
const shard = new ExchangeShard({ ...init, engine: sel.engine, log });

async function serve(m: ToWorker): Promise<void> {
  switch (m.t) {
    case 'key':
      shard.addKey(m.uri, m.period, m.key);
      m.key.fill(0); // the keyring keeps its own copy
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
        port.postMessage({ t: 'res', id: m.id, ok: false, error: errorOut(e) });
        return;
      }
      try {
        port.postMessage({ t: 'res', id: m.id, ok: true, result });
      } finally {
        const after = typeof result === 'object' && result !== null ? (result as { [AFTER_SEND]?: unknown })[AFTER_SEND] : undefined;
        if (typeof after === 'function') after();
      }
      return;
    }
    case 'expire':
      port.postMessage({ t: 'res', id: m.id, ok: true, result: shard.expire() });
      return;
    case 'metrics':
      port.postMessage({ t: 'res', id: m.id, ok: true, result: shard.metrics.snapshot() });
      return;
    case 'close':
      shard.close();
      port.postMessage({ t: 'res', id: m.id, ok: true, result: null });
      port.close();
      return;
  }
}

port.on('message', (m: ToWorker) => void serve(m));
port.postMessage({ t: 'ready' });
