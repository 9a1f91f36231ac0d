// The mailbox's prekey table (deferred delivery v2, DESIGN §3): per user URI, the signed
// bundles it delivered (public values only: no private half ever reaches the mailbox) and the
// ids already handed out. `add` checks the bundle's signature against the bundle's user, its
// Merkle root against its prekeys, its expiry and period, before storing anything; an id that
// was handed out (or is already stored) is refused a second time. `take` hands one unused,
// unexpired prekey to an initiator (as a record with its Merkle path, inside R_MESSAGE_1) and
// marks its id used before returning it. Optional file (JSON, written atomically, 0600) so used
// ids survive a restart: a prekey must never be handed out twice.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { IbakeError } from '../errors.js';
import { replaceFileAtomic } from '../../util/atomic-file.js';
import { checkTimes, decodeBundle, encodeBundle, headerBytesOf, recordOf, type PrekeyBundle, type PrekeyRecord, type PrekeyVerifier } from './record.js';

/** Most unused prekeys held per user. */
export const MAX_PER_USER = 10_000;

interface UserPrekeys {
  /** Bundles delivered (kept while one of their prekeys is unused). */
  bundles: PrekeyBundle[];
  /** Unused prekeys by id: their bundle and index in it. */
  unused: Map<number, { bundle: PrekeyBundle; index: number }>;
  /** Ids handed out. */
  used: Set<number>;
}

export class MailboxPrekeys {
  readonly #path: string | undefined;
  readonly #users = new Map<string, UserPrekeys>();
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(path: string | undefined) {
    this.#path = path;
  }

  /** A table kept in memory only (tests, or a mailbox that persists elsewhere). */
  static memory(): MailboxPrekeys {
    return new MailboxPrekeys(undefined);
  }

  /** A table backed by `path` (loaded if present; a corrupt or loose-mode file is refused). */
  static open(path: string): MailboxPrekeys {
    const m = new MailboxPrekeys(path);
    if (existsSync(path)) m.#load(path);
    return m;
  }

  #load(path: string): void {
    const bad = (why: string): never => {
      throw new IbakeError('IBAKE_BAD_INPUT', `mailbox prekey file ${path} is corrupt (${why}); refusing to use it`);
    };
    if ((statSync(path).mode & 0o077) !== 0) bad('mode must be 0600');
    let j: { version?: unknown; users?: Record<string, { bundles?: unknown; used?: unknown }> };
    try {
      j = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      return bad('not JSON');
    }
    if (j.version !== 2 || typeof j.users !== 'object' || j.users === null) bad('expected {"version":2,"users":{…}}');
    for (const [uri, u] of Object.entries(j.users!)) {
      if (!Array.isArray(u.bundles) || !Array.isArray(u.used)) bad(`entry ${uri}`);
      const used = new Set<number>();
      for (const id of u.used as unknown[]) {
        if (!Number.isInteger(id) || (id as number) < 1 || (id as number) > 0xffffffff) bad(`used id of ${uri}`);
        used.add(id as number);
      }
      const entry: UserPrekeys = { bundles: [], unused: new Map(), used };
      for (const h of u.bundles as unknown[]) {
        if (typeof h !== 'string' || !/^[0-9a-f]+$/.test(h)) bad(`bundle of ${uri}`);
        let b: PrekeyBundle;
        try {
          b = decodeBundle(new Uint8Array(Buffer.from(h as string, 'hex')));
        } catch {
          return bad(`bundle of ${uri}`);
        }
        if (b.uri !== uri) bad(`bundle of ${uri} names ${b.uri}`);
        this.#index(entry, b);
      }
      this.#users.set(uri, entry);
    }
  }

  /** Files a bundle's unused prekeys. */
  #index(u: UserPrekeys, b: PrekeyBundle): void {
    u.bundles.push(b);
    b.prekeys.forEach((p, index) => {
      if (!u.used.has(p.id)) u.unused.set(p.id, { bundle: b, index });
    });
  }

  async #save(): Promise<void> {
    if (this.#path === undefined) return;
    const users: Record<string, { bundles: string[]; used: number[] }> = {};
    for (const [uri, u] of this.#users) {
      // a bundle whose prekeys are all used is kept only as its ids in `used`
      const live = u.bundles.filter((b) => b.prekeys.some((p) => u.unused.has(p.id)));
      u.bundles = live;
      users[uri] = { bundles: live.map((b) => Buffer.from(encodeBundle(b)).toString('hex')), used: [...u.used].sort((a, b) => a - b) };
    }
    await replaceFileAtomic(this.#path, new TextEncoder().encode(JSON.stringify({ version: 2, users }) + '\n'), 0o600);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn, fn);
    this.#chain = p.catch(() => {});
    return p;
  }

  /**
   * Adds a bundle (record.ts octets) after checking it: format, Merkle root over its prekeys,
   * expiry, period, the signature by the bundle's user, and that no id was handed out or is
   * already stored. All or nothing (IBAKE_PREKEY_INVALID with its reason). Expired unused prekeys
   * of the user are dropped first (they do not count against MAX_PER_USER). Returns the user
   * and how many unused prekeys it now has.
   */
  add(verifier: PrekeyVerifier, bundle: Uint8Array, nowMs: number): Promise<{ uri: string; added: number; available: number }> {
    return this.#serial(async () => {
      const b = decodeBundle(bundle);
      const uri = b.uri;
      const u = this.#users.get(uri) ?? { bundles: [], unused: new Map(), used: new Set<number>() };
      for (const p of b.prekeys) {
        if (u.used.has(p.id) || u.unused.has(p.id)) {
          throw new IbakeError('IBAKE_PREKEY_INVALID', `prekey id ${p.id} of ${uri} was already delivered`, { reason: 'reused-id' });
        }
      }
      // prekeys that expired unused are dead weight: drop them (as take does, their ids count as
      // used) so a full table of last period's prekeys never blocks the user's new bundle
      for (const [id, { bundle: held }] of u.unused) {
        if (held.header.expiry * 1000 <= nowMs) {
          u.unused.delete(id);
          u.used.add(id);
        }
      }
      if (u.unused.size + b.prekeys.length > MAX_PER_USER) throw new IbakeError('IBAKE_BUSY', `more than ${MAX_PER_USER} unused prekeys for ${uri}`);
      checkTimes(uri, b.header, nowMs);
      await verifier.header(uri, headerBytesOf(b), b.signature, b.header);
      this.#index(u, b);
      this.#users.set(uri, u);
      await this.#save();
      return { uri, added: b.prekeys.length, available: u.unused.size };
    });
  }

  /**
   * One unused, unexpired prekey of `uri` (the lowest id) as a record for R_MESSAGE_1, marked
   * used (and saved) before it is returned; undefined when none is left. Expired ones are dropped.
   */
  take(uri: string, nowMs: number): Promise<PrekeyRecord | undefined> {
    return this.#serial(async () => {
      const u = this.#users.get(uri);
      if (!u) return undefined;
      const ids = [...u.unused.keys()].sort((a, b) => a - b);
      let dropped = false;
      for (const id of ids) {
        const { bundle, index } = u.unused.get(id)!;
        u.unused.delete(id);
        u.used.add(id);
        if (bundle.header.expiry * 1000 <= nowMs) {
          dropped = true;
          continue;
        }
        await this.#save();
        return recordOf(bundle, index);
      }
      if (dropped) await this.#save();
      return undefined;
    });
  }

  status(uri: string, nowMs: number): { uri: string; available: number; expired: number; used: number } {
    const u = this.#users.get(uri);
    let available = 0;
    let expired = 0;
    for (const { bundle } of u?.unused.values() ?? []) bundle.header.expiry * 1000 > nowMs ? available++ : expired++;
    return { uri, available, expired, used: u?.used.size ?? 0 };
  }
}
