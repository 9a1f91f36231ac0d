// Audit events of the KMS: every issued key (identity, period, time, client address, key id)
// and every rejected request (reason code only). Events are built field by field from public
// data; no request object, PSK, key or decoder text is ever passed to a logger. The key id is
// a digest of public data (parameters fingerprint, identity, period) so an operator can
// correlate issuances without the log revealing anything secret.
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

export type KmsLogEvent = IssueEvent | RejectEvent | ServerEvent;
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

/** Default: JSON lines on stderr. */
export const stderrLogger: KmsLogger = jsonLineLogger((l) => process.stderr.write(l));

export const silentLogger: KmsLogger = () => {};
