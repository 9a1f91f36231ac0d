// Who may touch an exchange (DESIGN §6): the connection that started or received it, or —
// when SO_PEERCRED gives the peer's uid (peercred.ts) and `exchangeOwner` is "uid" (default) —
// any connection of the same uid (an app that reconnects keeps its calls). Anyone else gets
// IBAKE_NO_SESSION, exactly as if the exchange did not exist (no oracle for CSB IDs).
//
// This lives on the routing side (main thread), keyed by (local identity, CSB ID), and wraps the
// exchange.* handlers without knowing what they do: it reads `identity`/`from` and the CSB ID
// from the params (exchange.receive: from the MIKEY header, octets 4..7) or from the result.
import { IbakeError } from '../ibake/errors.js';
import type { Handler, RequestContext } from './server.js';
import { messageCsbId, receivedMessage } from './shards.js';
import { asPromise } from '../util/as-promise.js';

export type OwnerMode = 'uid' | 'connection';

interface Owner {
  conn: number;
  uid?: number;
}

const key = (identity: string, csbId: number) => `${identity} ${csbId >>> 0}`;

/** The CSB ID of a MIKEY message (common header: version, data type, next payload, V|PRF, CSB ID). */
export function peekCsbId(message: unknown): number | undefined {
  if (!(message instanceof Uint8Array) || message.length < 8) return undefined;
  return messageCsbId(message);
}

export class ExchangeOwners {
  private readonly owners = new Map<string, Owner>();

  constructor(public mode: OwnerMode = 'uid') {}

  get size(): number {
    return this.owners.size;
  }

  private allowed(o: Owner, ctx: RequestContext): boolean {
    if (o.conn === ctx.conn) return true;
    return this.mode === 'uid' && o.uid !== undefined && o.uid === ctx.uid;
  }

  /** Throws IBAKE_NO_SESSION when the exchange is owned by someone else. */
  check(identity: string, csbId: number, ctx: RequestContext): void {
    const o = this.owners.get(key(identity, csbId));
    if (o && !this.allowed(o, ctx)) throw new IbakeError('IBAKE_NO_SESSION', 'no session for this CSB ID and peer');
  }

  /** Records the requester as owner unless someone already owns it. */
  claim(identity: string, csbId: number, ctx: RequestContext): void {
    const k = key(identity, csbId);
    if (!this.owners.has(k)) this.owners.set(k, { conn: ctx.conn, ...(ctx.uid !== undefined ? { uid: ctx.uid } : {}) });
  }

  release(identity: string, csbId: number): void {
    this.owners.delete(key(identity, csbId));
  }

  /** Forgets owners whose exchange no longer exists (expiry); returns how many. */
  prune(exists: (identity: string, csbId: number) => boolean): number {
    let n = 0;
    for (const k of this.owners.keys()) {
      const i = k.lastIndexOf(' ');
      if (!exists(k.slice(0, i), Number(k.slice(i + 1)))) {
        this.owners.delete(k);
        n++;
      }
    }
    return n;
  }

  /** Wraps the exchange.* handlers with the ownership checks (other handlers pass through). */
  guard(handlers: Record<string, Handler>): Record<string, Handler> {
    const out = { ...handlers };
    // Plain functions over the handler's promise rather than async ones: these run on the main
    // thread for every exchange request, and each async layer costs a promise and a job more.
    const wrap = (name: string, before: (p: Record<string, unknown>, ctx: RequestContext) => void, after?: (p: Record<string, unknown>, r: unknown, ctx: RequestContext) => void) => {
      const h = handlers[name];
      if (!h) return;
      out[name] = (p, ctx) =>
        asPromise(() => {
          before(p, ctx);
          if (!after) return h(p, ctx);
          return h(p, ctx).then((r) => {
            after(p, r, ctx);
            return r;
          });
        });
    };
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const num = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined);
    wrap('exchange.initiate', () => {}, (p, r, ctx) => {
      const id = str(p.from);
      const c = num((r as { csbId?: unknown })?.csbId);
      if (id !== undefined && c !== undefined) this.claim(id, c, ctx);
    });
    wrap(
      'exchange.receive',
      (p, ctx) => {
        const id = str(p.identity);
        const c = peekCsbId(receivedMessage(p)); // `message`, or the one inside `sdp`
        if (id !== undefined && c !== undefined) this.check(id, c, ctx);
      },
      (p, r, ctx) => {
        const id = str(p.identity);
        const c = num((r as { csbId?: unknown })?.csbId);
        if (id !== undefined && c !== undefined) this.claim(id, c, ctx);
      },
    );
    const checkParams = (p: Record<string, unknown>, ctx: RequestContext) => {
      const id = str(p.identity);
      const c = num(p.csbId);
      if (id !== undefined && c !== undefined) this.check(id, c, ctx);
    };
    wrap('exchange.rekey', checkParams);
    wrap('exchange.close', checkParams);
    return out;
  }
}
