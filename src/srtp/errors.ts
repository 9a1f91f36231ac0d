// Typed errors of the SRTP layer: key derivation inputs, SP policy mapping and SDP key-mgmt
// parsing each reject bad input with an SrtpError carrying a stable `code`.
import { IbakedError } from '../util/errors.js';

export type SrtpErrorCode =
  | 'SRTP_INPUT' // wrong type, length or range of an argument
  | 'SRTP_POLICY_INVALID' // malformed or self-contradicting SP policy TLVs
  | 'SRTP_POLICY_UNSUPPORTED' // well-formed policy that maps to none of our profiles
  | 'SDP_SYNTAX' // malformed SDP body or a=key-mgmt line
  | 'SDP_BASE64' // keymgmt-data is not canonical base64
  | 'SDP_DUPLICATE' // the same key-management protocol twice at one level, or two different MIKEY messages
  | 'SDP_NO_MIKEY'; // an SDP body / SIP message without an a=key-mgmt:mikey line

export class SrtpError extends IbakedError {
  constructor(code: SrtpErrorCode, message: string) {
    super(code, message);
  }
}
