// Typed errors of the MIKEY-IBAKE protocol engine. Before the peer is authenticated every
// cryptographic or identity failure carries the SAME public code (IBAKE_AUTH_FAILED) and the same
// ERR reply bytes, so the wire gives no oracle; `reason` is for the local audit log and tests only.
import { IbakedError } from '../util/errors.js';

export type IbakeErrorCode =
  | 'IBAKE_MALFORMED' // message does not parse / wrong shape: silently discarded (RFC 6267 §4.2)
  | 'IBAKE_STALE' // T outside the clock-skew window or before the boot floor (ERR Invalid TS)
  | 'IBAKE_REPLAY' // this IBE ciphertext was already seen (or a CSB update is not newer): dropped before any pairing
  | 'IBAKE_AUTH_FAILED' // uniform pre-authentication failure (ERR Auth failure)
  | 'IBAKE_UNSUPPORTED' // PRF / curve / data type we do not implement (RFC 3830 ERR with its number)
  | 'IBAKE_POLICY' // the answering identity is not acceptable to the initiator's policy
  | 'IBAKE_NO_SESSION' // no state for (CSB ID, peer)
  | 'IBAKE_EXPIRED' // state existed but its deadline has passed (now purged)
  | 'IBAKE_STATE' // message not expected in the session's current state (e.g. replayed I_MESSAGE_2)
  | 'IBAKE_BUSY' // session table or replay cache full: fail closed
  | 'IBAKE_NO_KEY' // we hold no private key for the identity/period needed
  | 'IBAKE_PREKEY_INVALID' // deferred v2: a signed prekey that fails its checks (signature, user, expiry, reused id, format)
  | 'IBAKE_NO_PREKEY' // deferred v2: no unused prekey (mailbox) / no stored private half (user)
  | 'IBAKE_BAD_INPUT'; // caller error (bad URI, bad option)

export type AuthFailureReason =
  | 'decrypt' // IBE decryption / FO check failed (includes wrong-period keys and any tamper)
  | 'inner-format' // decrypted plaintext is not the expected sub-payload chain
  | 'identity-mismatch' // identities inside the ciphertext differ from IDRi/IDRr or the expected peer
  | 'echo-mismatch' // our own DH value did not come back unchanged
  | 'clear-binding' // the CSB ID / T / RAND hashed inside I_MESSAGE_1 (or echoed in R_MESSAGE_1) differ from the clear ones
  | 'bad-point' // received ECCPT not a valid P-256 point (or equal to our own share)
  | 'bad-mac' // V payload of R_MESSAGE_2 (or of a CSB-update R_MESSAGE_1) does not verify
  | 'esk'; // ESK missing, undecryptable or its identity mismatches

export class IbakeError extends IbakedError {
  /** Local-only detail for AUTH failures; never put on the wire. */
  readonly reason?: AuthFailureReason | string;
  /** RFC 3830 Error message to send back, if the profile answers this failure with one. */
  readonly reply?: Uint8Array;
  constructor(code: IbakeErrorCode, message: string, opts: { reason?: string; reply?: Uint8Array } = {}) {
    super(code, message);
    if (opts.reason !== undefined) this.reason = opts.reason;
    if (opts.reply !== undefined) this.reply = opts.reply;
  }
}

/** The one public message of every pre-authentication failure (never says which check failed). */
export function authFailure(reason: AuthFailureReason, reply?: Uint8Array): IbakeError {
  return new IbakeError('IBAKE_AUTH_FAILED', 'authentication failed', reply ? { reason, reply } : { reason });
}
