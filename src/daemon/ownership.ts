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

/** The CSB ID of a MIKEY message (common header: version, data type, next payload, V|PRF, CSB ID). */
export function peekCsbId(message: unknown): number | undefined {
  if (!(message instanceof Uint8Array) || message.length < 8) return undefined;
  return messageCsbId(message);
}

export class ExchangeOwners {
  /** identity -> CSB ID -> owner: two lookups on the main thread's request path instead of a
   *  string key built (a number formatted and concatenated) for every exchange request */
  private readonly owners = new Map<string, Map<number, Owner>>();
  private count = 0;

  constructor(public mode: OwnerMode = 'uid') {}

  get size(): number {
    return this.count;
  }

  private get(identity: string, csbId: number): Owner | undefined {
    return this.owners.get(identity)?.get(csbId >>> 0);
  }

  private allowed(o: Owner, ctx: RequestContext): boolean {
    if (o.conn === ctx.conn) return true;
    return this.mode === 'uid' && o.uid !== undefined && o.uid === ctx.uid;
  }

  /** Throws IBAKE_NO_SESSION when the exchange is owned by someone else. */
  check(identity: string, csbId: number, ctx: RequestContext): void {
    const o = this.get(identity, csbId);
    if (o && !this.allowed(o, ctx)) throw new IbakeError('IBAKE_NO_SESSION', 'no session for this CSB ID and peer');
  }

  /** Records the requester as owner unless someone already owns it. */
  claim(identity: string, csbId: number, ctx: RequestContext): void {
    let byCsb = this.owners.get(identity);
    if (!byCsb) this.owners.set(identity, (byCsb = new Map()));
    const c = csbId >>> 0;
    if (byCsb.has(c)) return;
    byCsb.set(c, { conn: ctx.conn, ...(ctx.uid !== undefined ? { uid: ctx.uid } : {}) });
    this.count++;
  }

  release(identity: string, csbId: number): void {
    const byCsb = this.owners.get(identity);
    if (!byCsb?.delete(csbId >>> 0)) return;
    this.count--;
    if (byCsb.size === 0) this.owners.delete(identity);
  }

  /** Forgets owners whose exchange no longer exists (expiry); returns how many. */
  prune(exists: (identity: string, csbId: number) => boolean): number {
    let n = 0;
    for (const [identity, byCsb] of this.owners) {
      for (const c of byCsb.keys()) {
        if (!exists(identity, c)) {
          byCsb.delete(c);
          n++;
        }
      }
      if (byCsb.size === 0) this.owners.delete(identity);
    }
    this.count -= n;
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
