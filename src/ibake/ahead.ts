// Work done ahead of need, in time a party would otherwise wait: after its message has gone
// out and while the peer computes its pairing, or while our own engine call runs off-thread.
//   * Spare ephemeral P-256 key pairs, so a new exchange does not wait for key generation.
//   * AheadJob: K_SESSION and the keys derived from it (exchange-keys.ts), computed in the
//     ECDH worker thread (ecdh-worker.ts) so it runs on an idle core, or, without a worker,
//     as an IdleJob on the next turn of this thread's event loop.
// All of it is a cache. If the work has not happened (first use, a state restored elsewhere,
// a job that failed, no worker), the caller computes it in line and gets the same result.
// Secrets are wiped when a job is dropped, and a spare key pair is handed out exactly once.
//   IBAKED_ECDH_WORKER=0   never start the worker (in-thread idle jobs only)
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { generateEphemeral, type EphemeralKey } from './ecdh.js';
import { computeExchangeKeys, wipeExchangeKeys, type ExchangeInput, type ExchangeKeys } from './exchange-keys.js';
import type { WorkerReply, WorkerRequest } from './ecdh-worker.js';

/** Spare key pairs kept ready (each exchange takes one per side). */
const SPARES = 2;
const spares: EphemeralKey[] = [];
let refillQueued = false;

function refill(): void {
  refillQueued = false;
  if (spares.length >= SPARES) return;
  spares.push(generateEphemeral());
  if (spares.length < SPARES) queueRefill(); // one per turn: never a long stall
}

function queueRefill(): void {
  if (refillQueued) return;
  refillQueued = true;
  setImmediate(refill).unref();
}

/**
 * A fresh ephemeral key pair (OpenSSL's CSPRNG, via ecdh.ts): a spare made in idle time if one
 * is ready, else one made now. Either way another spare is made on a later turn.
 */
export function takeEphemeral(): EphemeralKey {
  const k = spares.pop() ?? generateEphemeral();
  queueRefill();
  return k;
}

/**
 * A synchronous computation run on the next turn of the event loop (setImmediate), so it
 * fills the time the thread would otherwise wait. `take()` gives its result once (waiting
 * for it if needed) or undefined if it threw or was dropped; `drop()` wipes an unclaimed
 * result. The inputs must stay valid until the job runs; if a caller wipes them first the
 * job fails and `take()` gives undefined, so the caller recomputes and reports the error.
 */
export class IdleJob<T> implements AheadJob<T> {
  private value: T | undefined;
  private state: 'pending' | 'done' | 'failed' | 'dropped' | 'taken' = 'pending';
  private readonly ready: Promise<void>;

  constructor(
    run: () => T,
    private readonly wipe: (v: T) => void,
  ) {
    this.ready = new Promise((resolve) =>
      setImmediate(() => {
        if (this.state === 'pending') {
          try {
            this.value = run();
            this.state = 'done';
          } catch {
            this.state = 'failed';
          }
        }
        resolve();
      }),
    );
  }

  async take(): Promise<T | undefined> {
    await this.ready;
    if (this.state !== 'done') return undefined;
    this.state = 'taken';
    const v = this.value;
    this.value = undefined;
    return v;
  }

  drop(): void {
    if (this.value !== undefined) this.wipe(this.value);
    this.value = undefined;
    if (this.state !== 'taken') this.state = 'dropped';
  }
}

/** What the protocol holds while work runs ahead: its result once, or undefined. */
export interface AheadJob<T> {
  take(): Promise<T | undefined>;
  drop(): void;
}

// --- the ECDH worker -------------------------------------------------------------------------

/** The compiled worker script: next to this module, or in dist/ when running from src/ (tests). */
function workerFile(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const candidates = here.endsWith('.ts')
    ? [fileURLToPath(new URL('../../dist/ibake/ecdh-worker.js', import.meta.url))]
    : [fileURLToPath(new URL('./ecdh-worker.js', import.meta.url))];
  return candidates.find((f) => existsSync(f));
}

const MAX_STARTS = 3;

/** One worker per process, started on first use, unref'd while nothing is pending. */
class EcdhWorker {
  private worker: Worker | undefined;
  private starts = 0;
  private nextId = 1;
  private readonly pending = new Map<number, (r: ExchangeKeys | undefined) => void>();

  private ensure(): Worker | undefined {
    if (this.worker) return this.worker;
    if (process.env.IBAKED_ECDH_WORKER === '0' || this.starts >= MAX_STARTS) return undefined;
    const file = workerFile();
    if (!file) return undefined;
    this.starts++;
    let w: Worker;
    try {
      w = new Worker(file);
    } catch {
      return undefined;
    }
    w.unref();
    w.on('message', (r: WorkerReply) => this.settle(r.id, 'keys' in r ? r.keys : undefined));
    const down = () => {
      if (this.worker !== w) return;
      this.worker = undefined;
      for (const id of [...this.pending.keys()]) this.settle(id, undefined); // callers recompute
    };
    w.on('error', down);
    w.on('exit', down);
    this.worker = w;
    return w;
  }

  private settle(id: number, keys: ExchangeKeys | undefined): void {
    const done = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    if (done) done(keys);
    else if (keys) wipeExchangeKeys(keys);
  }

  /** Posts the computation; undefined when no worker can run it. The input secret is copied. */
  submit(input: ExchangeInput): Promise<ExchangeKeys | undefined> | undefined {
    const w = this.ensure();
    if (!w) return undefined;
    const id = this.nextId++;
    const secret = input.secret.slice();
    const req: WorkerRequest = { id, input: { ...input, secret } };
    const p = new Promise<ExchangeKeys | undefined>((resolve) => this.pending.set(id, resolve));
    if (this.pending.size === 1) w.ref(); // keep the process alive while a reply is due
    try {
      w.postMessage(req, [secret.buffer as ArrayBuffer]); // the copy moves to the worker
    } catch {
      secret.fill(0);
      this.settle(id, undefined);
    }
    return p;
  }

  /** Stops the worker (tests, shutdown); pending jobs resolve undefined. */
  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    for (const id of [...this.pending.keys()]) this.settle(id, undefined);
    if (w) await w.terminate();
  }

  get running(): boolean {
    return this.worker !== undefined;
  }
}

const ecdhWorker = new EcdhWorker();

/** Stops the ECDH worker thread (daemon shutdown, tests). A later job starts a new one. */
export function stopEcdhWorker(): Promise<void> {
  return ecdhWorker.stop();
}

/** True while the ECDH worker thread runs (diagnostics, tests). */
export function ecdhWorkerRunning(): boolean {
  return ecdhWorker.running;
}

class WorkerJob implements AheadJob<ExchangeKeys> {
  private dropped = false;
  private taken = false;
  private readonly result: Promise<ExchangeKeys | undefined>;

  constructor(result: Promise<ExchangeKeys | undefined>) {
    this.result = result.then((k) => {
      if (k && this.dropped) {
        wipeExchangeKeys(k);
        return undefined;
      }
      return k;
    });
  }

  async take(): Promise<ExchangeKeys | undefined> {
    if (this.taken || this.dropped) return undefined;
    this.taken = true;
    return this.result;
  }

  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    if (!this.taken) void this.result.then((k) => k && wipeExchangeKeys(k));
  }
}

/**
 * Starts computeExchangeKeys(input) ahead of need: in the ECDH worker when one runs, else as
 * an IdleJob on this thread. The input's buffers must stay unchanged until the job has run
 * (the worker gets its own copy of the secret at once).
 */
export function exchangeKeysAhead(input: ExchangeInput): AheadJob<ExchangeKeys> {
  const off = ecdhWorker.submit(input);
  if (off) return new WorkerJob(off);
  return new IdleJob(() => computeExchangeKeys(input), wipeExchangeKeys);
}
