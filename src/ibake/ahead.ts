// Work done ahead of need, in time a party would otherwise wait: after its message has gone
// out and while the peer computes its pairing, or while our own engine call runs off-thread.
//   * Spare ephemeral P-256 key pairs, so a new exchange does not wait for key generation.
//   * K_SESSION and the keys derived from it (exchange-keys.ts), started as an IdleJob on the
//     next turn of the event loop, i.e. while the engine's threads work; with the native
//     engine's P-256 multiplication, K_SESSION itself runs on the engine's threads.
// All of it is a cache. If the work has not happened (first use, a state restored elsewhere,
// a job that failed), the caller computes it in line and gets the same result. Secrets are
// wiped when a job is dropped, and a spare key pair is handed out exactly once.
import { computeKSession, computeKSessionWith, generateEphemeral, type EphemeralKey, type P256Mul } from './ecdh.js';
import { computeExchangeKeys, computeExchangeKeysWith, wipeExchangeKeys, type ExchangeInput, type ExchangeKeys } from './exchange-keys.js';

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
 * A computation started on the next turn of the event loop (setImmediate), so it fills the
 * time the thread would otherwise wait: synchronous work on this thread, or (`run` returning a
 * promise) work submitted elsewhere, e.g. to the engine's threads. `take()` gives its result
 * once (waiting for it if needed) or undefined if it failed or was dropped; `drop()` wipes an
 * unclaimed result, and a result that arrives after a drop is wiped at once. The inputs must
 * stay valid until the job has started (an asynchronous run copies what it needs later); if a
 * caller wipes them first the job fails and `take()` gives undefined, so the caller recomputes
 * and reports the error.
 */
export class IdleJob<T> {
  private value: T | undefined;
  private state: 'pending' | 'done' | 'failed' | 'dropped' | 'taken' = 'pending';
  private readonly ready: Promise<void>;

  constructor(
    run: () => T | Promise<T>,
    private readonly wipe: (v: T) => void,
  ) {
    this.ready = new Promise((resolve) =>
      setImmediate(() => {
        if (this.state !== 'pending') return resolve();
        let out: T | Promise<T>;
        try {
          out = run();
        } catch {
          this.state = 'failed';
          return resolve();
        }
        if (!(out instanceof Promise)) {
          this.value = out;
          this.state = 'done';
          return resolve();
        }
        out.then(
          (v) => {
            if (this.state !== 'pending') return this.wipe(v);
            this.value = v;
            this.state = 'done';
          },
          () => {
            if (this.state === 'pending') this.state = 'failed';
          },
        ).then(resolve);
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
 * Starts computeExchangeKeys(input) ahead of need, as an IdleJob. With `mul` (the native
 * engine's P-256 multiplication) K_SESSION is one multiplication on the engine's threads and
 * only the key derivation runs here; the job keeps its own copies of the secret, RAND and N_c
 * while it waits (the copies of the secrets are wiped when it is done). Without, the whole job
 * runs on this thread (node:crypto: two ECDHs and a decompression). The input's buffers must
 * stay unchanged until the job has started. (Measured: a JavaScript worker thread for the
 * node:crypto job was slower, 4.6–5.0 ms vs 4.2–4.8 ms per call; docs/performance.md.)
 */
export function exchangeKeysAhead(input: ExchangeInput, mul?: P256Mul): IdleJob<ExchangeKeys> {
  if (!mul) return new IdleJob(() => computeExchangeKeys(input), wipeExchangeKeys);
  return new IdleJob(() => {
    const b = input.binding;
    const x: ExchangeInput = { ...input, secret: input.secret.slice(), rand: input.rand.slice(), ...(b ? { binding: { ...b, nc: b.nc.slice() } } : {}) };
    return computeExchangeKeysWith(mul, x).finally(() => {
      x.secret.fill(0);
      x.binding?.nc.fill(0);
    });
  }, wipeExchangeKeys);
}

/**
 * Starts only the ECDH point [secret]peerPoint ahead of need, as an IdleJob: the responder's
 * part of K_SESSION before I_MESSAGE_2 brings N_c (exchange-keys.ts keysFromPoint finishes it).
 * Same threads and copies as exchangeKeysAhead.
 */
export function pointAhead(input: ExchangeInput, mul?: P256Mul): IdleJob<Uint8Array> {
  const wipe = (p: Uint8Array) => p.fill(0);
  if (!mul) return new IdleJob(() => computeKSession(input.secret, input.peerPoint, input.ownPoint), wipe);
  return new IdleJob(() => {
    const secret = input.secret.slice();
    return computeKSessionWith(mul, secret, input.peerPoint, input.ownPoint).finally(() => secret.fill(0));
  }, wipe);
}
