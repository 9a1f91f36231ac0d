// When the native engine's parallel sections may use a second core (DESIGN §6; docs/daemon.md
// "Cores"). Inside one operation the native engine can hand part of the work to its helper
// thread: that lowers one call's latency when cores are idle, but when every core already runs
// an operation of another call, the helper only competes with them (and its hand-over costs
// CPU). So the daemon counts the exchange requests in flight and lets operations use the helper
// only while fewer than `cores` are in flight; the switch is process-wide (every shard worker's
// engine shares the one helper) and never changes a result. IBAKED_NATIVE_PAR=0 still turns
// the helper off for good. Engines without parallel sections ignore all this.
//
// The same count decides where the main thread's engine operations run (engine.setInline).
// On the libuv pool each one costs two thread wake-ups (the pool thread's, then the main
// thread's for its result), about 0.4 ms of a lone call's 2.3 ms here (docs/performance.md
// "Inline when alone"). While exactly one exchange request is in flight the main thread has
// nothing else to do, so its operations run inline; a request that arrives meanwhile waits at
// most for the rest of that one request's work, and from then on operations go to the pool.
// Shard workers always run inline (shard-worker.ts) and do not use this switch; the daemon
// gives this policy the main-thread shard's own engine handle (daemon.ts), so the switch
// reaches exchange work only.
import type { Engine } from '../engine/types.js';
import { asPromise } from '../util/as-promise.js';

export interface ParPolicy {
  /** Wraps one exchange request: counts it in flight while it runs. */
  track<T>(work: () => Promise<T>): Promise<T>;
  /** Whether operations may use the helper now. */
  readonly parallel: boolean;
  /** Whether the engine's operations run inline on the calling thread now. */
  readonly inline: boolean;
}

/**
 * `onSaturated` is told when the load is well past that line: true once twice `cores`
 * requests are in flight (the daemon's router then yields to the shards: router-sched.ts),
 * false once fewer than `cores` are again. The band between keeps a light load (a call's two
 * closes at N = 1, say) from switching it back and forth on every request.
 */
export function parPolicy(engine: Engine, cores: number, o: { onSaturated?: (saturated: boolean) => void; inlineWhenAlone?: boolean } = {}): ParPolicy {
  const set = engine.setParallel;
  const setInline = o.inlineWhenAlone === false ? undefined : engine.setInline;
  let inline = false;
  const onSaturated = o.onSaturated;
  let inFlight = 0;
  let on = true;
  let saturated = false;
  const update = () => {
    const want = inFlight < cores;
    if (want !== on) {
      on = want;
      set?.(on);
    }
    if (setInline && inline !== (inFlight === 1)) {
      inline = !inline;
      setInline(inline);
    }
    if (onSaturated && saturated !== (saturated ? inFlight >= cores : inFlight >= 2 * cores)) {
      saturated = !saturated;
      onSaturated(saturated);
    }
  };
  set?.(true);
  return {
    get parallel() {
      return on;
    },
    get inline() {
      return inline;
    },
    // One derived promise per request rather than an async function's (this runs on the main
    // thread for every exchange request).
    track: <T>(work: () => Promise<T>): Promise<T> => {
      inFlight++;
      update();
      const done = () => {
        inFlight--;
        update();
      };
      return asPromise(work).then(
        (v) => {
          done();
          return v;
        },
        (e: unknown) => {
          done();
          throw e;
        },
      );
    },
  };
}
