// Work done ahead of need, in time a party would otherwise wait: after its message has gone
// out and while the peer computes its pairing, or while our own engine call runs off-thread.
//   * Spare ephemeral P-256 key pairs, so a new exchange does not wait for key generation.
//   * K_SESSION and the keys derived from it (exchange-keys.ts), computed as an IdleJob
//     on the next turn of the event loop, i.e. while the engine's threads work.
// All of it is a cache. If the work has not happened (first use, a state restored elsewhere,
// a job that failed), the caller computes it in line and gets the same result. Secrets are
// wiped when a job is dropped, and a spare key pair is handed out exactly once.
import { generateEphemeral, type EphemeralKey } from './ecdh.js';
import { computeExchangeKeys, wipeExchangeKeys, type ExchangeInput, type ExchangeKeys } from './exchange-keys.js';

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
export class IdleJob<T> {
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

/**
 * Starts computeExchangeKeys(input) ahead of need, as an IdleJob on this thread. The input's
 * buffers must stay unchanged until the job has run. (Measured: a worker thread for this was
 * slower, 4.6–5.0 ms vs 4.2–4.8 ms per call, because on two cores it competes with the
 * engine's pool and helper threads; docs/performance.md.)
 */
export function exchangeKeysAhead(input: ExchangeInput): IdleJob<ExchangeKeys> {
  return new IdleJob(() => computeExchangeKeys(input), wipeExchangeKeys);
}
