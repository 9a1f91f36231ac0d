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

const established = (s: StoredState) => s.state === 'established';

export class SessionStore<S extends StoredState> {
  readonly maxSessions: number;
  readonly maxHalfOpenPerPeer: number;
  private readonly now: () => number;
  private readonly onRemove: (s: StoredState) => void;
  /** CSB ID -> peer -> state: numbers, then the peer's string, so no key is built per lookup
   *  (a string key formatted per lookup cost about a microsecond in a call's few dozen). */
  private readonly byId = new Map<number, Map<string, S>>();
  /** Every state, least recently used first (touch() moves one to the end). */
  private readonly order = new Set<S>();
  /** Half-open states per peer, oldest first. */
  private readonly halfOpen = new Map<string, Set<S>>();
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
    return this.order.size;
  }

  /** Inserts or replaces a state (making room as the header says). */
  put(s: S): void {
    const old = this.lookup(s.csbId, s.peer);
    if (old && old !== s) this.remove(old);
    else if (old) this.unlink(old);
    if (!established(s)) {
      const mine = this.halfOpen.get(s.peer);
      if (mine && mine.size >= this.maxHalfOpenPerPeer) this.remove(mine.values().next().value as S);
    }
    if (this.order.size >= this.maxSessions) this.makeRoom();
    this.link(s);
  }

  /** Marks `s` as just used (and re-files it after a change of state: half-open -> established). */
  touch(s: S): void {
    if (this.lookup(s.csbId, s.peer) !== s) return;
    this.order.delete(s);
    this.order.add(s);
    this.dropHalfOpen(s);
    if (!established(s)) this.halfOpenOfPeer(s.peer).add(s);
  }

  /** The live state, IBAKE_EXPIRED (and removal) if past its deadline, IBAKE_NO_SESSION if absent. */
  get(csbId: number, peer: string): S {
    const s = this.lookup(csbId, peer);
    if (!s) throw new IbakeError('IBAKE_NO_SESSION', 'no session for this CSB ID and peer');
    if (s.deadline < this.now()) {
      this.remove(s);
      throw new IbakeError('IBAKE_EXPIRED', 'session expired');
    }
    return s;
  }

  /** Like get() but undefined when absent or expired (expired ones are removed). */
  find(csbId: number, peer: string): S | undefined {
    const s = this.lookup(csbId, peer);
    if (!s) return undefined;
    if (s.deadline < this.now()) {
      this.remove(s);
      return undefined;
    }
    return s;
  }

  /** The state held for (CSB ID, peer), expired or not, without touching the table. */
  peek(csbId: number, peer: string): S | undefined {
    return this.lookup(csbId, peer);
  }

  has(csbId: number, peer: string): boolean {
    return this.lookup(csbId, peer) !== undefined;
  }

  /** Half-open states of `peer` now held. */
  halfOpenOf(peer: string): number {
    return this.halfOpen.get(peer)?.size ?? 0;
  }

  /** Every live state with this CSB ID (forking: one per answering device). */
  byCsb(csbId: number): S[] {
    const same = this.byId.get(csbId >>> 0);
    if (!same) return [];
    const now = this.now();
    const out: S[] = [];
    for (const s of same.values()) if (s.deadline >= now) out.push(s);
    return out;
  }

  delete(csbId: number, peer: string): void {
    const s = this.lookup(csbId, peer);
    if (s) this.remove(s);
  }

  /** Removes every state past its deadline; returns how many. */
  expire(): number {
    const now = this.now();
    let n = 0;
    for (const s of this.order) {
      if (s.deadline < now) {
        this.remove(s);
        n++;
      }
    }
    return n;
  }

  /** Snapshot for persistence / IPC (the states are plain objects). */
  values(): S[] {
    return [...this.order];
  }

  /** Full table: drop the dead, else the least recently used established state, else IBAKE_BUSY. */
  private makeRoom(): void {
    if (this.expire() > 0) return;
    for (const s of this.order) {
      if (established(s)) {
        this.remove(s);
        this.evicted++;
        return;
      }
    }
    throw new IbakeError('IBAKE_BUSY', 'session table full of half-open exchanges');
  }

  private lookup(csbId: number, peer: string): S | undefined {
    return this.byId.get(csbId >>> 0)?.get(peer);
  }

  private halfOpenOfPeer(peer: string): Set<S> {
    let mine = this.halfOpen.get(peer);
    if (!mine) this.halfOpen.set(peer, (mine = new Set()));
    return mine;
  }

  private link(s: S): void {
    const c = s.csbId >>> 0;
    let same = this.byId.get(c);
    if (!same) this.byId.set(c, (same = new Map()));
    same.set(s.peer, s);
    this.order.add(s);
    if (!established(s)) this.halfOpenOfPeer(s.peer).add(s);
  }

  private unlink(s: S): void {
    const c = s.csbId >>> 0;
    const same = this.byId.get(c);
    if (same?.delete(s.peer) && same.size === 0) this.byId.delete(c);
    this.order.delete(s);
    this.dropHalfOpen(s);
  }

  private dropHalfOpen(s: S): void {
    const mine = this.halfOpen.get(s.peer);
    if (mine?.delete(s) && mine.size === 0) this.halfOpen.delete(s.peer);
  }

  private remove(s: S): void {
    this.unlink(s);
    this.onRemove(s);
  }
}
