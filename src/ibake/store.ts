// The session table: one plain, serialisable state object per (CSB ID, peer identity), each
// with a deadline. Bounded (security.md A13, top-10 #7):
//   * half-open states (offers, exchanges not yet established): at most `maxHalfOpenPerPeer`
//     per peer identity — a new one evicts that peer's oldest half-open state — and a table
//     full of half-open states fails closed with IBAKE_BUSY;
//   * established states are kept in least-recently-used order; when the table is full the
//     least recently used established state is evicted (the app already holds its keys: only
//     the ability to re-key that one is lost) rather than refusing a new call.
// A lookup of an entry past its deadline wipes and removes it and reports IBAKE_EXPIRED; other
// sessions are never touched by a failure in one. Every removal goes through onRemove (wipe).
import { IbakeError } from './errors.js';

export interface StoredState {
  /** 32-bit CSB ID. */
  csbId: number;
  /** The peer's identity URI (the key's second half). */
  peer: string;
  /** Unix ms after which the state is dead. */
  deadline: number;
  /** 'established' once keys are released; anything else (or absent) is half-open. */
  state?: string;
}

export interface SessionStoreOptions {
  maxSessions?: number;
  /** Half-open states per peer identity (default 16). */
  maxHalfOpenPerPeer?: number;
  now?: () => number;
  /** Called with every state removed (expired, evicted or deleted) so secrets can be wiped. */
  onRemove?: (s: StoredState) => void;
}

/** The table's key of (CSB ID, peer): decimal, one number-to-string and one concatenation (a
 *  zero-padded hex form cost four times as much per lookup, and a call makes a few dozen). */
export function sessionKey(csbId: number, peer: string): string {
  return `${csbId >>> 0} ${peer}`;
}

const established = (s: StoredState) => s.state === 'established';

export class SessionStore<S extends StoredState> {
  readonly maxSessions: number;
  readonly maxHalfOpenPerPeer: number;
  private readonly now: () => number;
  private readonly onRemove: (s: StoredState) => void;
  /** Insertion order = least recently used first (touch() moves an entry to the end). */
  private readonly map = new Map<string, S>();
  /** Half-open keys per peer, oldest first. */
  private readonly halfOpen = new Map<string, Set<string>>();
  /** Keys per CSB ID (forking: one per answering device), so byCsb never scans the table. */
  private readonly csbKeys = new Map<number, Set<string>>();
  /** Established states evicted to make room (a metric for the daemon). */
  evicted = 0;

  constructor(opts: SessionStoreOptions = {}) {
    this.maxSessions = opts.maxSessions ?? 4096;
    this.maxHalfOpenPerPeer = opts.maxHalfOpenPerPeer ?? 16;
    this.now = opts.now ?? Date.now;
    this.onRemove = opts.onRemove ?? (() => undefined);
    for (const [k, v] of [['maxSessions', this.maxSessions], ['maxHalfOpenPerPeer', this.maxHalfOpenPerPeer]] as const) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new IbakeError('IBAKE_BAD_INPUT', `${k} must be a positive integer`);
    }
  }

  get size(): number {
    return this.map.size;
  }

  /** Inserts or replaces a state (making room as the header says). */
  put(s: S): void {
    const k = sessionKey(s.csbId, s.peer);
    const old = this.map.get(k);
    if (old && old !== s) this.remove(k, old);
    else if (old) this.unlink(k, old);
    if (!established(s)) {
      const mine = this.halfOpen.get(s.peer);
      if (mine && mine.size >= this.maxHalfOpenPerPeer) {
        const oldest = mine.values().next().value as string;
        this.remove(oldest, this.map.get(oldest)!);
      }
    }
    if (this.map.size >= this.maxSessions) this.makeRoom();
    this.link(k, s);
  }

  /** Marks `s` as just used (and re-files it after a change of state: half-open -> established). */
  touch(s: S): void {
    const k = sessionKey(s.csbId, s.peer);
    if (this.map.get(k) !== s) return;
    this.unlink(k, s);
    this.link(k, s);
  }

  /** The live state, IBAKE_EXPIRED (and removal) if past its deadline, IBAKE_NO_SESSION if absent. */
  get(csbId: number, peer: string): S {
    const k = sessionKey(csbId, peer);
    const s = this.map.get(k);
    if (!s) throw new IbakeError('IBAKE_NO_SESSION', 'no session for this CSB ID and peer');
    if (s.deadline < this.now()) {
      this.remove(k, s);
      throw new IbakeError('IBAKE_EXPIRED', 'session expired');
    }
    return s;
  }

  /** Like get() but undefined when absent or expired (expired ones are removed). */
  find(csbId: number, peer: string): S | undefined {
    try {
      return this.get(csbId, peer);
    } catch (e) {
      if (e instanceof IbakeError) return undefined;
      throw e;
    }
  }

  /** The state held for (CSB ID, peer), expired or not, without touching the table. */
  peek(csbId: number, peer: string): S | undefined {
    return this.map.get(sessionKey(csbId, peer));
  }

  has(csbId: number, peer: string): boolean {
    return this.map.has(sessionKey(csbId, peer));
  }

  /** Half-open states of `peer` now held. */
  halfOpenOf(peer: string): number {
    return this.halfOpen.get(peer)?.size ?? 0;
  }

  /** Every live state with this CSB ID (forking: one per answering device). */
  byCsb(csbId: number): S[] {
    const now = this.now();
    const out: S[] = [];
    for (const k of this.csbKeys.get(csbId >>> 0) ?? []) {
      const s = this.map.get(k)!;
      if (s.deadline >= now) out.push(s);
    }
    return out;
  }

  delete(csbId: number, peer: string): void {
    const k = sessionKey(csbId, peer);
    const s = this.map.get(k);
    if (s) this.remove(k, s);
  }

  /** Removes every state past its deadline; returns how many. */
  expire(): number {
    const now = this.now();
    let n = 0;
    for (const [k, s] of this.map) {
      if (s.deadline < now) {
        this.remove(k, s);
        n++;
      }
    }
    return n;
  }

  /** Snapshot for persistence / IPC (the states are plain objects). */
  values(): S[] {
    return [...this.map.values()];
  }

  /** Full table: drop the dead, else the least recently used established state, else IBAKE_BUSY. */
  private makeRoom(): void {
    if (this.expire() > 0) return;
    for (const [k, s] of this.map) {
      if (established(s)) {
        this.remove(k, s);
        this.evicted++;
        return;
      }
    }
    throw new IbakeError('IBAKE_BUSY', 'session table full of half-open exchanges');
  }

  private link(k: string, s: S): void {
    this.map.set(k, s);
    const c = s.csbId >>> 0;
    let same = this.csbKeys.get(c);
    if (!same) this.csbKeys.set(c, (same = new Set()));
    same.add(k);
    if (established(s)) return;
    let mine = this.halfOpen.get(s.peer);
    if (!mine) this.halfOpen.set(s.peer, (mine = new Set()));
    mine.add(k);
  }

  private unlink(k: string, s: S): void {
    this.map.delete(k);
    const c = s.csbId >>> 0;
    const same = this.csbKeys.get(c);
    if (same?.delete(k) && same.size === 0) this.csbKeys.delete(c);
    const mine = this.halfOpen.get(s.peer);
    if (mine?.delete(k) && mine.size === 0) this.halfOpen.delete(s.peer);
  }

  private remove(k: string, s: S): void {
    this.unlink(k, s);
    this.onRemove(s);
  }
}
