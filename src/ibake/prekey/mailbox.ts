// The mailbox's prekey table (deferred delivery v2, DESIGN §3): per user URI, the signed
// prekey records its bundles delivered (public values only: no private half ever reaches the
// mailbox) and the ids already handed out. `add` checks every record's signature against the
// bundle's user before storing anything (all or nothing); an id that was handed out (or is
// already stored) is refused a second time. `take` hands one unused, unexpired record to an
// initiator (inside R_MESSAGE_1) and marks its id used before returning it. Optional file
// (JSON, written atomically, 0600) so used ids survive a restart: a prekey must never be
// handed out twice.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { IbakeError } from '../errors.js';
import type { IbsPort } from '../ibs-port.js';
import { replaceFileAtomic } from '../../util/atomic-file.js';
import { checkRecord, decodeBundle, decodeRecord, encodeRecord, type PrekeyRecord } from './record.js';

/** Most unused prekeys held per user. */
export const MAX_PER_USER = 10_000;

interface UserPrekeys {
  /** Unused records by id. */
  records: Map<number, PrekeyRecord>;
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
    let j: { version?: unknown; users?: Record<string, { records?: unknown; used?: unknown }> };
    try {
      j = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      return bad('not JSON');
    }
    if (j.version !== 1 || typeof j.users !== 'object' || j.users === null) bad('expected {"version":1,"users":{…}}');
    for (const [uri, u] of Object.entries(j.users!)) {
      if (!Array.isArray(u.records) || !Array.isArray(u.used)) bad(`entry ${uri}`);
      const used = new Set<number>();
      for (const id of u.used as unknown[]) {
        if (!Number.isInteger(id) || (id as number) < 1 || (id as number) > 0xffffffff) bad(`used id of ${uri}`);
        used.add(id as number);
      }
      const records = new Map<number, PrekeyRecord>();
      for (const h of u.records as unknown[]) {
        if (typeof h !== 'string' || !/^[0-9a-f]+$/.test(h)) bad(`record of ${uri}`);
        let r: PrekeyRecord;
        try {
          r = decodeRecord(new Uint8Array(Buffer.from(h as string, 'hex')));
        } catch {
          return bad(`record of ${uri}`);
        }
        if (used.has(r.id) || records.has(r.id)) bad(`record ${r.id} of ${uri} is also used`);
        records.set(r.id, r);
      }
      this.#users.set(uri, { records, used });
    }
  }

  async #save(): Promise<void> {
    if (this.#path === undefined) return;
    const users: Record<string, { records: string[]; used: number[] }> = {};
    for (const [uri, u] of this.#users) {
      users[uri] = { records: [...u.records.values()].map((r) => Buffer.from(encodeRecord(r)).toString('hex')), used: [...u.used].sort((a, b) => a - b) };
    }
    await replaceFileAtomic(this.#path, new TextEncoder().encode(JSON.stringify({ version: 1, users }) + '\n'), 0o600);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn, fn);
    this.#chain = p.catch(() => {});
    return p;
  }

  /**
   * Adds a bundle (record.ts octets) after checking every record: format, expiry, period,
   * signature by the bundle's user, and that no id was handed out or is already stored.
   * All or nothing: the first failing record rejects the bundle (IBAKE_PREKEY_INVALID with its
   * reason). Returns the user and how many unused prekeys it now has.
   */
  add(ibs: IbsPort, bundle: Uint8Array, nowMs: number): Promise<{ uri: string; added: number; available: number }> {
    return this.#serial(async () => {
      const { uri, records } = decodeBundle(bundle);
      const u = this.#users.get(uri) ?? { records: new Map<number, PrekeyRecord>(), used: new Set<number>() };
      for (const r of records) {
        if (u.used.has(r.id) || u.records.has(r.id)) {
          throw new IbakeError('IBAKE_PREKEY_INVALID', `prekey id ${r.id} of ${uri} was already delivered`, { reason: 'reused-id' });
        }
      }
      if (u.records.size + records.length > MAX_PER_USER) throw new IbakeError('IBAKE_BUSY', `more than ${MAX_PER_USER} unused prekeys for ${uri}`);
      const verdicts = await Promise.allSettled(records.map((r) => checkRecord(ibs, uri, r, nowMs)));
      const failed = verdicts.find((v): v is PromiseRejectedResult => v.status === 'rejected');
      if (failed) throw failed.reason;
      for (const r of records) u.records.set(r.id, r);
      this.#users.set(uri, u);
      await this.#save();
      return { uri, added: records.length, available: u.records.size };
    });
  }

  /**
   * One unused, unexpired prekey of `uri` (the lowest id), marked used (and saved) before it
   * is returned; undefined when none is left. Expired records are dropped on the way.
   */
  take(uri: string, nowMs: number): Promise<PrekeyRecord | undefined> {
    return this.#serial(async () => {
      const u = this.#users.get(uri);
      if (!u) return undefined;
      const ids = [...u.records.keys()].sort((a, b) => a - b);
      let dropped = false;
      for (const id of ids) {
        const r = u.records.get(id)!;
        u.records.delete(id);
        u.used.add(id);
        if (r.expiry * 1000 <= nowMs) {
          dropped = true;
          continue;
        }
        await this.#save();
        return r;
      }
      if (dropped) await this.#save();
      return undefined;
    });
  }

  status(uri: string, nowMs: number): { uri: string; available: number; expired: number; used: number } {
    const u = this.#users.get(uri);
    let available = 0;
    let expired = 0;
    for (const r of u?.records.values() ?? []) r.expiry * 1000 > nowMs ? available++ : expired++;
    return { uri, available, expired, used: u?.used.size ?? 0 };
  }
}
