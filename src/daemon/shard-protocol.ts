// Messages between the daemon's main thread and its shard workers (shard-pool.ts <->
// shard-worker.ts), typed in one place so both sides agree.
import type { EngineName } from '../engine/types.js';
import type { PeriodKind } from '../ibe/identity.js';
import type { Route } from './exchange.js';
import type { ExchangeMetrics } from './metrics.js';

/** workerData of a shard worker. */
export interface WorkerInit {
  index: number;
  engine: EngineName;
  Ppub: Uint8Array;
  period: PeriodKind;
  profile?: string;
  handshakeTimeoutMs: number;
  establishedLifetimeMs: number;
  maxSessions?: number;
  maxHalfOpenPerPeer?: number;
}

/** A worker's state for the main thread's metrics and ownership records. */
export interface ShardReport {
  counts: ExchangeMetrics;
  byState: Record<string, number>;
  /** exchangeKey of every exchange held */
  live: string[];
}

/** The main thread posts one ToWorker (keys) or an array (batched requests); a worker always posts arrays. */
export type ToWorker =
  | { t: 'key'; uri: string; period: string; key: Uint8Array }
  | { t: 'drop'; uri: string; period: string }
  | { t: 'remove'; uri: string }
  | { t: 'req'; id: number; method: string; params: Record<string, unknown>; route: Route }
  | { t: 'expire'; id: number }
  | { t: 'report'; id: number }
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
  | { t: 'log'; line: string }
  | { t: 'obs'; name: string; seconds: number; outcome: string }
  | { t: 'res'; id: number; ok: true; result: unknown }
  | { t: 'res'; id: number; ok: false; error: WorkerError };
