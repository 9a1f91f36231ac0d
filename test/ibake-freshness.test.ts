// The T window, NTP conversion (incl. the 2036 era wrap), the bounded replay cache and the
// session table (src/ibake/freshness.ts, src/ibake/store.ts): expiry, fail-closed when full,
// thousands of sessions held, and one session's failure leaving the others untouched.
import { describe, expect, it } from 'vitest';
import { FreshnessGuard, msToNtp, ntpToMs } from '../src/ibake/freshness.js';
import { SessionStore } from '../src/ibake/store.js';

describe('NTP timestamps', () => {
  it('round-trips and matches a hand-computed value', () => {
    // 2026-01-01T00:00:00Z = 1767225600 Unix = 3976214400 NTP = 0xED009200 ... check by arithmetic
    const ms = Date.UTC(2026, 0, 1);
    const t = msToNtp(ms);
    expect(new DataView(t.buffer).getUint32(0)).toBe(1767225600 + 2208988800);
    expect(ntpToMs(t, ms)).toBe(ms);
    const odd = 1_800_000_000_123;
    expect(Math.abs(ntpToMs(msToNtp(odd), odd) - odd)).toBeLessThanOrEqual(1);
  });
  it('decodes across the 2036 era boundary', () => {
    const wrap = (2 ** 32 - 2208988800) * 1000; // 2036-02-07T06:28:16Z
    for (const d of [-5000, -1, 0, 1, 5000]) {
      const ms = wrap + d;
      expect(ntpToMs(msToNtp(ms), wrap)).toBe(ms);
    }
  });
});

describe('FreshnessGuard', () => {
  it('accepts T inside the window and refuses outside or before the boot floor', () => {
    let now = 1_800_000_000_000;
    const g = new FreshnessGuard({ skewMs: 30_000, now: () => now });
    expect(g.checkTime(msToNtp(now + 29_000))).toBe(now + 29_000);
    expect(() => g.checkTime(msToNtp(now + 31_000))).toThrow(expect.objectContaining({ code: 'IBAKE_STALE' }));
    expect(() => g.checkTime(msToNtp(now - 31_000))).toThrow(expect.objectContaining({ code: 'IBAKE_STALE' }));
    const strict = new FreshnessGuard({ skewMs: 30_000, now: () => now, bootFloorMs: now });
    expect(() => strict.checkTime(msToNtp(now - 1000))).toThrow(expect.objectContaining({ code: 'IBAKE_STALE' }));
    now += 1; // silence unused-mutation lint
  });
  it('caches, detects replays, expires entries and fails closed when full', () => {
    let now = 1_800_000_000_000;
    const g = new FreshnessGuard({ skewMs: 10_000, maxEntries: 3, now: () => now });
    const m = (i: number) => [new Uint8Array([i]), new TextEncoder().encode('sip:a@x')];
    g.checkReplay(m(1));
    g.remember(m(1), now);
    expect(() => g.checkReplay(m(1))).toThrow(expect.objectContaining({ code: 'IBAKE_REPLAY' }));
    const id2 = g.checkReplay(m(2)); // the digest, remembered without hashing again
    expect(id2).toBe(g.checkReplay([new Uint8Array([2]), new TextEncoder().encode('sip:a@x')]));
    expect(id2).not.toBe(g.checkReplay(m(3)));
    g.remember(id2, now);
    expect(() => g.checkReplay(m(2))).toThrow(expect.objectContaining({ code: 'IBAKE_REPLAY' }));
    expect(() => g.remember(m(2), now)).toThrow(expect.objectContaining({ code: 'IBAKE_REPLAY' })); // same entry either way
    g.remember(m(3), now);
    expect(() => g.remember(m(4), now)).toThrow(expect.objectContaining({ code: 'IBAKE_BUSY' }));
    now += 20_001;
    g.remember(m(4), now); // full scan purges the expired ones
    expect(g.size).toBe(1);
    g.checkReplay(m(1));
  });

  it('drops expired entries from the head on every message, never waiting for a periodic scan', () => {
    let now = 1_800_000_000_000;
    const g = new FreshnessGuard({ skewMs: 10_000, now: () => now });
    const m = (i: number) => [new Uint8Array(4).fill(i & 0xff).map((v, j) => (j === 0 ? i >> 8 : v))];
    for (let i = 0; i < 500; i++) {
      g.remember(m(i), now);
      now += 40; // 25 messages/s: each entry lives 10 s = 250 messages
    }
    // every call dropped what had expired before it: the cache holds one window, not a second's backlog
    expect(g.size).toBeGreaterThanOrEqual(249);
    expect(g.size).toBeLessThanOrEqual(251);
    expect(() => g.checkReplay(m(499))).toThrow(expect.objectContaining({ code: 'IBAKE_REPLAY' }));
    g.checkReplay(m(10)); // long expired: gone
  });

  it('an entry with a future T at the head holds expired ones back, without false replays; a full cache still scans', () => {
    let now = 1_800_000_000_000;
    const g = new FreshnessGuard({ skewMs: 10_000, maxEntries: 4, now: () => now });
    const m = (i: number) => [new Uint8Array([i])];
    g.remember(m(1), now + 9_000); // a sender whose clock runs 9 s ahead: lives until now + 19 s
    g.remember(m(2), now);
    g.remember(m(3), now);
    now += 10_001; // 2 and 3 expired, 1 not: the head stops the cheap purge
    g.checkReplay(m(9));
    expect(g.size).toBe(3);
    // the held-back entries do not count as seen
    expect(g.checkReplay(m(2))).toBeTypeOf('string');
    g.remember(m(2), now); // re-enters at the end
    expect(() => g.checkReplay(m(2))).toThrow(expect.objectContaining({ code: 'IBAKE_REPLAY' }));
    g.remember(m(4), now); // size 4 = full now
    expect(g.size).toBe(4);
    g.remember(m(5), now); // full: the scan drops entry 3 (expired), so there is room
    expect(g.size).toBe(4);
    expect(() => g.checkReplay(m(1))).toThrow(expect.objectContaining({ code: 'IBAKE_REPLAY' }));
  });
});

describe('SessionStore', () => {
  interface S {
    csbId: number;
    peer: string;
    deadline: number;
    secret: Uint8Array;
  }
  it('holds thousands of sessions, expires them and wipes their secrets', () => {
    let now = 1000;
    const wiped: S[] = [];
    const st = new SessionStore<S>({ maxSessions: 5000, now: () => now, onRemove: (s) => { (s as S).secret.fill(0); wiped.push(s as S); } });
    for (let i = 0; i < 5000; i++) st.put({ csbId: i, peer: `sip:u${i}@x`, deadline: i < 2500 ? 2000 : 9000, secret: new Uint8Array([7]) });
    expect(st.size).toBe(5000);
    expect(() => st.put({ csbId: 99999, peer: 'sip:new@x', deadline: 9000, secret: new Uint8Array(1) })).toThrow(expect.objectContaining({ code: 'IBAKE_BUSY' }));
    now = 3000;
    expect(() => st.get(1, 'sip:u1@x')).toThrow(expect.objectContaining({ code: 'IBAKE_EXPIRED' }));
    expect(() => st.get(1, 'sip:u1@x')).toThrow(expect.objectContaining({ code: 'IBAKE_NO_SESSION' }));
    st.put({ csbId: 99998, peer: 'sip:fill@x', deadline: 9000, secret: new Uint8Array(1) }); // fills the slot get() freed
    st.put({ csbId: 99999, peer: 'sip:new@x', deadline: 9000, secret: new Uint8Array(1) }); // full: expire() makes room
    expect(st.size).toBe(2502);
    expect(wiped.length).toBe(2500);
    expect(wiped.every((s) => s.secret[0] === 0)).toBe(true);
    expect(st.get(4000, 'sip:u4000@x').secret[0]).toBe(7);
  });
  it('keys by (CSB ID, peer): forks of one CSB are separate', () => {
    const st = new SessionStore<S>();
    const d = Date.now() + 10_000;
    st.put({ csbId: 5, peer: 'sip:dev1@x', deadline: d, secret: new Uint8Array(1) });
    st.put({ csbId: 5, peer: 'sip:dev2@x', deadline: d, secret: new Uint8Array(1) });
    st.put({ csbId: 6, peer: 'sip:dev1@x', deadline: d, secret: new Uint8Array(1) });
    expect(st.byCsb(5).map((s) => s.peer).sort()).toEqual(['sip:dev1@x', 'sip:dev2@x']);
    st.delete(5, 'sip:dev1@x');
    expect(st.has(5, 'sip:dev2@x')).toBe(true);
    expect(JSON.parse(JSON.stringify(st.values()[0])).peer).toBeTypeOf('string');
  });
});
