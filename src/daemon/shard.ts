// One exchange shard (DESIGN §6 "exchanges are sharded over worker threads, each with its own
// engine and endpoints"): for every local identity an IbeKeyring (its private keys and peer
// caches) and an IbakeEndpoint (its exchange states), on one engine handle, serving the
// exchange.* methods. The daemon runs one shard in process (workers = 0) or one per worker
// thread (shard-worker.ts); keys come from the main thread's renewers (addKey / dropPeriod), so
// every shard can serve every identity. Nothing here knows about sockets or threads.
import type { Engine } from '../engine/types.js';
import type { PeriodKind } from '../ibe/identity.js';
import { IbakeEndpoint, IbeKeyring } from '../ibake/index.js';
import { exchangeHandlers, type ExchangeHandler, type Route } from './exchange.js';
import { IdentityError } from './identities.js';
import { ExchangeMetrics } from './metrics.js';
import { ParamError } from './methods.js';

export interface ShardOptions {
  engine: Engine;
  Ppub: Uint8Array;
  period: PeriodKind;
  profile?: string;
  handshakeTimeoutMs: number;
  establishedLifetimeMs: number;
  log: (line: string) => void;
}

interface Local {
  ring: IbeKeyring;
  endpoint: IbakeEndpoint;
}

export class ExchangeShard {
  readonly metrics = new ExchangeMetrics();
  private readonly locals = new Map<string, Local>();
  private readonly handlers: Record<string, ExchangeHandler>;

  constructor(private readonly o: ShardOptions) {
    this.handlers = exchangeHandlers({ endpoint: (uri) => this.endpoint(uri), metrics: this.metrics, log: o.log });
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
      const endpoint = new IbakeEndpoint({
        identity: uri,
        ibe: ring,
        ...(this.o.engine.p256Mul ? { p256: this.o.engine.p256Mul } : {}),
        handshakeTimeoutMs: this.o.handshakeTimeoutMs,
        establishedLifetimeMs: this.o.establishedLifetimeMs,
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

  /** Purges expired exchange states of every endpoint; returns how many. */
  expire(): number {
    let n = 0;
    for (const l of this.locals.values()) n += l.endpoint.expire();
    this.metrics.expired += n;
    return n;
  }

  /** Wipes every key and exchange secret. */
  close(): void {
    for (const uri of [...this.locals.keys()]) this.remove(uri);
  }
}
