// Typed errors of the KMS layer (server, client, renewal). Each failure the KMS exchange can
// produce has its own code so callers (CLI, daemon, `ibake call`) can tell an authentication
// failure from a stale clock, a rate limit or a network problem. Messages never carry key
// material or raw decoder text.
import { IbakedError } from '../util/errors.js';

export type KmsErrorCode =
  | 'KMS_CONFIG' // bad server/client options, users file, master or params
  | 'KMS_AUTH_FAILED' // PSK unknown/wrong, MAC invalid, identity not authorised (ERR 0)
  | 'KMS_INVALID_TS' // T outside the clock-skew window (ERR 1)
  | 'KMS_REPLAY' // request already seen (replay cache hit)
  | 'KMS_PERIOD' // requested key period not issuable now (too far ahead or expired)
  | 'KMS_RATE_LIMITED' // token bucket empty (HTTP 429)
  | 'KMS_BAD_REQUEST' // unparseable MIKEY, wrong data type, missing payloads (ERR 13/11/7)
  | 'KMS_UNSUPPORTED' // PRF / MAC / encryption algorithm not supported (ERR 2/3/4)
  | 'KMS_OVERLOADED' // replay cache full or server busy (HTTP 503)
  | 'KMS_SERVER_ERROR' // KMS internal failure (HTTP 500)
  | 'KMS_TRANSPORT' // HTTP/TLS/network failure, timeout, unexpected HTTP answer
  | 'KMS_BAD_RESPONSE' // response malformed, MAC invalid, or not answering our request
  | 'KMS_KEY_INVALID'; // issued key failed the pairing check e(P, S) = e(P_pub, Q)

export class KmsError extends IbakedError {
  declare readonly code: KmsErrorCode;
  /** HTTP status of the KMS answer, when the error came from one. */
  readonly httpStatus?: number;
  /** RFC 3830 ERR payload number carried by the KMS answer, when there was one. */
  readonly mikeyError?: number;
  /** For KMS_RATE_LIMITED / KMS_OVERLOADED: how long to wait before retrying, ms. */
  readonly retryAfterMs?: number;
  constructor(code: KmsErrorCode, message: string, extra: { httpStatus?: number; mikeyError?: number; retryAfterMs?: number } = {}) {
    super(code, message);
    if (extra.httpStatus !== undefined) this.httpStatus = extra.httpStatus;
    if (extra.mikeyError !== undefined) this.mikeyError = extra.mikeyError;
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
  }
}
