// Typed errors of the MIKEY wire codec. Every rejection names a code, the offset where the
// problem was found (the byte of the buffer being decoded, or for MIKEY_INPUT the character of
// the input text) and a readable reason, so an operator reading a trace or a test asserting on
// rejections never sees an untyped throw.
import { IbakedError } from '../util/errors.js';

export type MikeyErrorCode =
  | 'MIKEY_TRUNCATED' // a field or length runs past the end of the data
  | 'MIKEY_TRAILING' // bytes left after the last payload of the chain
  | 'MIKEY_VERSION' // HDR version is not 1
  | 'MIKEY_UNKNOWN_DATA_TYPE' // HDR data type outside 0..26
  | 'MIKEY_UNKNOWN_PAYLOAD' // a Next payload value we do not know or do not accept here
  | 'MIKEY_ORDER' // payload in a position its message type does not allow
  | 'MIKEY_DUPLICATE' // a payload repeated where only one is allowed
  | 'MIKEY_MISSING' // a payload the message type requires is absent
  | 'MIKEY_BAD_VALUE' // a field value that cannot be decoded (unknown algorithm sizing a field, ...)
  | 'MIKEY_BAD_LENGTH' // a length field inconsistent with its contents
  | 'MIKEY_LIMIT' // more payloads or bytes than the decoder accepts (DoS bound)
  | 'MIKEY_ENCODE' // the message model given to an encoder is invalid
  | 'MIKEY_INPUT'; // text input (base64 / hex / a=key-mgmt line) cannot be read

/** What an offset counts: octets of the decoded buffer, or characters of the input text. */
export type OffsetUnit = 'byte' | 'character';

export class MikeyError extends IbakedError {
  declare readonly code: MikeyErrorCode;
  /** offset of the problem in `unit`s (-1 when not tied to a position) */
  readonly offset: number;
  readonly unit: OffsetUnit;
  constructor(code: MikeyErrorCode, offset: number, message: string, unit: OffsetUnit = 'byte') {
    super(code, offset >= 0 ? `${message} (at ${unit} ${offset})` : message);
    this.offset = offset;
    this.unit = unit;
  }
  /** The message without the " (at byte N)" suffix. */
  get reason(): string {
    return this.offset >= 0 ? this.message.replace(/ \(at (?:byte|character) \d+\)$/, '') : this.message;
  }
}

export function encodeError(message: string): MikeyError {
  return new MikeyError('MIKEY_ENCODE', -1, message);
}
