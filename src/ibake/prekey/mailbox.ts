// The mailbox's prekey table (deferred delivery v2, DESIGN §3): per user URI, the signed
// bundles it delivered (public values only: no private half ever reaches the mailbox) and the
// ids already handed out. `add` checks the bundle's signature against the bundle's user, its
// Merkle root against its prekeys, its expiry and period, before storing anything; an id that
// was handed out (or is already stored) is refused a second time. `take` hands one unused,
// unexpired prekey to an initiator (as a record with its Merkle path, inside R_MESSAGE_1) and
// marks its id used before returning it. A prekey is never handed out twice, across restarts too.
//
// Bounded, because `take` is triggered by remote callers and `add` accepts any user's signed bundle:
// * Cost of a hand-out: O(1) on disk. The bundles live in a JSON snapshot (0600, replaced
//   atomically) rewritten only on `add` and on compaction; each hand-out appends one line to a
//   journal (mailbox-journal.ts) and waits for fdatasync before the prekey is returned (a crash
//   may lose a prekey, never hand one out twice). Loading replays the journal over the snapshot;
//   compaction (on every add, and after COMPACT_LINES hand-outs) writes the snapshot, then
//   empties the journal (a crash in between replays lines the snapshot already holds: harmless).
//   So callers pay for a snapshot (O(table): ~22 ms measured at 20 000 held) once per COMPACT_LINES hand-outs.
//   In memory a take is O(1) amortised too (a sorted id list per user, rebuilt on add).
// * Size: what the table holds is counted as the prekeys of the bundles it keeps (a bundle stays
//   while one of its prekeys is unused, since a record's Merkle path needs all of them) plus the
//   ranges of used ids (used-ids.ts; an honest user's used ids are one or a few ranges, so callers
//   draining a user's prekeys do not eat into its budget and it can always refill). `add`
//   refuses (IBAKE_BUSY, nothing stored) past MAX_PER_USER unused prekeys of the user, past
//   MAX_HELD_PER_USER held by the user, or past MAX_TOTAL held across users. Every user kept
//   holds at least one, so MAX_TOTAL also bounds the number of users: no separate user cap. One
//   user (who must hold a signing key of the domain) can take at most MAX_HELD_PER_USER of it.
// * Forgetting: used ids are kept with their bundle's expiry and forgotten at compaction once it
//   has passed (as are expired unused prekeys, and users left with nothing); `add` refuses any
//   bundle that expires at or before the latest expiry forgotten (`forgotten`, kept in the
//   snapshot), so a clock that goes back cannot bring a forgotten id back to life.
// File: {"version":3,"forgotten":S,"users":{URI:{"bundles":[hex…],"used":[[lo,hi,expiry]…]}}};
// a version-2 file (used ids as a list) is read, its ids kept without expiry (never forgotten).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { IbakeError } from '../errors.js';
import { replaceFileAtomic } from '../../util/atomic-file.js';
import { checkTimes, decodeBundle, headerBytesOf, recordOf, type PrekeyBundle, type PrekeyRecord, type PrekeyVerifier } from './record.js';
import { cutTornTail, Journal, readJournal } from './mailbox-journal.js';
import { NEVER, UsedIds } from './used-ids.js';

/** Most unused prekeys held per user. */
export const MAX_PER_USER = 10_000;
/** Most held per user: prekeys of the bundles kept plus ranges of used ids. */
export const MAX_HELD_PER_USER = 2 * MAX_PER_USER;
/** Most held across users (so also the most users). */
export const MAX_TOTAL = 200_000;
/** Hand-outs journaled before the snapshot is rewritten and the journal emptied. */
export const COMPACT_LINES = 10_000;

interface HeldBundle {
  b: PrekeyBundle;
  /** Its octets in hex, as the snapshot stores them. */
  hex: string;
  /** How many of its prekeys are unused (0: dropped at the next compaction). */
  unused: number;
}

interface UserPrekeys {
  bundles: HeldBundle[];
  /** Unused prekeys by id: their bundle and index in it. */
  unused: Map<number, { held: HeldBundle; index: number }>;
  /** Ids handed out (or dropped as expired), until forgotten. */
  used: UsedIds;
  /** The unused ids in ascending order from `head` on (stale entries skipped); rebuilt after add. */
  order?: number[];
  head: number;
}

/** The caps (the exported constants unless a test asks for smaller ones). */
export interface MailboxLimits {
  perUser: number;
  heldPerUser: number;
  total: number;
  compactLines: number;
}
const LIMITS: MailboxLimits = { perUser: MAX_PER_USER, heldPerUser: MAX_HELD_PER_USER, total: MAX_TOTAL, compactLines: COMPACT_LINES };

const newUser = (): UserPrekeys => ({ bundles: [], unused: new Map(), used: new UsedIds(), head: 0 });

/** What a user holds, as counted against the caps. */
const weight = (u: UserPrekeys): number => u.bundles.reduce((n, h) => n + (h.unused > 0 ? h.b.prekeys.length : 0), 0) + u.used.ranges;

/** The journal next to a snapshot `….json`: `….used`. */
export const journalPathOf = (path: string): string => `${path.replace(/\.json$/, '')}.used`;

export class MailboxPrekeys {
  readonly #path: string | undefined;
  readonly #max: MailboxLimits;
  readonly #users = new Map<string, UserPrekeys>();
  #journal: Journal | undefined;
  /** Latest expiry (seconds) of the ids forgotten: bundles expiring at or before it are refused. */
  #forgotten = 0;
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(path: string | undefined, limits: Partial<MailboxLimits>) {
    this.#path = path;
    this.#max = { ...LIMITS, ...limits };
  }

  /** A table kept in memory only (tests, or a mailbox that persists elsewhere). */
  static memory(limits: Partial<MailboxLimits> = {}): MailboxPrekeys {
    return new MailboxPrekeys(undefined, limits);
  }

  /**
   * A table backed by the snapshot `path` and its journal (journalPathOf), loaded if present; a
   * corrupt or loose-mode file is refused (and left as it is). A torn last journal line is cut off.
   */
  static open(path: string, limits: Partial<MailboxLimits> = {}): MailboxPrekeys {
    const m = new MailboxPrekeys(path, limits);
    const journalPath = journalPathOf(path);
    const bad = (why: string): never => {
      throw new IbakeError('IBAKE_BAD_INPUT', `mailbox prekey file ${path} is corrupt (${why}); refusing to use it`);
    };
    if (existsSync(path)) m.#load(path, bad);
    const j = readJournal(journalPath, bad);
    for (const e of j.entries) m.#markUsed(e.uri, e.id, e.expiry);
    cutTornTail(journalPath, j.complete, j.size);
    m.#journal = new Journal(journalPath, j.entries.length, j.complete);
    return m;
  }

  #load(path: string, bad: (why: string) => never): void {
    if ((statSync(path).mode & 0o077) !== 0) bad('mode must be 0600');
    let j: { version?: unknown; forgotten?: unknown; users?: Record<string, { bundles?: unknown; used?: unknown }> };
    try {
      j = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      return bad('not JSON');
    }
    const v3 = j.version === 3;
    if ((!v3 && j.version !== 2) || typeof j.users !== 'object' || j.users === null) bad('expected {"version":3,"users":{…}}');
    if (v3 && (!Number.isSafeInteger(j.forgotten) || (j.forgotten as number) < 0)) bad('forgotten');
    this.#forgotten = v3 ? (j.forgotten as number) : 0;
    for (const [uri, u] of Object.entries(j.users!)) {
      if (typeof u !== 'object' || u === null || !Array.isArray(u.bundles) || !Array.isArray(u.used)) bad(`entry ${uri}`);
      const entry = newUser();
      if (v3) {
        for (const r of u.used as unknown[]) if (!entry.used.appendRange(r)) bad(`used ids of ${uri}`);
      } else {
        for (const id of u.used as unknown[]) {
          if (!Number.isInteger(id) || (id as number) < 1 || (id as number) > 0xffffffff) bad(`used id of ${uri}`);
          entry.used.add(id as number, NEVER);
        }
      }
      for (const h of u.bundles as unknown[]) {
        if (typeof h !== 'string' || !/^[0-9a-f]+$/.test(h)) bad(`bundle of ${uri}`);
        let b: PrekeyBundle;
        try {
          b = decodeBundle(new Uint8Array(Buffer.from(h as string, 'hex')));
        } catch {
          return bad(`bundle of ${uri}`);
        }
        if (b.uri !== uri) bad(`bundle of ${uri} names ${b.uri}`);
        if (b.prekeys.some((p) => entry.unused.has(p.id))) bad(`bundles of ${uri} repeat an id`);
        this.#index(entry, { b, hex: h as string, unused: 0 });
      }
      this.#users.set(uri, entry);
    }
  }

  /** Files a bundle's unused prekeys. */
  #index(u: UserPrekeys, held: HeldBundle): void {
    u.bundles.push(held);
    held.b.prekeys.forEach((p, index) => {
      if (u.used.has(p.id)) return;
      u.unused.set(p.id, { held, index });
      held.unused++;
    });
    u.order = undefined;
  }

  /** Moves `id` of `uri` from unused (if there) to used. */
  #markUsed(uri: string, id: number, expiry: number): void {
    let u = this.#users.get(uri);
    if (!u) this.#users.set(uri, (u = newUser()));
    const e = u.unused.get(id);
    if (e) {
      u.unused.delete(id);
      e.held.unused--;
    }
    u.used.add(id, expiry);
  }

  /** Forgets what expired at `nowMs`: unused prekeys, used ids, users left with nothing. */
  #prune(nowMs: number): void {
    for (const [uri, u] of this.#users) {
      for (const [id, e] of u.unused) {
        const exp = e.held.b.header.expiry;
        if (exp * 1000 > nowMs) continue;
        u.unused.delete(id);
        e.held.unused--;
        u.order = undefined;
        this.#forgotten = Math.max(this.#forgotten, exp);
      }
      this.#forgotten = Math.max(this.#forgotten, u.used.prune(nowMs / 1000));
      u.bundles = u.bundles.filter((h) => h.unused > 0);
      if (u.unused.size === 0 && u.used.ranges === 0) this.#users.delete(uri);
    }
  }

  /** Prunes, then (with a file) writes the snapshot and empties the journal. Serialised. */
  async #compact(nowMs: number): Promise<void> {
    this.#prune(nowMs);
    if (this.#path === undefined) return;
    const users: Record<string, { bundles: string[]; used: unknown[] }> = {};
    for (const [uri, u] of this.#users) users[uri] = { bundles: u.bundles.map((h) => h.hex), used: u.used.toJSON() };
    const text = JSON.stringify({ version: 3, forgotten: this.#forgotten, users }) + '\n';
    await replaceFileAtomic(this.#path, new TextEncoder().encode(text), 0o600);
    await this.#journal!.clear();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn, fn);
    this.#chain = p.catch(() => {});
    return p;
  }

  /**
   * Adds a bundle (record.ts octets) after checking it: format, Merkle root over its prekeys,
   * expiry, period, the signature by the bundle's user, and that no id was handed out or is
   * already stored. All or nothing (IBAKE_PREKEY_INVALID with its reason; IBAKE_BUSY past a cap).
   * Expired prekeys and ids are forgotten first (they do not count against the caps). Returns
   * the user and how many unused prekeys it now has.
   */
  add(verifier: PrekeyVerifier, bundle: Uint8Array, nowMs: number): Promise<{ uri: string; added: number; available: number }> {
    return this.#serial(async () => {
      const b = decodeBundle(bundle);
      const uri = b.uri;
      const n = b.prekeys.length;
      // prekeys that expired unused are dead weight: forget them so a full table of last
      // period's prekeys never blocks the user's new bundle
      this.#prune(nowMs);
      const u = this.#users.get(uri) ?? newUser();
      for (const p of b.prekeys) {
        if (u.used.has(p.id) || u.unused.has(p.id)) {
          throw new IbakeError('IBAKE_PREKEY_INVALID', `prekey id ${p.id} of ${uri} was already delivered`, { reason: 'reused-id' });
        }
      }
      if (b.header.expiry <= this.#forgotten) {
        // only possible if the clock went back: such a bundle's ids may have been forgotten
        throw new IbakeError('IBAKE_PREKEY_INVALID', `prekeys of ${uri} expire before ids this mailbox has forgotten`, { reason: 'expired' });
      }
      const max = this.#max;
      if (u.unused.size + n > max.perUser) throw new IbakeError('IBAKE_BUSY', `more than ${max.perUser} unused prekeys for ${uri}`);
      if (weight(u) + n > max.heldPerUser) {
        throw new IbakeError('IBAKE_BUSY', `${uri} would hold more than ${max.heldPerUser} prekeys and used-id ranges at this mailbox`);
      }
      let total = 0;
      for (const v of this.#users.values()) total += weight(v);
      if (total + n > max.total) throw new IbakeError('IBAKE_BUSY', `the mailbox would hold more than ${max.total} prekeys and used-id ranges in all`);
      checkTimes(uri, b.header, nowMs);
      await verifier.header(uri, headerBytesOf(b), b.signature, b.header);
      this.#index(u, { b, hex: Buffer.from(bundle).toString('hex'), unused: 0 });
      this.#users.set(uri, u);
      await this.#compact(nowMs);
      return { uri, added: n, available: u.unused.size };
    });
  }

  /**
   * One unused, unexpired prekey of `uri` (the lowest id) as a record for R_MESSAGE_1, marked
   * used (journaled, on disk) before it is returned; undefined when none is left. Expired ones
   * are dropped on the way.
   */
  take(uri: string, nowMs: number): Promise<PrekeyRecord | undefined> {
    return this.#serial(async () => {
      const u = this.#users.get(uri);
      if (!u) return undefined;
      if (!u.order) {
        u.order = [...u.unused.keys()].sort((a, b) => a - b);
        u.head = 0;
      }
      while (u.head < u.order.length) {
        const id = u.order[u.head++]!;
        const e = u.unused.get(id);
        if (!e) continue;
        const expiry = e.held.b.header.expiry;
        // used in memory first: should the journal write fail, the prekey is lost, not reused
        this.#markUsed(uri, id, expiry);
        if (expiry * 1000 <= nowMs) continue;
        if (this.#journal) {
          await this.#journal.append({ uri, id, expiry });
          if (this.#journal.lines >= this.#max.compactLines) void this.#serial(() => this.#compact(nowMs)).catch(() => {});
        }
        return recordOf(e.held.b, e.index);
      }
      return undefined;
    });
  }

  status(uri: string, nowMs: number): { uri: string; available: number; expired: number; used: number } {
    const u = this.#users.get(uri);
    let available = 0;
    let expired = 0;
    for (const { held } of u?.unused.values() ?? []) held.b.header.expiry * 1000 > nowMs ? available++ : expired++;
    return { uri, available, expired, used: u?.used.size ?? 0 };
  }

  /** Closes the journal (a take after it reopens it). */
  close(): Promise<void> {
    return this.#serial(async () => this.#journal?.close());
  }
}
