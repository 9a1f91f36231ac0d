// RFC 4567 `a=key-mgmt:<prtcl-id> <keymgmt-data>` syntax shared by its two readers, which are
// siblings and cannot import each other: src/mikey/text.ts (lenient operator input for
// `ibake decode`: bare lines, hex, whole SDP bodies) and src/srtp/sdp.ts (strict SDP). Only the
// common part lives here — the attribute prefix, the prtcl-id charset and formatting (strict
// base64 is ./base64.ts); each caller keeps its own leniency, limits and typed errors.
import { encodeBase64 } from './base64.js';

export const KEY_MGMT_PREFIX = 'a=key-mgmt:';
export const MIKEY_PRTCL_ID = 'mikey';
/** prtcl-id (KMPID, RFC 4567 §3.1): one or more ASCII letters and digits. */
export const KMPID_RE = /^[A-Za-z0-9]+$/;

/** "a=key-mgmt:<prtclId> <base64 of data>", no line terminator. Callers validate their inputs. */
export function formatKeyMgmtAttribute(prtclId: string, data: Uint8Array): string {
  return `${KEY_MGMT_PREFIX}${prtclId} ${encodeBase64(data)}`;
}
