// The IBE identity string of DESIGN §3 (OPEN-1): UTF-8(URI) ‖ 0x00 ‖ "YYYY-MM-DD", the UTC start
// date of the key period that contains the given time. Periods: 'month' (default; the 1st of
// the calendar month), 'week' (ISO 8601 week: starts Monday 00:00 UTC), 'day'. The URI may not
// contain NUL, so the encoding is injective. URIs are validated: non-empty, a scheme, at most
// MAX_URI_OCTETS octets of well-formed UTF-8, no control characters or whitespace.
import { IbeError } from './errors.js';

export type PeriodKind = 'month' | 'week' | 'day';
export const PERIOD_KINDS: readonly PeriodKind[] = ['month', 'week', 'day'];
export const DEFAULT_PERIOD: PeriodKind = 'month';
export const MAX_URI_OCTETS = 512;

const enc = new TextEncoder();

function bad(msg: string): never {
  throw new IbeError('IBE_BAD_IDENTITY', msg);
}

export function isPeriodKind(x: unknown): x is PeriodKind {
  return typeof x === 'string' && (PERIOD_KINDS as readonly string[]).includes(x);
}

/** Validates an identity URI (e.g. sip:alice@example.org, tel:+15551234); returns its UTF-8. */
export function validateUri(uri: unknown): Uint8Array {
  if (typeof uri !== 'string') bad('identity URI must be a string');
  if (uri.length === 0) bad('identity URI is empty');
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(uri)) bad('identity URI is not well-formed Unicode');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f-\u009f\s]/.test(uri)) bad('identity URI contains NUL, control characters or whitespace');
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:./.test(uri)) bad('identity URI needs a scheme, e.g. sip:user@example.org');
  const bytes = enc.encode(uri);
  if (bytes.length > MAX_URI_OCTETS) bad(`identity URI longer than ${MAX_URI_OCTETS} octets`);
  return bytes;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

function ymd(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/** Strict YYYY-MM-DD (a real calendar date, years 1970–9999) → Date at 00:00 UTC. */
export function parseDate(s: unknown): Date {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(s)) bad('date must be YYYY-MM-DD');
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  // key periods start in 1970 (1900-01-01 used to be called 'no such date')
  if (y < 1970) bad(`date '${s}' is before 1970`);
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) bad(`no such date '${s}'`);
  return t;
}

/** The last answer per kind, by UTC day number: periods start on day boundaries, and every
 * message of a call asks about the same day (this runs several times per message). */
const lastDay: Partial<Record<PeriodKind, { day: number; start: string }>> = {};

/** Start date (YYYY-MM-DD, UTC) of the period of the given kind that contains `time`. */
export function periodStart(time: Date | number, kind: PeriodKind = DEFAULT_PERIOD): string {
  const ms = typeof time === 'number' ? time : time instanceof Date ? time.getTime() : NaN;
  const day = Math.floor(ms / 86_400_000);
  const hit = Number.isFinite(day) && Object.prototype.hasOwnProperty.call(lastDay, kind) ? lastDay[kind] : undefined;
  if (hit && hit.day === day) return hit.start;
  const start = computePeriodStart(time, kind);
  lastDay[kind] = { day, start };
  return start;
}

function computePeriodStart(time: Date | number, kind: PeriodKind): string {
  const t = new Date(typeof time === 'number' ? time : time.getTime());
  if (Number.isNaN(t.getTime())) bad('invalid time');
  if (t.getUTCFullYear() < 1970 || t.getUTCFullYear() > 9999) bad('time out of range');
  switch (kind) {
    case 'day':
      return ymd(t);
    case 'month':
      return ymd(new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1)));
    case 'week': {
      const dow = (t.getUTCDay() + 6) % 7; // Monday = 0 … Sunday = 6
      return ymd(new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate() - dow)));
    }
    default:
      return bad(`unknown period '${String(kind)}'`);
  }
}

export interface Identity {
  uri: string;
  period: string; // YYYY-MM-DD start of the period
  bytes: Uint8Array; // UTF-8(uri) ‖ 0x00 ‖ period
}

/**
 * Identity octets already built, by period and URI: an exchange derives the same few identities
 * several times (header checks, IBE recipients, keys), and the URI checks and UTF-8 encoding are
 * a measurable part of its JavaScript. Bounded: cleared when full. Callers get copies.
 */
const MEMO_MAX = 1024;
const memo = new Map<string, Uint8Array>();

/** The identity for `uri` in the period containing `time` (Date, epoch ms, or YYYY-MM-DD). */
export function identityFor(uri: string, time: Date | number | string, kind: PeriodKind = DEFAULT_PERIOD): Identity {
  if (!isPeriodKind(kind)) bad(`unknown period '${String(kind)}'`);
  let period: string;
  try {
    period = periodStart(typeof time === 'string' ? parseDate(time) : time, kind);
  } catch (e) {
    validateUri(uri); // a bad URI is reported before a bad time, as always
    throw e;
  }
  const key = typeof uri === 'string' ? `${period} ${uri}` : undefined;
  const hit = key === undefined ? undefined : memo.get(key);
  if (hit) return { uri, period, bytes: hit.slice() };
  const u = validateUri(uri);
  const bytes = new Uint8Array(u.length + 1 + period.length);
  bytes.set(u, 0);
  bytes[u.length] = 0;
  bytes.set(enc.encode(period), u.length + 1);
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key!, bytes.slice());
  return { uri, period, bytes };
}

/** Convenience: just the identity octets. */
export function identityBytes(uri: string, time: Date | number | string, kind: PeriodKind = DEFAULT_PERIOD): Uint8Array {
  return identityFor(uri, time, kind).bytes;
}
