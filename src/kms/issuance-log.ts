// Audit events of the KMS: every issued key (identity, period, time, client address, key id)
// and every rejected request (reason code only). Events are built field by field from public
// data; no request object, PSK, key or decoder text is ever passed to a logger. The key id is
// a digest of public data (parameters fingerprint, identity, period) so an operator can
// correlate issuances without the log revealing anything secret. The chained logger numbers
// the lines and links each to the SHA-256 of the previous one (security.md §5.9), so deleting,
// reordering or editing a line is detectable with verifyLogChain.
import { createHash } from 'node:crypto';

export interface IssueEvent {
  event: 'issue';
  /** ISO-8601 UTC time of issuance. */
  time: string;
  /** Client address as seen by the server (IP, or IP:port). */
  client: string;
  /** Name of the PSK that authenticated the request. */
  user: string;
  identity: string;
  /** Period start, YYYY-MM-DD (UTC). */
  period: string;
  keyId: string;
}

export interface RejectEvent {
  event: 'reject';
  time: string;
  client: string;
  /** Stable reason code (e.g. KMS_AUTH_FAILED), never free text from the request. */
  reason: string;
  status: number;
  /** Present once the request authenticated (rate-limited or unauthorised identity). */
  user?: string;
}

export interface ServerEvent {
  event: 'listening' | 'closed';
  time: string;
  url: string;
}

/** The users table was replaced (count = users now configured). */
export interface UsersEvent {
  event: 'users';
  time: string;
  url: string;
  count: number;
}

export type KmsLogEvent = IssueEvent | RejectEvent | ServerEvent | UsersEvent;
export type KmsLogger = (e: KmsLogEvent) => void;

/** key-id = first 8 octets (hex) of SHA-256("ibaked-kms-keyid" 0 fingerprint 0 identity 0 period). */
export function keyId(paramsFingerprint: string, identity: string, period: string): string {
  return createHash('sha256')
    .update('ibaked-kms-keyid\0')
    .update(paramsFingerprint)
    .update('\0')
    .update(identity, 'utf8')
    .update('\0')
    .update(period)
    .digest('hex')
    .slice(0, 16);
}

/** A logger writing one JSON object per line (e.g. to stderr or a file stream). */
export function jsonLineLogger(write: (line: string) => void): KmsLogger {
  return (e) => write(JSON.stringify(e) + '\n');
}

const GENESIS = '0'.repeat(64);

/**
 * JSON lines with `seq` (1, 2, …) and `prev` = hex SHA-256 of the previous line's text (without
 * its newline; 64 zeros for the first line, or `after` to continue an existing log).
 */
export function chainedJsonLineLogger(write: (line: string) => void, after: string = GENESIS): KmsLogger {
  let prev = after;
  let seq = 0;
  return (e) => {
    const line = JSON.stringify({ ...e, seq: ++seq, prev });
    prev = createHash('sha256').update(line).digest('hex');
    write(line + '\n');
  };
}

/** Checks a chained log: consecutive seq numbers and every `prev` link. Returns the index of the first bad line, or -1. */
export function verifyLogChain(lines: readonly string[], after: string = GENESIS): number {
  let prev = after;
  for (let i = 0; i < lines.length; i++) {
    let o: { seq?: unknown; prev?: unknown };
    try {
      o = JSON.parse(lines[i]!) as typeof o;
    } catch {
      return i;
    }
    if (o.prev !== prev || o.seq !== i + 1) return i;
    prev = createHash('sha256').update(lines[i]!).digest('hex');
  }
  return -1;
}

/** Default: JSON lines on stderr. */
export const stderrLogger: KmsLogger = jsonLineLogger((l) => process.stderr.write(l));

export const silentLogger: KmsLogger = () => {};
