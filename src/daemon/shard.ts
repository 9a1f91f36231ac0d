// One exchange shard (DESIGN §6 "exchanges are sharded over worker threads, each with its own
// engine and endpoints"): for every local identity an IbeKeyring (its private keys and peer
// caches) and an IbakeEndpoint (its exchange states), on one engine handle, serving the
// exchange.* methods. The daemon runs one shard in process (workers = 0) or one per worker
// thread (shard-worker.ts); keys come from the main thread's renewers (addKey / dropPeriod), so
// every shard can serve every identity. Nothing here knows about sockets or threads.
// Deferred delivery v2 (docs/profile.md §6.4): every endpoint checks a mailbox's signed prekey
// with the shard's IbsKeyring (public values only: P_pub) under the `deferred` policy; an
// identity in mailbox mode (only on a main-thread shard: `mailbox` below) answers for others
// from the mailbox prekey table that mailbox.prekeys.add fills.
import type { Engine } from '../engine/types.js';
import type { PeriodKind } from '../ibe/identity.js';
import { IbakeEndpoint, IbeKeyring } from '../ibake/index.js';
import { IbsKeyring } from '../ibake/ibs-port.js';
import type { MailboxPrekeys } from '../ibake/prekey/mailbox.js';
import type { InitiatorPolicy } from '../ibake/policy.js';
import { exchangeHandlers, type ExchangeHandler, type ExchangeMetricsSink, type Route } from './exchange.js';
import { IdentityError } from './identities.js';
import { ParamError } from './methods.js';

/** What every shard is built from, in process or in a worker (plain data: it crosses threads). */
export interface ShardSettings {
  /** the KMS's P_pub (its parameters are bls12381-bf) */
  Ppub: Uint8Array;
  period: PeriodKind;
  profile?: string;
  handshakeTimeoutMs: number;
  establishedLifetimeMs: number;
  maxSessions?: number;
  maxHalfOpenPerPeer?: number;
  /** The caller's deferred-delivery policy (config `deferred`): allowed mailboxes, escrowed v1 fallback. */
  deferred?: { mailboxes: Record<string, string[]>; escrowed: 'allow' | 'deny' };
}

export interface ShardOptions extends ShardSettings {
  engine: Engine;
  /** where the exchange counters and message latencies go */
  metrics: ExchangeMetricsSink;
  log: (line: string) => void;
  /** The exchanges' per-request lines (debug level); none if absent. */
  debug?: (line: string) => void;
  /** Whether debug lines are wanted now (exchange.ts ExchangeDeps); absent: whenever `debug` is given. */
  debugEnabled?: () => boolean;
  /** Main-thread shards only: which identities are mailboxes, and their prekey table. */
  mailbox?: { is: (uri: string) => boolean; prekeys: () => MailboxPrekeys };
}

interface Local {
  ring: IbeKeyring;
  endpoint: IbakeEndpoint;
}

/** Key of an exchange in `live()`: "identity csbId". */
export const exchangeKey = (identity: string, csbId: number) => `${identity} ${csbId >>> 0}`;

export class ExchangeShard {
  private readonly locals = new Map<string, Local>();
  private readonly handlers: Record<string, ExchangeHandler>;
  /** Verifies mailboxes' signed prekeys (no secret in it). */
  private readonly ibs: IbsKeyring;
  private readonly policy: InitiatorPolicy;

  constructor(private readonly o: ShardOptions) {
    this.ibs = new IbsKeyring(o.engine, o.Ppub);
    this.policy = o.deferred ? { mailboxes: o.deferred.mailboxes, escrowedDeferred: o.deferred.escrowed } : {};
    this.handlers = exchangeHandlers({ endpoint: (uri) => this.endpoint(uri), metrics: o.metrics, debug: o.debug ?? (() => {}), debugEnabled: o.debug ? (o.debugEnabled ?? (() => true)) : () => false });
  }

  endpoint(uri: string): IbakeEndpoint {
    const l = this.locals.get(uri);
    if (!l) throw new IdentityError('IDENTITY_UNKNOWN', `identity ${uri} is not registered with this daemon (identity.add)`);
    return l.endpoint;
  }

  /** Adds (a copy of) an identity's verified private key for a period; creates the identity on first use. */
  addKey(uri: string, period: string, key: Uint8Array): void {
    let l = this.locals.get(uri);
    if (!l) {
      const ring = new IbeKeyring(this.o.engine, this.o.Ppub, this.o.period);
      const mailbox = this.o.mailbox?.is(uri) ? { mailbox: true, answerUndecryptable: true, mailboxPrekeys: this.o.mailbox.prekeys() } : {};
      const endpoint = new IbakeEndpoint({
        identity: uri,
        ibe: ring,
        ibs: this.ibs,
        policy: this.policy,
        ...mailbox,
        ...(this.o.engine.p256Mul ? { p256: this.o.engine.p256Mul } : {}),
        handshakeTimeoutMs: this.o.handshakeTimeoutMs,
        establishedLifetimeMs: this.o.establishedLifetimeMs,
        ...(this.o.maxSessions ? { maxSessions: this.o.maxSessions } : {}),
        ...(this.o.maxHalfOpenPerPeer ? { maxHalfOpenPerPeer: this.o.maxHalfOpenPerPeer } : {}),
        ...(this.o.profile ? { profile: this.o.profile } : {}),
      });
      l = { ring, endpoint };
      this.locals.set(uri, l);
    }
    l.ring.addKey(uri, period, key);
  }

  /** Drops (wipes) an identity's key of a period that has ended. */
  dropPeriod(uri: string, period: string): void {
    this.locals.get(uri)?.ring.dropPeriod(period);
  }

  /** Forgets an identity: wipes its keys and its exchanges' secrets. */
  remove(uri: string): void {
    const l = this.locals.get(uri);
    if (!l) return;
    l.endpoint.clear();
    l.ring.close();
    this.locals.delete(uri);
  }

  /** Serves one exchange.* request; `route` carries what the router chose (a new exchange's CSB ID). */
  handle(method: string, params: Record<string, unknown>, route: Route = {}): Promise<unknown> {
    const h = Object.hasOwn(this.handlers, method) ? this.handlers[method] : undefined;
    if (!h) return Promise.reject(new ParamError(`not an exchange method: ${method}`));
    return h(params, route);
  }

  /** Purges expired exchange states of every endpoint; returns how many (the caller counts them). */
  expire(): number {
    let n = 0;
    for (const l of this.locals.values()) n += l.endpoint.expire();
    return n;
  }

  /** Exchange states held, by state name (offered, sent-r1, sent-i2, established). */
  byState(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { endpoint: ep } of this.locals.values()) {
      out.offered = (out.offered ?? 0) + ep.offers.size;
      for (const s of [...ep.initiated.values(), ...ep.responded.values()]) out[s.state] = (out[s.state] ?? 0) + 1;
    }
    return out;
  }

  /** Whether an exchange of (identity, CSB ID) exists here. */
  exists(identity: string, csbId: number): boolean {
    const ep = this.locals.get(identity)?.endpoint;
    return !!ep && ep.initiated.byCsb(csbId).length + ep.responded.byCsb(csbId).length + ep.offers.byCsb(csbId).length > 0;
  }

  /** Every exchange held, as exchangeKey strings. */
  live(): string[] {
    const out = new Set<string>();
    for (const [uri, { endpoint: ep }] of this.locals) {
      for (const s of [...ep.initiated.values(), ...ep.responded.values(), ...ep.offers.values()]) out.add(exchangeKey(uri, s.csbId));
    }
    return [...out];
  }

  /** Wipes every key and exchange secret. */
  close(): void {
    for (const uri of [...this.locals.keys()]) this.remove(uri);
    this.ibs.close();
  }
}
