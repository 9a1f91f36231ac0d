// The seam between the daemon's server (main thread: framing, connections, ownership) and the
// exchange work (DESIGN §6): `Shards` serves the exchange.* methods and takes the identities'
// keys. Two implementations: one ExchangeShard in process (workers = 0) and a pool of worker
// threads (shard-pool.ts). The router here picks the shard of a request from (identity, CSB ID)
// alone — the CSB ID of exchange.initiate is chosen here, that of a received message is read
// from its MIKEY header — so no routing table is kept and every message of an exchange,
// whatever connection it arrives on, reaches the shard that holds its state.
import { randomNonZeroU32 } from '../util/random.js';
import { MAX_SIGNALLING_TEXT, findMikey } from '../srtp/sdp-body.js';
import type { Route } from './exchange.js';
import type { KeySink } from './identities.js';
import { ExchangeShard, type ShardOptions } from './shard.js';

export interface Shards extends KeySink {
  /** How many shards (1 in process). */
  readonly count: number;
  /** Serves one exchange.* request on the shard its (identity, CSB ID) maps to. */
  handle(method: string, params: Record<string, unknown>): Promise<unknown>;
  /** Purges expired exchange states everywhere; returns how many. Also refresh()es. */
  expire(): Promise<number>;
  /**
   * Brings byState(), exists() and the exchange counters (in the metrics sink) up to date. In
   * process they are always current; from workers they are as of the last refresh.
   */
  refresh(): Promise<void>;
  /** Exchange states held, by state name, summed over the shards. */
  byState(): Record<string, number>;
  /** Whether an exchange of (identity, CSB ID) exists. */
  exists(identity: string, csbId: number): boolean;
  /** Stops every shard and wipes its keys and exchange secrets. */
  close(): Promise<void>;
}

export interface Routed {
  /** the local identity the request acts for ('' if the params do not name one: the shard refuses them) */
  identity: string;
  csbId: number;
  route: Route;
}

/** CSB ID of a MIKEY message (common header octets 4..7), or 0 if too short. */
export function messageCsbId(m: unknown): number {
  return m instanceof Uint8Array && m.length >= 8 ? ((m[4]! << 24) | (m[5]! << 16) | (m[6]! << 8) | m[7]!) >>> 0 : 0;
}

/**
 * The MIKEY message an exchange.receive carries: `message` (bin), or the one inside `sdp` (a
 * key-mgmt line, an SDP body or a SIP message); undefined if there is none (the shard refuses it).
 */
export function receivedMessage(p: Record<string, unknown>): Uint8Array | undefined {
  if (p.message instanceof Uint8Array) return p.message;
  if (typeof p.sdp !== 'string' || p.sdp.length > MAX_SIGNALLING_TEXT) return undefined;
  try {
    return findMikey(p.sdp).message;
  } catch {
    return undefined;
  }
}

/** The local identity an exchange.* request acts for ('' if the params name none), as routeOf reads it. */
export function identityOf(method: string, p: Record<string, unknown>): string {
  const v = method === 'exchange.initiate' ? p.from : p.identity;
  return typeof v === 'string' ? v : '';
}

/** Where an exchange.* request goes. Reads the params without trusting them: the shard validates. */
export function routeOf(method: string, p: Record<string, unknown>): Routed {
  const identity = identityOf(method, p);
  if (method === 'exchange.initiate') {
    const csbId = randomNonZeroU32();
    return { identity, csbId, route: { csbId } };
  }
  const csbId = method === 'exchange.receive' ? messageCsbId(receivedMessage(p)) : typeof p.csbId === 'number' ? p.csbId >>> 0 : 0;
  return { identity, csbId, route: {} };
}

/** Shard index of (identity, CSB ID) among n: FNV-1a over the identity, mixed with the CSB ID. */
export function shardOf(identity: string, csbId: number, n: number): number {
  if (n <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < identity.length; i++) h = Math.imul(h ^ identity.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ csbId, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % n;
}

/** One shard on the main thread (workers = 0). */
export function inProcessShards(o: ShardOptions): Shards {
  const shard = new ExchangeShard(o);
  return {
    count: 1,
    handle: (method, params) => shard.handle(method, params, routeOf(method, params).route),
    addKey: (uri, period, key) => shard.addKey(uri, period, key),
    dropPeriod: (uri, period) => shard.dropPeriod(uri, period),
    remove: (uri) => shard.remove(uri),
    expire: async () => shard.expire(),
    refresh: async () => {},
    byState: () => shard.byState(),
    exists: (identity, csbId) => shard.exists(identity, csbId),
    close: async () => shard.close(),
  };
}

/**
 * Workers > 0 with mailbox-mode identities: the mailbox prekey table lives on the main thread,
 * so a mailbox identity's keys and exchanges go to `main` (an in-process shard), every other
 * identity's to the worker pool. `isMailbox` must answer before the identity's first key arrives.
 * The result keeps the pool's other members (restarts, kill, threadIds, …) through its prototype.
 */
export function withMailboxShard<P extends Shards>(pool: P, main: Shards, isMailbox: (uri: string) => boolean): P {
  const pick = (uri: string) => (isMailbox(uri) ? main : pool);
  const own: Shards = {
    count: pool.count,
    handle: (method, params) => pick(identityOf(method, params)).handle(method, params),
    addKey: (uri, period, key) => pick(uri).addKey(uri, period, key),
    dropPeriod: (uri, period) => pick(uri).dropPeriod(uri, period),
    remove: (uri) => {
      main.remove(uri);
      pool.remove(uri);
    },
    expire: async () => (await pool.expire()) + (await main.expire()),
    refresh: () => pool.refresh(),
    byState: () => {
      const out = { ...pool.byState() };
      for (const [k, n] of Object.entries(main.byState())) out[k] = (out[k] ?? 0) + n;
      return out;
    },
    exists: (identity, csbId) => pick(identity).exists(identity, csbId),
    close: async () => {
      await main.close();
      await pool.close();
    },
  };
  return Object.assign(Object.create(pool) as P, own);
}
