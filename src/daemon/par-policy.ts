// When the native engine's parallel sections may use a second core (DESIGN §6; docs/daemon.md
// "Cores"). Inside one operation the native engine can hand part of the work to its helper
// thread: that lowers one call's latency when cores are idle, but when every core already runs
// an operation of another call, the helper only competes with them (and its hand-over costs
// CPU). So the daemon counts the exchange requests in flight and lets operations use the helper
// only while fewer than `cores` are in flight; the switch is process-wide (every shard worker's
// engine shares the one helper) and never changes a result. IBAKED_NATIVE_PAR=0 still turns
// the helper off for good. Engines without parallel sections ignore all this.
import type { Engine } from '../engine/types.js';
import { asPromise } from '../util/as-promise.js';

export interface ParPolicy {
  /** Wraps one exchange request: counts it in flight while it runs. */
  track<T>(work: () => Promise<T>): Promise<T>;
  /** Whether operations may use the helper now. */
  readonly parallel: boolean;
}

/**
 * `onSaturated` is told when the load is well past that line: true once twice `cores`
 * requests are in flight (the daemon's router then yields to the shards: router-sched.ts),
 * false once fewer than `cores` are again. The band between keeps a light load (a call's two
 * closes at N = 1, say) from switching it back and forth on every request.
 */
export function parPolicy(engine: Engine, cores: number, o: { onSaturated?: (saturated: boolean) => void } = {}): ParPolicy {
  const set = engine.setParallel;
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
