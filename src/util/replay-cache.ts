// Replay cache of authenticated MIKEY messages (RFC 3830 §5.4) — the KMS's key requests, and
// usable by any layer that checks T + RAND: remembers a digest of every accepted message until
// its timestamp falls out of the clock-skew window, after which the T check alone rejects it. Bounded: when full of unexpired entries it refuses new ones (the
// caller answers "overloaded"); it never evicts an unexpired entry, which would reopen replay.
import { hash } from 'node:crypto';

export interface ReplayCacheOptions {
  /** Most entries held (default 100 000). */
  maxEntries?: number;
  now?: () => number;
}

export type ReplayVerdict = 'fresh' | 'replay' | 'full';

export class ReplayCache {
  readonly #max: number;
  readonly #now: () => number;
  /** digest -> expiry time (ms). Insertion order is roughly expiry order; we sweep all anyway. */
  readonly #seen = new Map<string, number>();

  constructor(opts: ReplayCacheOptions = {}) {
    this.#max = opts.maxEntries ?? 100_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Digest of the fields that make a message unique (e.g. user, CSB ID, T, RAND), length-prefixed. */
  static key(parts: readonly Uint8Array[]): string {
    let n = 0;
    for (const p of parts) n += 4 + p.length;
    const buf = Buffer.allocUnsafe(n);
    let o = 0;
    for (const p of parts) {
      o = buf.writeUInt32BE(p.length, o);
      buf.set(p, o);
      o += p.length;
    }
    return hash('sha256', buf, 'base64'); // one shot: about a third of createHash/update/digest
  }

  #sweep(t: number): void {
    for (const [k, exp] of this.#seen) if (exp <= t) this.#seen.delete(k);
  }

  /**
   * Records `key` as seen until `expiresAt` (ms). Returns 'replay' if it is already there,
   * 'full' if the cache cannot take it, else 'fresh'.
   */
  checkAndAdd(key: string, expiresAt: number): ReplayVerdict {
    const t = this.#now();
    const exp = this.#seen.get(key);
    if (exp !== undefined && exp > t) return 'replay';
    if (this.#seen.size >= this.#max) this.#sweep(t);
    if (this.#seen.size >= this.#max) return 'full';
    this.#seen.set(key, expiresAt);
    return 'fresh';
  }

  get size(): number {
    return this.#seen.size;
  }
}
