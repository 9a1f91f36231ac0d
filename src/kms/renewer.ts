// Keeps one identity's private keys current: holds the key of the period that contains "now",
// fetches the next period's key `leadMs` before the current period ends (so a call placed just
// after the boundary already has it), drops keys of periods that are over, and retries failed
// fetches with capped exponential backoff. Clock and timers are injectable so tests run
// without waiting; stop() cancels every timer and ignores fetches still in flight.
import { KmsError } from './errors.js';

/** One key period: [startMs, endMs), `label` = start as YYYY-MM-DD (UTC). */
export interface PeriodWindow {
  startMs: number;
  endMs: number;
  label: string;
}

export interface HeldKey {
  period: PeriodWindow;
  key: Uint8Array;
}

export interface RenewerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface KeyRenewerOptions {
  /** Fetches (and verifies) the key of the period that contains `atMs`. */
  fetch: (atMs: number) => Promise<HeldKey>;
  /** The period containing a time (from the KMS public parameters). */
  periodOf: (atMs: number) => PeriodWindow;
  /** Fetch the next period's key this long before the current one ends (default 3 days). */
  leadMs?: number;
  /** First retry delay after a failed fetch (default 30 s), doubled up to maxRetryMs (default 1 h). */
  retryMs?: number;
  maxRetryMs?: number;
  /** Keep the previous period's key this long after the boundary, for peers with late clocks (default 5 min). */
  graceMs?: number;
  now?: () => number;
  timers?: RenewerTimers;
  /** Called with every newly fetched key. */
  onKey?: (k: HeldKey) => void;
  /** Called with every failed fetch (the renewer keeps retrying). */
  onError?: (e: unknown) => void;
}

/** setTimeout cannot wait longer than 2^31-1 ms; we re-evaluate at least daily anyway. */
const MAX_DELAY = 24 * 3600_000;

export class KeyRenewer {
  readonly #o: Required<Omit<KeyRenewerOptions, 'onKey' | 'onError'>> & Pick<KeyRenewerOptions, 'onKey' | 'onError'>;
  readonly #keys = new Map<number, HeldKey>();
  #timer: unknown = undefined;
  #running = false;
  #busy = false;
  #failures = 0;
  #generation = 0;

  constructor(opts: KeyRenewerOptions) {
    if (typeof opts.fetch !== 'function' || typeof opts.periodOf !== 'function') {
      throw new KmsError('KMS_CONFIG', 'KeyRenewer needs fetch and periodOf functions');
    }
    const o = {
      leadMs: 3 * 24 * 3600_000,
      retryMs: 30_000,
      maxRetryMs: 3600_000,
      graceMs: 5 * 60_000,
      now: Date.now,
      timers: { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) },
      ...opts,
    };
    for (const k of ['leadMs', 'retryMs', 'maxRetryMs', 'graceMs'] as const) {
      if (!Number.isFinite(o[k]) || o[k] < 0) throw new KmsError('KMS_CONFIG', `KeyRenewer ${k} must be a non-negative number`);
    }
    if (o.retryMs < 1) throw new KmsError('KMS_CONFIG', 'KeyRenewer retryMs must be >= 1');
    this.#o = o;
  }

  /** Fetches what is due now (the current key, and the next one if inside the lead time) and keeps going. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const gen = ++this.#generation;
    await this.#tick(gen, true);
  }

  /**
   * Cancels the timer; fetches in flight are ignored (and zeroed) when they complete. With
   * `wipe`, also zeroes and forgets every held key. Idempotent.
   */
  stop(wipe = false): void {
    if (wipe) {
      for (const k of this.#keys.values()) k.key.fill(0);
      this.#keys.clear();
    }
    this.#running = false;
    this.#generation++;
    if (this.#timer !== undefined) {
      this.#o.timers.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  get running(): boolean {
    return this.#running;
  }

  /** True while a timer is armed (tests check that stop() leaves none). */
  get timerArmed(): boolean {
    return this.#timer !== undefined;
  }

  /** The key for the period containing `atMs` (default now), if held. */
  keyAt(atMs: number = this.#o.now()): HeldKey | undefined {
    return this.#keys.get(this.#o.periodOf(atMs).startMs);
  }

  /** Every key held, oldest period first. */
  held(): HeldKey[] {
    return [...this.#keys.values()].sort((a, b) => a.period.startMs - b.period.startMs);
  }

  async #ensure(atMs: number, gen: number): Promise<void> {
    const p = this.#o.periodOf(atMs);
    if (this.#keys.has(p.startMs)) return;
    const k = await this.#o.fetch(atMs);
    if (gen !== this.#generation) {
      k.key.fill(0);
      return;
    }
    if (k.period.startMs !== p.startMs) {
      k.key.fill(0);
      throw new KmsError('KMS_BAD_RESPONSE', `KMS returned the key of period ${k.period.label}, wanted ${p.label}`);
    }
    this.#keys.set(p.startMs, k);
    this.#o.onKey?.(k);
  }

  #purge(now: number): void {
    for (const [start, k] of this.#keys) {
      if (k.period.endMs + this.#o.graceMs <= now) {
        k.key.fill(0);
        this.#keys.delete(start);
      }
    }
  }

  #arm(gen: number, delay: number): void {
    if (gen !== this.#generation || !this.#running) return;
    const ms = Math.max(0, Math.min(MAX_DELAY, Math.ceil(delay)));
    this.#timer = this.#o.timers.setTimeout(() => {
      this.#timer = undefined;
      void this.#tick(gen, false);
    }, ms);
  }

  async #tick(gen: number, rethrow: boolean): Promise<void> {
    if (gen !== this.#generation || this.#busy) return;
    this.#busy = true;
    let failed: unknown;
    try {
      const now = this.#o.now();
      const cur = this.#o.periodOf(now);
      await this.#ensure(now, gen);
      if (now >= cur.endMs - this.#o.leadMs) await this.#ensure(cur.endMs, gen);
      this.#purge(now);
      this.#failures = 0;
    } catch (e) {
      failed = e;
      this.#failures++;
    } finally {
      this.#busy = false;
    }
    if (gen !== this.#generation) return;
    const now = this.#o.now();
    const cur = this.#o.periodOf(now);
    let delay: number;
    if (failed !== undefined) {
      this.#o.onError?.(failed);
      delay = Math.min(this.#o.maxRetryMs, this.#o.retryMs * 2 ** Math.min(30, this.#failures - 1));
    } else {
      // Wake at the earliest of: the next key falling due, and a held key leaving its grace time.
      const wakes: number[] = [];
      if (!this.#keys.has(this.#o.periodOf(cur.endMs).startMs)) wakes.push(cur.endMs - this.#o.leadMs);
      for (const k of this.#keys.values()) wakes.push(k.period.endMs + this.#o.graceMs);
      delay = Math.min(...wakes) - now;
    }
    this.#arm(gen, Math.max(delay, failed !== undefined ? 1 : 0));
    if (failed !== undefined && rethrow) throw failed;
  }
}
