// Messages between the daemon's main thread and its shard workers (shard-pool.ts <->
// shard-worker.ts), typed in one place so both sides agree.
import type { EngineName } from '../engine/types.js';
import type { Route } from './exchange.js';
import type { LogFormat, LogLevel } from './log.js';
import type { ExchangeMetrics } from './metrics.js';
import type { ShardSettings } from './shard.js';

/** workerData of a shard worker. */
export interface WorkerInit extends ShardSettings {
  index: number;
  engine: EngineName;
  /**
   * How the worker logs: straight to the process's stderr (fd 2, synchronous writes, so the
   * main thread does not relay every line) with this level and format, or 'forward' each line
   * to the main thread's logger (when that logger is not the process's stderr, e.g. in tests).
   */
  logTo: 'forward' | { level: LogLevel; format: LogFormat };
}

/** A worker's state for the main thread's metrics and ownership records. */
export interface ShardReport {
  counts: ExchangeMetrics;
  byState: Record<string, number>;
  /** exchangeKey of every exchange held */
  live: string[];
}

/** The main thread posts one ToWorker (keys) or an array (batched requests); a worker posts an array of FromWorker, or a PackedBatch of them (reply-batch.ts). */
export type ToWorker =
  | { t: 'key'; uri: string; period: string; key: Uint8Array }
  | { t: 'drop'; uri: string; period: string }
  | { t: 'remove'; uri: string }
  | { t: 'req'; id: number; method: string; params: Record<string, unknown>; route: Route }
  | { t: 'expire'; id: number }
  | { t: 'report'; id: number }
  | { t: 'level'; level: LogLevel }
  | { t: 'close'; id: number };

export interface WorkerError {
  code: string;
  message: string;
  /** an IbakedError (typed), not a bug */
  typed: boolean;
  reply?: Uint8Array;
}

export type FromWorker =
  | { t: 'ready' }
  | { t: 'log'; line: string; debug?: true }
  /** a finished log line the worker could not write itself (stderr pipe full) */
  | { t: 'raw'; text: string }
  | { t: 'obs'; name: string; seconds: number; outcome: string }
  | { t: 'res'; id: number; ok: true; result: unknown }
  /** an exchange.* result, msgpack-encoded in the worker (frame.ts EncodedResult) */
  | { t: 'res'; id: number; ok: true; encoded: Uint8Array; csbId?: number }
  | { t: 'res'; id: number; ok: false; error: WorkerError };
