// Identity strings of DESIGN §3 (src/ibe/identity.ts): exact octets, period starts for month,
// ISO week (Monday) and day, boundaries in UTC, strict dates and URI validation; injectivity
// checked with fast-check (distinct (uri, period) pairs never give the same octets).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityBytes, identityFor, parseDate, periodStart, validateUri } from '../src/ibe/identity.js';

describe('periodStart', () => {
  it('month, week (ISO Monday) and day in UTC', () => {
    const t = Date.UTC(2026, 10, 28, 23, 59, 59); // Saturday 2026-11-28
    expect(periodStart(t, 'month')).toBe('2026-11-01');
    expect(periodStart(t, 'week')).toBe('2026-11-23'); // Monday
    expect(periodStart(t, 'day')).toBe('2026-11-28');
    expect(periodStart(new Date(Date.UTC(2026, 10, 23)), 'week')).toBe('2026-11-23'); // a Monday is its own start
    expect(periodStart(new Date(Date.UTC(2026, 10, 29, 12)), 'week')).toBe('2026-11-23'); // Sunday
    expect(periodStart(new Date(Date.UTC(2026, 10, 30)), 'week')).toBe('2026-11-30');
    expect(periodStart(new Date(Date.UTC(2027, 0, 2)), 'week')).toBe('2026-12-28'); // across a year
    expect(periodStart(new Date(Date.UTC(2024, 1, 29, 5)), 'month')).toBe('2024-02-01');
    expect(periodStart(new Date('2026-12-01T00:00:00.000Z'), 'month')).toBe('2026-12-01');
    expect(periodStart(new Date('2026-11-30T23:59:59.999Z'), 'month')).toBe('2026-11-01');
    expect(periodStart(t)).toBe('2026-11-01'); // default month
  });

  it('week start is always a Monday at most 6 days back (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 7 * 86400000, max: 4102444800000 }), (ms) => {
        const s = parseDate(periodStart(ms, 'week'));
        expect(s.getUTCDay()).toBe(1);
        expect(ms - s.getTime()).toBeGreaterThanOrEqual(0);
        expect(ms - s.getTime()).toBeLessThan(7 * 86400000);
      }),
      { numRuns: 300 },
    );
  });
});

describe('identity octets', () => {
  it('is UTF-8(URI) ‖ 0x00 ‖ YYYY-MM-DD', () => {
    const b = identityBytes('sip:alice@example.org', '2026-11-17', 'month');
    expect(Buffer.from(b).toString('latin1')).toBe('sip:alice@example.org\u00002026-11-01');
    const id = identityFor('sip:ä@example.org', '2026-11-17', 'day');
    expect(Buffer.from(id.bytes).toString('hex')).toBe(Buffer.from('sip:\u00e4@example.org', 'utf8').toString('hex') + '00' + Buffer.from('2026-11-17').toString('hex'));
    expect(id.period).toBe('2026-11-17');
  });

  it('is injective over (uri, period)', () => {
    const uri = fc.stringMatching(/^sip:[a-z0-9.@]{1,20}$/);
    fc.assert(
      fc.property(uri, uri, fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 0, max: 4e12 }), (u1, u2, t1, t2) => {
        const a = identityFor(u1, t1, 'day');
        const b = identityFor(u2, t2, 'day');
        const same = u1 === u2 && a.period === b.period;
        expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(same);
      }),
      { numRuns: 300 },
    );
  });
});

describe('validation', () => {
  it('rejects bad URIs', () => {
    for (const bad of ['', 'alice', 'sip:a\u0000b', 'sip:a b', 'sip:a\nb', 'sip:\ud800x', ':x', 'sip:' + 'a'.repeat(600), 42]) {
      expect(() => validateUri(bad as string), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'IBE_BAD_IDENTITY' }));
    }
    expect(validateUri('tel:+15551234567')).toBeInstanceOf(Uint8Array);
  });

  it('rejects bad dates and periods', () => {
    for (const bad of ['2026-02-30', '2026-13-01', '2026-1-01', '26-01-01', '2026-01-01T00:00', '1969-12-31', '']) {
      expect(() => parseDate(bad), bad).toThrow(expect.objectContaining({ code: 'IBE_BAD_IDENTITY' }));
    }
    expect(() => parseDate('2026-02-30')).toThrow("no such date '2026-02-30'");
    expect(() => parseDate('1900-01-01')).toThrow("date '1900-01-01' is before 1970");
    expect(() => parseDate('0000-01-01')).toThrow("date '0000-01-01' is before 1970");
    expect(() => identityFor('sip:a@b', '2026-01-01', 'year' as never)).toThrow(/period/);
    expect(() => periodStart(Number.NaN, 'day')).toThrow(/invalid time/);
  });
});

describe('memo of built identities', () => {
  it('repeated calls give equal, independent copies; a bad URI is still reported before a bad time', () => {
    const t = Date.UTC(2026, 10, 28);
    const a = identityBytes('sip:memo@example.org', t, 'month');
    a.fill(0xee); // the caller's copy: must not leak into the next call
    const b = identityBytes('sip:memo@example.org', t, 'month');
    expect(Buffer.from(b).toString()).toBe('sip:memo@example.org\u00002026-11-01');
    expect(identityFor('sip:memo@example.org', '2026-11-15', 'month').bytes).toEqual(b);
    expect(identityBytes('sip:memo@example.org', t, 'day')).toEqual(new TextEncoder().encode('sip:memo@example.org\u00002026-11-28'));
    for (let i = 0; i < 1100; i++) identityBytes(`sip:u${i}@example.org`, t, 'month'); // past the bound: cleared, still right
    expect(identityBytes('sip:memo@example.org', t, 'month')).toEqual(b);
    expect(() => identityBytes('noscheme', Number.NaN, 'month')).toThrow(/scheme/);
    expect(() => identityBytes('sip:memo@example.org', Number.NaN, 'month')).toThrow(/time/);
    expect(() => identityBytes('baduri', t, 'month')).toThrow(/scheme/); // not memoized
  });
});
