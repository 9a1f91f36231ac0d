// Freshness of received MIKEY-IBAKE messages, checked BEFORE any pairing (security.md §3.1,
// top-10 #7): the T payload (NTP-UTC) must lie inside the clock-skew window around our clock
// and not before the boot floor (the replay cache is lost on restart), and the tuple
// (CSB ID, sender identity, T, RAND) must not be in the bounded replay cache. Entries enter
// the cache only after the message decrypted correctly, expire when T leaves the window, and a
// full cache fails closed (never evicts an unexpired entry, which would re-open replay).
import { createHash } from 'node:crypto';
import { IbakeError } from './errors.js';

const NTP_UNIX_OFFSET = 2_208_988_800n; // seconds from 1900-01-01 to 1970-01-01
const ERA = 1n << 32n;

/** Unix milliseconds -> 8-octet NTP timestamp (seconds mod 2^32 ‖ fraction). */
export function msToNtp(ms: number): Uint8Array {
  if (!Number.isFinite(ms) || ms < 0) throw new IbakeError('IBAKE_BAD_INPUT', 'time must be a non-negative number of ms');
  const totalMs = BigInt(Math.floor(ms));
  const secs = totalMs / 1000n + NTP_UNIX_OFFSET;
  const frac = ((totalMs % 1000n) << 32n) / 1000n;
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, Number(secs % ERA));
  dv.setUint32(4, Number(frac));
  return out;
}

/**
 * 8-octet NTP timestamp -> Unix ms, era-aware: of the candidate eras, the one closest to
 * `referenceMs` (our clock), so values on both sides of the 2036 wrap decode correctly.
 */
export function ntpToMs(ntp: Uint8Array, referenceMs: number): number {
  if (!(ntp instanceof Uint8Array) || ntp.length !== 8) throw new IbakeError('IBAKE_MALFORMED', 'NTP timestamp must be 8 octets');
  const dv = new DataView(ntp.buffer, ntp.byteOffset, 8);
  const secs = BigInt(dv.getUint32(0));
  const frac = BigInt(dv.getUint32(4));
  const refNtp = BigInt(Math.floor(referenceMs / 1000)) + NTP_UNIX_OFFSET;
  const refEra = refNtp / ERA;
  let best = 0n;
  let bestDist = -1n;
  for (const era of [refEra - 1n, refEra, refEra + 1n]) {
    if (era < 0n) continue;
    const cand = era * ERA + secs;
    const d = cand > refNtp ? cand - refNtp : refNtp - cand;
    if (bestDist < 0n || d < bestDist) {
      best = cand;
      bestDist = d;
    }
  }
  const ms = (best - NTP_UNIX_OFFSET) * 1000n + (frac * 1000n + ERA / 2n) / ERA;
  return Number(ms);
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

  private static key(parts: Uint8Array[]): string {
    const h = createHash('sha256');
    for (const p of parts) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(p.length);
      h.update(len).update(p);
    }
    return h.digest('base64');
  }

  /** Throws IBAKE_REPLAY if this (CSB ID, sender, T, RAND …) tuple was already accepted. */
  checkReplay(parts: Uint8Array[]): void {
    this.purge();
    const exp = this.seen.get(FreshnessGuard.key(parts));
    if (exp !== undefined && exp >= this.now()) throw new IbakeError('IBAKE_REPLAY', 'replayed message');
  }

  /** Records an authenticated/decrypted message; fails closed (IBAKE_BUSY) when full. */
  remember(parts: Uint8Array[], tMs: number): void {
    this.purge();
    const k = FreshnessGuard.key(parts);
    if (this.seen.has(k)) throw new IbakeError('IBAKE_REPLAY', 'replayed message');
    if (this.seen.size >= this.maxEntries) throw new IbakeError('IBAKE_BUSY', 'replay cache full');
    this.seen.set(k, tMs + this.skewMs);
  }

  private lastPurge = -Infinity;

  /** Drops entries whose T has left the window (a full scan at most once a second, or when full). */
  purge(force = false): void {
    const now = this.now();
    if (!force && now - this.lastPurge < 1000 && this.seen.size < this.maxEntries) return;
    this.lastPurge = now;
    for (const [k, exp] of this.seen) {
      if (exp < now) this.seen.delete(k);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}
