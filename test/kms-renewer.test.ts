// KeyRenewer scheduling with an injected clock and timer queue (no real waiting): it fetches the
// current key at start, the next period's key `leadMs` before the boundary (never after it),
// drops a period's key after its grace time, retries failures with backoff, and leaves no timer
// armed after stop(). Fetches here are fakes; the end-to-end renewal against a real KMS is in
// kms-service.test.ts.
import { describe, expect, it } from 'vitest';
import { KeyRenewer, type HeldKey, type PeriodWindow } from '../src/kms/renewer.js';

const DAY = 86400_000;

/** Calendar months (UTC), as the default KMS period. */
function month(ms: number): PeriodWindow {
  const d = new Date(ms);
  const startMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const endMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { startMs, endMs, label: new Date(startMs).toISOString().slice(0, 10) };
}

class FakeClock {
  t: number;
  queue: { at: number; fn: () => void; id: number }[] = [];
  #id = 0;
  constructor(t: number) {
    this.t = t;
  }
  now = () => this.t;
  timers = {
    setTimeout: (fn: () => void, ms: number) => {
      const id = ++this.#id;
      this.queue.push({ at: this.t + ms, fn, id });
      return id;
    },
    clearTimeout: (h: unknown) => {
      this.queue = this.queue.filter((x) => x.id !== h);
    },
  };
  /** Advances to `to`, firing due timers in order and letting their promises settle. */
  async advance(to: number): Promise<void> {
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at);
      const next = this.queue[0];
      if (!next || next.at > to) break;
      this.queue.shift();
      this.t = next.at;
      next.fn();
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
    this.t = to;
  }
}

function setup(start: number, opts: { failFirst?: number } = {}) {
  const clock = new FakeClock(start);
  const fetches: { at: number; label: string }[] = [];
  let fail = opts.failFirst ?? 0;
  const errors: unknown[] = [];
  const r = new KeyRenewer({
    periodOf: month,
    now: clock.now,
    timers: clock.timers,
    leadMs: 2 * DAY,
    graceMs: 60_000,
    retryMs: 1000,
    maxRetryMs: 8000,
    onError: (e) => errors.push(e),
    fetch: async (at): Promise<HeldKey> => {
      const p = month(at);
      fetches.push({ at: clock.t, label: p.label });
      if (fail > 0) {
        fail--;
        throw new Error('KMS down');
      }
      return { period: p, key: new Uint8Array(96).fill(p.startMs % 251) };
    },
  });
  return { clock, fetches, r, errors };
}

describe('KeyRenewer', () => {
  it('fetches the current key at start and the next one lead time before the boundary', async () => {
    const t0 = Date.UTC(2026, 10, 10, 12);
    const { clock, fetches, r } = setup(t0);
    await r.start();
    expect(fetches.map((f) => f.label)).toEqual(['2026-11-01']);
    expect(r.keyAt()?.period.label).toBe('2026-11-01');
    const due = Date.UTC(2026, 11, 1) - 2 * DAY;
    await clock.advance(due - 1);
    expect(fetches).toHaveLength(1); // re-evaluated daily, but nothing due yet
    await clock.advance(due);
    expect(fetches.map((f) => f.label)).toEqual(['2026-11-01', '2026-12-01']);
    expect(fetches[1]!.at).toBe(due);
    expect(fetches[1]!.at).toBeLessThan(Date.UTC(2026, 11, 1));
    // across the boundary the new key is current without another fetch
    await clock.advance(Date.UTC(2026, 11, 1) + 1);
    expect(r.keyAt()?.period.label).toBe('2026-12-01');
    expect(fetches).toHaveLength(2);
    expect(r.held().map((k) => k.period.label)).toEqual(['2026-11-01', '2026-12-01']); // old one in grace
    await clock.advance(Date.UTC(2026, 11, 1) + 60_000);
    expect(r.held().map((k) => k.period.label)).toEqual(['2026-12-01']);
    r.stop();
    expect(r.timerArmed).toBe(false);
    expect(clock.queue).toHaveLength(0);
  });

  it('fetches both keys at once when started inside the lead time', async () => {
    const { fetches, r, clock } = setup(Date.UTC(2026, 10, 29, 12));
    await r.start();
    expect(fetches.map((f) => f.label)).toEqual(['2026-11-01', '2026-12-01']);
    r.stop();
    expect(clock.queue).toHaveLength(0);
  });

  it('zeroes a key when it is dropped', async () => {
    const { clock, r } = setup(Date.UTC(2026, 10, 29, 12));
    await r.start();
    const old = r.keyAt()!.key;
    expect(old.some((b) => b !== 0)).toBe(true);
    await clock.advance(Date.UTC(2026, 11, 1) + 120_000);
    expect(old.every((b) => b === 0)).toBe(true);
    r.stop();
  });

  it('stop(true) zeroes and forgets the held keys', async () => {
    const { r } = setup(Date.UTC(2026, 10, 29, 12));
    await r.start();
    const keys = r.held().map((k) => k.key);
    expect(keys).toHaveLength(2);
    r.stop(true);
    expect(r.held()).toHaveLength(0);
    expect(keys.every((k) => k.every((b) => b === 0))).toBe(true);
  });

  it('retries failures with capped exponential backoff and reports them', async () => {
    const t0 = Date.UTC(2026, 10, 10);
    const { clock, fetches, r, errors } = setup(t0, { failFirst: 5 });
    await expect(r.start()).rejects.toThrow('KMS down');
    expect(r.running).toBe(true);
    await clock.advance(t0 + 1000 + 2000 + 4000 + 8000 + 8000);
    expect(fetches.map((f) => f.at - t0)).toEqual([0, 1000, 3000, 7000, 15000, 23000]);
    expect(errors).toHaveLength(5);
    expect(r.keyAt()?.period.label).toBe('2026-11-01');
    r.stop();
    expect(clock.queue).toHaveLength(0);
  });

  it('leaves no timer and ignores an in-flight fetch after stop()', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 10));
    let release!: (k: HeldKey) => void;
    const r = new KeyRenewer({
      periodOf: month,
      now: clock.now,
      timers: clock.timers,
      fetch: () => new Promise<HeldKey>((res) => (release = res)),
    });
    const started = r.start();
    r.stop();
    const key = new Uint8Array(96).fill(7);
    release({ period: month(clock.t), key });
    await started;
    expect(r.held()).toHaveLength(0);
    expect(key.every((b) => b === 0)).toBe(true);
    expect(clock.queue).toHaveLength(0);
    expect(r.timerArmed).toBe(false);
  });

  it('with real timers, stop() lets the event loop go idle', async () => {
    const r = new KeyRenewer({ periodOf: month, fetch: async (at) => ({ period: month(at), key: new Uint8Array(96) }) });
    await r.start();
    expect(r.timerArmed).toBe(true);
    r.stop();
    expect(r.timerArmed).toBe(false);
  });

  it('rejects a key for the wrong period', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 10));
    const r = new KeyRenewer({
      periodOf: month,
      now: clock.now,
      timers: clock.timers,
      fetch: async () => ({ period: month(Date.UTC(2026, 9, 5)), key: new Uint8Array(96) }),
    });
    await expect(r.start()).rejects.toMatchObject({ code: 'KMS_BAD_RESPONSE' });
    r.stop();
  });
});
