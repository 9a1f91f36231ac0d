// Freshness of received MIKEY-IBAKE messages, checked BEFORE any pairing (security.md §3.1,
// top-10 #7): the T payload (NTP-UTC) must lie inside the clock-skew window around our clock
// and not before the boot floor (the replay cache is lost on restart), and the message's IBE
// ciphertext (profile v2: the clear CSB ID, T and RAND are bound inside it) must not be in the
// bounded replay cache. Entries enter the cache once the message passed its checks (its T is
// then the one bound inside), expire when that T leaves the window — after which any copy is
// stale, or fails the binding — and a full cache fails closed (never evicts an unexpired
// entry, which would re-open replay).
import { bytesU64, msToNtp64, ntp64ToMs, u64Bytes } from '../mikey/ntp.js';
import { ReplayCache } from '../util/replay-cache.js';
import { IbakeError } from './errors.js';

/** Unix milliseconds -> 8-octet NTP timestamp (seconds mod 2^32 ‖ fraction). */
export function msToNtp(ms: number): Uint8Array {
  if (!Number.isFinite(ms) || ms < 0) throw new IbakeError('IBAKE_BAD_INPUT', 'time must be a non-negative number of ms');
  return u64Bytes(msToNtp64(ms));
}

/**
 * 8-octet NTP timestamp -> Unix ms, era-aware: of the candidate eras, the one closest to
 * `referenceMs` (our clock), so values on both sides of the 2036 wrap decode correctly.
 */
export function ntpToMs(ntp: Uint8Array, referenceMs: number): number {
  if (!(ntp instanceof Uint8Array) || ntp.length !== 8) throw new IbakeError('IBAKE_MALFORMED', 'NTP timestamp must be 8 octets');
  return ntp64ToMs(bytesU64(ntp), referenceMs);
}

export interface FreshnessOptions {
  /** Allowed |T - now| in ms (RFC 3830 clock skew). Default 60 s. */
  skewMs?: number;
  /** Messages with T earlier than this are refused (default: construction time - skewMs). */
  bootFloorMs?: number;
  /** Maximum replay-cache entries (default 120 000 ≈ 1000 msg/s × 2 × 60 s). */
  maxEntries?: number;
  now?: () => number;
}

/** The T window plus the bounded replay cache. One instance per receiving endpoint. */
export class FreshnessGuard {
  readonly skewMs: number;
  readonly bootFloorMs: number;
  readonly maxEntries: number;
  private readonly now: () => number;
  /** key -> expiry (ms); Map keeps insertion order, which is roughly expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(opts: FreshnessOptions = {}) {
    this.skewMs = opts.skewMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 120_000;
    this.now = opts.now ?? Date.now;
    // A restarted process has lost its cache: by default accept only T >= (start - skew),
    // i.e. nothing that could have been accepted by an earlier incarnation more than one skew
    // window ago. Set bootFloorMs = start to be strict (RFC 3830 §5.4's advice).
    this.bootFloorMs = opts.bootFloorMs ?? this.now() - this.skewMs;
    if (!(this.skewMs > 0) || !(this.maxEntries > 0)) throw new IbakeError('IBAKE_BAD_INPUT', 'skewMs and maxEntries must be positive');
  }

  /** Unix ms of a received NTP T, or IBAKE_STALE if outside the window / before the floor. */
  checkTime(ntp: Uint8Array): number {
    const now = this.now();
    const t = ntpToMs(ntp, now);
    if (Math.abs(t - now) > this.skewMs || t < this.bootFloorMs) {
      throw new IbakeError('IBAKE_STALE', 'timestamp outside the allowed window');
    }
    return t;
  }

  /**
   * Throws IBAKE_REPLAY if this tuple (our profile: the IBE ciphertext) was already accepted; returns
   * the tuple's digest, which remember() takes instead of hashing the tuple again.
   */
  checkReplay(parts: Uint8Array[]): string {
    this.purge();
    const k = ReplayCache.key(parts);
    const exp = this.seen.get(k);
    if (exp !== undefined && exp >= this.now()) throw new IbakeError('IBAKE_REPLAY', 'replayed message');
    return k;
  }

  /** Records an authenticated/decrypted message (its tuple, or the digest checkReplay returned);
   * fails closed (IBAKE_BUSY) when full. */
  remember(parts: Uint8Array[] | string, tMs: number): void {
    this.purge();
    const k = typeof parts === 'string' ? parts : ReplayCache.key(parts);
    const exp = this.seen.get(k);
    if (exp !== undefined && exp >= this.now()) throw new IbakeError('IBAKE_REPLAY', 'replayed message');
    this.seen.delete(k); // an expired entry not yet purged: the new one goes to the end
    if (this.seen.size >= this.maxEntries) throw new IbakeError('IBAKE_BUSY', 'replay cache full');
    this.seen.set(k, tMs + this.skewMs);
  }

  private lastFullScan = -Infinity;

  /**
   * Drops entries whose T has left the window. Entries go in in about expiry order (T + skew,
   * T near our clock), so every call drops the expired ones at the head and stops at the first
   * live one: O(1) per message on average, never a scan of the whole cache on a request's path
   * (a full scan every second cost a request several ms once the cache held tens of thousands
   * of entries: the p99 at low load after a busy minute). An entry from a sender whose clock runs
   * ahead can hold back expired ones behind it, for at most two skew windows; they count toward
   * maxEntries, and a full cache (or `force`) scans everything, at most once a second unless forced.
   */
  purge(force = false): void {
    const now = this.now();
    for (const [k, exp] of this.seen) {
      if (exp >= now) break;
      this.seen.delete(k);
    }
    if (!force && (this.seen.size < this.maxEntries || now - this.lastFullScan < 1000)) return;
    this.lastFullScan = now;
    for (const [k, exp] of this.seen) {
      if (exp < now) this.seen.delete(k);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}
