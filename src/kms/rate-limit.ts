// Token-bucket rate limiter keyed by a string (a user's PSK name, a client address). Each key
// gets `burst` tokens that refill at `perSecond`; a request takes one. The table is bounded:
// full buckets are forgotten (a full bucket equals no bucket), and when the table is full of
// active buckets new keys are refused (fail closed) rather than evicting someone's state.
// The clock is injectable so tests need no real waiting.
import { KmsError } from './errors.js';

export interface RateLimitOptions {
  /** Bucket size: requests allowed back to back. */
  burst: number;
  /** Refill rate, tokens per second (may be fractional). */
  perSecond: number;
  /** Most keys tracked at once (default 100 000). */
  maxKeys?: number;
  /** Milliseconds clock (default Date.now). */
  now?: () => number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBucketLimiter {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: RateLimitOptions) {
    const { burst, perSecond } = opts;
    if (!Number.isFinite(burst) || burst < 1) throw new KmsError('KMS_CONFIG', 'rate limit burst must be >= 1');
    if (!Number.isFinite(perSecond) || perSecond <= 0) throw new KmsError('KMS_CONFIG', 'rate limit perSecond must be > 0');
    const maxKeys = opts.maxKeys ?? 100_000;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new KmsError('KMS_CONFIG', 'rate limit maxKeys must be a positive integer');
    this.#burst = burst;
    this.#perMs = perSecond / 1000;
    this.#maxKeys = maxKeys;
    this.#now = opts.now ?? Date.now;
  }

  #level(b: Bucket, t: number): number {
    return Math.min(this.#burst, b.tokens + Math.max(0, t - b.at) * this.#perMs);
  }

  /** Forgets buckets that have refilled completely. */
  #prune(t: number): void {
    for (const [k, b] of this.#buckets) if (this.#level(b, t) >= this.#burst) this.#buckets.delete(k);
  }

  /** Takes one token for `key`. */
  take(key: string): TakeResult {
    const t = this.#now();
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.#maxKeys) this.#prune(t);
      if (this.#buckets.size >= this.#maxKeys) return { ok: false, retryAfterMs: Math.ceil(1 / this.#perMs) };
      b = { tokens: this.#burst, at: t };
      this.#buckets.set(key, b);
    }
    const level = this.#level(b, t);
    if (level >= 1) {
      b.tokens = level - 1;
      b.at = t;
      return { ok: true };
    }
    b.tokens = level;
    b.at = t;
    return { ok: false, retryAfterMs: Math.ceil((1 - level) / this.#perMs) };
  }

  /** Number of keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }
}
