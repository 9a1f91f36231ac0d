// Who may act for which local identity (docs/daemon.md §3 "Who may act for an identity"). An
// identity may carry an allow-list of peer uids (`uids` in the configuration or in identity.add);
// then only connections whose peer uid (SO_PEERCRED, peercred.ts) is in it may act for it: start
// or answer exchanges as it, re-key or close them, make its prekeys, open its deferred messages.
// Anyone else gets IDENTITY_FORBIDDEN. Without peer credentials (no uid known for the
// connection) a restricted identity refuses every client: fail closed. An identity without a
// list is open to whoever can reach the socket, as before.
//
// Like ownership.ts this wraps the handlers on the main thread, so a refused request never
// reaches an exchange shard; it only reads the param that names the identity (the handler
// itself validates it and everything else).
import { IbakedError } from '../util/errors.js';
import type { Handler, RequestContext } from './server.js';
import { asPromise } from '../util/as-promise.js';

export class IdentityAccessError extends IbakedError {}

/** Most uids in one identity's allow-list. */
export const MAX_UIDS = 256;
/** Highest valid uid: (uid_t)-1 = 2^32-1 means "no uid" to the kernel. */
export const MAX_UID = 2 ** 32 - 2;

/** The methods that act for a local identity, and the param that names it. */
export const ACTS_FOR: Readonly<Record<string, string>> = {
  'exchange.initiate': 'from',
  'exchange.receive': 'identity',
  'exchange.rekey': 'identity',
  'exchange.close': 'identity',
  'prekeys.generate': 'identity',
  'prekeys.status': 'identity',
  'deferred.open': 'identity',
};

/**
 * Validates an allow-list: an array of 1..MAX_UIDS distinct integers in 0..MAX_UID. `fail`
 * makes the error (ConfigError for the file, BAD_PARAMS over IPC).
 */
export function parseUids(v: unknown, where: string, fail: (message: string) => Error): number[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_UIDS) throw fail(`${where} must be an array of 1..${MAX_UIDS} uids (integers in 0..${MAX_UID})`);
  const seen = new Set<number>();
  for (const [i, u] of v.entries()) {
    if (typeof u !== 'number' || !Number.isInteger(u) || u < 0 || u > MAX_UID) throw fail(`${where}[${i}] must be a uid, an integer in 0..${MAX_UID}`);
    if (seen.has(u)) throw fail(`${where}: uid ${u} listed twice`);
    seen.add(u);
  }
  return [...seen];
}

/** Whether two allow-lists (absent = open) hold the same uids, in any order. */
export function sameUids(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const s = new Set(a);
  return a.length === b.length && b.every((u) => s.has(u));
}

export class IdentityAccess {
  private readonly lists = new Map<string, readonly number[]>();

  /** Sets (or, with `uids` undefined, removes) the allow-list of `uri`. */
  set(uri: string, uids: readonly number[] | undefined): void {
    if (uids === undefined) this.lists.delete(uri);
    else this.lists.set(uri, [...uids].sort((x, y) => x - y));
  }

  /** The allow-list of `uri` (sorted), or undefined when it is open. */
  uidsOf(uri: string): readonly number[] | undefined {
    return this.lists.get(uri);
  }

  /** How many identities have an allow-list. */
  get restricted(): number {
    return this.lists.size;
  }

  /** Whether a peer with this uid (undefined: not known) may act for `uri`. */
  allows(uri: string, uid: number | undefined): boolean {
    const l = this.lists.get(uri);
    return l === undefined || (uid !== undefined && l.includes(uid));
  }

  /** Throws IDENTITY_FORBIDDEN unless the requester may act for `uri`. */
  check(uri: string, ctx: RequestContext): void {
    if (this.allows(uri, ctx.uid)) return;
    throw new IdentityAccessError(
      'IDENTITY_FORBIDDEN',
      ctx.uid === undefined
        ? `identity ${uri} is restricted to listed uids and this daemon cannot read the peer's uid (NO_PEERCRED)`
        : `uid ${ctx.uid} may not act for identity ${uri} (not in its uids)`,
    );
  }

  /**
   * Wraps the ACTS_FOR handlers with the check (other handlers pass through). prekeys.status
   * without `identity` lists only the identities the requester may act for.
   */
  guard(handlers: Record<string, Handler>): Record<string, Handler> {
    const out = { ...handlers };
    for (const [name, field] of Object.entries(ACTS_FOR)) {
      const h = handlers[name];
      if (!h) continue;
      // A plain function over the handler's promise (the exchange requests pass here on the
      // main thread; an async layer would cost a promise and a job more each).
      out[name] = (p, ctx) =>
        asPromise(() => {
          const uri = p[field];
          if (typeof uri === 'string') this.check(uri, ctx);
          if (name !== 'prekeys.status' || uri !== undefined) return h(p, ctx);
          return h(p, ctx).then((r) => {
            if (!Array.isArray((r as { prekeys?: unknown })?.prekeys)) return r;
            const list = (r as { prekeys: Array<{ uri: string }> }).prekeys;
            return { ...(r as object), prekeys: list.filter((e) => this.allows(e.uri, ctx.uid)) };
          });
        });
    }
    return out;
  }
}
