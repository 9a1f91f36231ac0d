// The user's one-time prekey store (deferred delivery v2, DESIGN §3): for each local identity,
// P-256 key pairs made from the OS CSPRNG, signed as a bundle (record.ts: one Cha–Cheon
// signature over the Merkle root) with the identity's signing key, kept with their private
// halves in one file written
// atomically with mode 0600. `take` hands a private half out once and deletes it from memory
// and from the file before returning (forward secrecy: after B has opened a deferred message,
// the prekey secret that protected it exists nowhere). Ids are never reused (a per-identity
// counter that only grows). A corrupt or group/world-readable file refuses to open; it is
// never regenerated silently.
//
// File (binary): "IBPS" ‖ 0x02 ‖ n_ids (u16) ‖ n_ids × [ len16(URI) ‖ URI ‖ next id (u32) ‖
//                count (u32) ‖ count × (id (u32) ‖ period (10) ‖ expiry (u64) ‖ public key (65) ‖
//                private key (32)) ]
import { existsSync, readFileSync, statSync } from 'node:fs';
import { generateEphemeral } from '../ecdh.js';
import { IbakeError } from '../errors.js';
import type { IbsPort } from '../ibs-port.js';
import { replaceFileAtomic } from '../../util/atomic-file.js';
import { validateUri } from '../../ibe/index.js';
import { encodeBundle, MAX_BUNDLE, signBundle } from './record.js';
import { checkP256Point } from '../ecdh.js';
import { MAX_PER_USER } from './mailbox.js';

/**
 * Most prekeys held per identity (private halves, in memory and in the file, which is rewritten
 * whole on every generate and take): a mailbox keeps at most this many unused prekeys of a user
 * (mailbox.ts), so more would only grow the store. Past it, generate is IBAKE_BUSY.
 */
export const MAX_HELD_PER_IDENTITY = MAX_PER_USER;

const MAGIC = new TextEncoder().encode('IBPS');
const ENTRY_BYTES = 4 + 10 + 8 + 65 + 32;
const FILE_VERSION = 2;

/** A stored prekey's public part. */
export interface StoredPrekey {
  id: number;
  period: string;
  expiry: number;
  publicKey: Uint8Array;
}
interface Entry {
  record: StoredPrekey;
  secret: Uint8Array;
}

function encodeEntry(e: Entry): Uint8Array {
  const out = new Uint8Array(ENTRY_BYTES);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, e.record.id);
  out.set(new TextEncoder().encode(e.record.period), 4);
  dv.setBigUint64(14, BigInt(e.record.expiry));
  out.set(e.record.publicKey, 22);
  out.set(e.secret, 87);
  return out;
}

function decodeEntry(b: Uint8Array): Entry | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const record = { id: dv.getUint32(0), period: new TextDecoder('ascii').decode(b.subarray(4, 14)), expiry: Number(dv.getBigUint64(14)), publicKey: b.slice(22, 87) };
  if (record.id < 1 || !/^\d{4}-\d{2}-\d{2}$/.test(record.period) || !Number.isSafeInteger(record.expiry) || checkP256Point(record.publicKey) !== undefined) return undefined;
  return { record, secret: b.slice(87, ENTRY_BYTES) };
}
interface IdentityPrekeys {
  nextId: number;
  entries: Map<number, Entry>;
}

export interface PrekeyStatus {
  uri: string;
  /** Unused prekeys whose expiry is still ahead. */
  available: number;
  /** Unused prekeys past their expiry (purged by the next generate or purge). */
  expired: number;
  /** The id the next generated prekey will get. */
  nextId: number;
}

function corrupt(path: string, why: string): never {
  throw new IbakeError('IBAKE_BAD_INPUT', `prekey store ${path} is corrupt (${why}); refusing to use it`);
}

export class PrekeyStore {
  readonly #path: string | undefined;
  readonly #ids = new Map<string, IdentityPrekeys>();
  readonly #now: () => number;
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(path: string | undefined, now: () => number) {
    this.#path = path;
    this.#now = now;
  }

  /** A store in memory only (`ibake call`'s throw-away parties, benches): nothing persists. */
  static memory(opts: { now?: () => number } = {}): PrekeyStore {
    return new PrekeyStore(undefined, opts.now ?? Date.now);
  }

  /** Opens the store at `path` (created on the first save). */
  static open(path: string, opts: { now?: () => number } = {}): PrekeyStore {
    const s = new PrekeyStore(path, opts.now ?? Date.now);
    if (existsSync(path)) s.#load();
    return s;
  }

  #load(): void {
    const path = this.#path;
    if (path === undefined) return;
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0) corrupt(path, `mode ${(st.mode & 0o777).toString(8)}, must be 0600`);
    const b = new Uint8Array(readFileSync(path));
    try {
      if (b.length < 7 || !MAGIC.every((x, i) => b[i] === x) || b[4] !== FILE_VERSION) corrupt(path, 'not an IBPS v2 file');
      const dv = new DataView(b.buffer, b.byteOffset, b.length);
      let at = 7;
      const need = (n: number) => {
        if (at + n > b.length) corrupt(path, 'truncated');
      };
      for (let i = dv.getUint16(5); i > 0; i--) {
        need(2);
        const ul = dv.getUint16(at);
        need(2 + ul + 8);
        const uri = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(at + 2, at + 2 + ul));
        at += 2 + ul;
        const nextId = dv.getUint32(at);
        const count = dv.getUint32(at + 4);
        at += 8;
        need(count * ENTRY_BYTES);
        const entries = new Map<number, Entry>();
        for (let j = 0; j < count; j++, at += ENTRY_BYTES) {
          const e = decodeEntry(b.subarray(at, at + ENTRY_BYTES));
          if (!e) corrupt(path, 'bad prekey entry');
          if (e.record.id >= nextId || entries.has(e.record.id)) corrupt(path, 'prekey ids out of order');
          entries.set(e.record.id, e);
        }
        if (this.#ids.has(uri) || nextId < 1) corrupt(path, 'identity table');
        this.#ids.set(uri, { nextId, entries });
      }
      if (at !== b.length) corrupt(path, 'trailing octets');
    } catch (e) {
      for (const v of this.#ids.values()) for (const e2 of v.entries.values()) e2.secret.fill(0);
      this.#ids.clear();
      if (e instanceof IbakeError && e.code === 'IBAKE_BAD_INPUT') throw e;
      corrupt(path, (e as Error).message);
    } finally {
      b.fill(0);
    }
  }

  /** Serialises every identity (private halves included), writes atomically (0600), wipes the buffer. */
  async #save(): Promise<void> {
    if (this.#path === undefined) return;
    const enc = new TextEncoder();
    const parts: Uint8Array[] = [MAGIC, Uint8Array.of(FILE_VERSION, this.#ids.size >> 8, this.#ids.size & 0xff)];
    for (const [uri, v] of this.#ids) {
      const u = enc.encode(uri);
      const h = new Uint8Array(2 + u.length + 8);
      const dv = new DataView(h.buffer);
      dv.setUint16(0, u.length);
      h.set(u, 2);
      dv.setUint32(2 + u.length, v.nextId);
      dv.setUint32(6 + u.length, v.entries.size);
      parts.push(h);
      for (const e of v.entries.values()) parts.push(encodeEntry(e));
    }
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    try {
      await replaceFileAtomic(this.#path, out, 0o600);
    } finally {
      out.fill(0);
      for (const p of parts) if (p.length === ENTRY_BYTES) p.fill(0);
    }
  }

  /** Runs store mutations one at a time (each ends with its file write). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn, fn);
    this.#chain = p.catch(() => {});
    return p;
  }

  /**
   * Makes `count` (1..MAX_BUNDLE) new prekeys for `uri`, signed with its signing key for
   * `period` and valid until `expiryS` (seconds since 1970), stores them with their private
   * halves (file written before anything is returned), purges expired ones, and returns the
   * bundle octets (public values only) for the user's mailbox. IBAKE_BUSY if `uri` would then
   * hold more than MAX_HELD_PER_IDENTITY prekeys.
   */
  generate(ibs: IbsPort, uri: string, count: number, period: string, expiryS: number): Promise<Uint8Array> {
    return this.#serial(async () => {
      validateUri(uri);
      if (!Number.isInteger(count) || count < 1 || count > MAX_BUNDLE) throw new IbakeError('IBAKE_BAD_INPUT', `count must be 1..${MAX_BUNDLE}`);
      if (!Number.isSafeInteger(expiryS) || expiryS * 1000 <= this.#now()) throw new IbakeError('IBAKE_BAD_INPUT', 'expiry must be in the future');
      this.#purgeExpired();
      const v = this.#ids.get(uri) ?? { nextId: 1, entries: new Map<number, Entry>() };
      if (v.entries.size + count > MAX_HELD_PER_IDENTITY) {
        throw new IbakeError('IBAKE_BUSY', `${uri} would hold more than ${MAX_HELD_PER_IDENTITY} unused prekeys (it holds ${v.entries.size}; let the mailbox use them, or wait for them to expire)`);
      }
      if (v.nextId + count > 0xffffffff) throw new IbakeError('IBAKE_BAD_INPUT', 'prekey ids exhausted for this identity');
      const fresh: Entry[] = [];
      for (let i = 0; i < count; i++) {
        const k = generateEphemeral();
        fresh.push({ secret: k.secret, record: { id: v.nextId + i, period, expiry: expiryS, publicKey: k.publicPoint } });
      }
      let bundle;
      try {
        bundle = await signBundle(ibs, uri, period, expiryS, fresh.map((f) => f.record));
      } catch (e) {
        for (const f of fresh) f.secret.fill(0);
        throw e;
      }
      v.nextId += count;
      for (const f of fresh) v.entries.set(f.record.id, f);
      this.#ids.set(uri, v);
      await this.#save();
      return encodeBundle(bundle);
    });
  }

  #purgeExpired(): number {
    const nowS = this.#now() / 1000;
    let n = 0;
    for (const v of this.#ids.values()) {
      for (const [id, e] of v.entries) {
        if (e.record.expiry <= nowS) {
          e.secret.fill(0);
          v.entries.delete(id);
          n++;
        }
      }
    }
    return n;
  }

  /** Deletes expired prekeys (private halves wiped, file rewritten); returns how many. */
  purge(): Promise<number> {
    return this.#serial(async () => {
      const n = this.#purgeExpired();
      if (n > 0) await this.#save();
      return n;
    });
  }

  status(uri?: string): PrekeyStatus[] {
    const nowS = this.#now() / 1000;
    const out: PrekeyStatus[] = [];
    for (const [u, v] of this.#ids) {
      if (uri !== undefined && u !== uri) continue;
      let available = 0;
      let expired = 0;
      for (const e of v.entries.values()) e.record.expiry > nowS ? available++ : expired++;
      out.push({ uri: u, available, expired, nextId: v.nextId });
    }
    return out;
  }

  /** True if the private half of (uri, id) is still held. */
  holds(uri: string, id: number): boolean {
    return this.#ids.get(uri)?.entries.has(id) ?? false;
  }

  /** The stored public part of (uri, id), if held. */
  record(uri: string, id: number): StoredPrekey | undefined {
    return this.#ids.get(uri)?.entries.get(id)?.record;
  }

  /**
   * Hands out the private half of prekey (uri, id) exactly once: removes it, rewrites the file
   * without it, then returns a copy (the caller wipes it after use). Unknown or already used:
   * IBAKE_NO_PREKEY. An expired prekey is still handed out (a stored message may be opened
   * after its prekey's expiry; expiry limits when an initiator may use it).
   */
  take(uri: string, id: number): Promise<{ secret: Uint8Array; record: StoredPrekey }> {
    return this.#serial(async () => {
      const v = this.#ids.get(uri);
      const e = v?.entries.get(id);
      if (!v || !e) throw new IbakeError('IBAKE_NO_PREKEY', `no stored prekey ${id} for ${uri} (never made, or already used)`);
      v.entries.delete(id);
      try {
        await this.#save();
      } catch (err) {
        v.entries.set(id, e); // the file still holds it: keep memory and file in step
        throw err;
      }
      const secret = e.secret.slice();
      e.secret.fill(0);
      return { secret, record: e.record };
    });
  }

  /** Wipes every private half held in memory. */
  close(): void {
    for (const v of this.#ids.values()) for (const e of v.entries.values()) e.secret.fill(0);
    this.#ids.clear();
  }
}
