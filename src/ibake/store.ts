// The session table: one plain, serialisable state object per (CSB ID, peer identity), each
// with a deadline. Bounded (half-open sessions are a DoS target, security.md §3.1): a full
// table first drops expired entries and then fails closed with IBAKE_BUSY. A lookup of an
// entry past its deadline wipes and removes it and reports IBAKE_EXPIRED; other sessions are
// never touched by a failure in one.
import { IbakeError } from './errors.js';

export interface StoredState {
  /** 32-bit CSB ID. */
  csbId: number;
  /** The peer's identity URI (the key's second half). */
  peer: string;
  /** Unix ms after which the state is dead. */
  deadline: number;
}

export interface SessionStoreOptions {
  maxSessions?: number;
  now?: () => number;
  /** Called with every state removed (expired, evicted or deleted) so secrets can be wiped. */
  onRemove?: (s: StoredState) => void;
}

export function sessionKey(csbId: number, peer: string): string {
  return `${(csbId >>> 0).toString(16).padStart(8, '0')} ${peer}`;
}

export class SessionStore<S extends StoredState> {
  readonly maxSessions: number;
  private readonly now: () => number;
  private readonly onRemove: (s: StoredState) => void;
  private readonly map = new Map<string, S>();

  constructor(opts: SessionStoreOptions = {}) {
    this.maxSessions = opts.maxSessions ?? 4096;
    this.now = opts.now ?? Date.now;
    this.onRemove = opts.onRemove ?? (() => undefined);
    if (!(this.maxSessions > 0)) throw new IbakeError('IBAKE_BAD_INPUT', 'maxSessions must be positive');
  }

  get size(): number {
    return this.map.size;
  }

  /** Inserts or replaces a state. */
  put(s: S): void {
    const k = sessionKey(s.csbId, s.peer);
    if (!this.map.has(k) && this.map.size >= this.maxSessions) {
      this.expire();
      if (this.map.size >= this.maxSessions) throw new IbakeError('IBAKE_BUSY', 'session table full');
    }
    this.map.set(k, s);
  }

  /** The live state, IBAKE_EXPIRED (and removal) if past its deadline, IBAKE_NO_SESSION if absent. */
  get(csbId: number, peer: string): S {
    const k = sessionKey(csbId, peer);
    const s = this.map.get(k);
    if (!s) throw new IbakeError('IBAKE_NO_SESSION', 'no session for this CSB ID and peer');
    if (s.deadline < this.now()) {
      this.map.delete(k);
      this.onRemove(s);
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

  has(csbId: number, peer: string): boolean {
    return this.map.has(sessionKey(csbId, peer));
  }

  /** Every live state with this CSB ID (forking: one per answering device). */
  byCsb(csbId: number): S[] {
    const now = this.now();
    const prefix = sessionKey(csbId, '');
    const out: S[] = [];
    for (const [k, s] of this.map) if (k.startsWith(prefix) && s.deadline >= now) out.push(s);
    return out;
  }

  delete(csbId: number, peer: string): void {
    const k = sessionKey(csbId, peer);
    const s = this.map.get(k);
    if (s) {
      this.map.delete(k);
      this.onRemove(s);
    }
  }

  /** Removes every state past its deadline; returns how many. */
  expire(): number {
    const now = this.now();
    let n = 0;
    for (const [k, s] of this.map) {
      if (s.deadline < now) {
        this.map.delete(k);
        this.onRemove(s);
        n++;
      }
    }
    return n;
  }

  /** Snapshot for persistence / IPC (the states are plain objects). */
  values(): S[] {
    return [...this.map.values()];
  }
}
