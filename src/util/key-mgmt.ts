// RFC 4567 `a=key-mgmt:<prtcl-id> <keymgmt-data>` syntax shared by its two readers, which are
// siblings and cannot import each other: src/mikey/text.ts (lenient operator input for
// `ibake decode`: bare lines, hex, whole SDP bodies) and src/srtp/sdp.ts (strict SDP). Only the
// common part lives here — the attribute prefix, the prtcl-id charset, strict base64 (RFC 4648
// standard alphabet with '=' padding, no whitespace, as RFC 4566 wants it) and formatting; each
// caller keeps its own leniency, limits and typed errors.

export const KEY_MGMT_PREFIX = 'a=key-mgmt:';
export const MIKEY_PRTCL_ID = 'mikey';
/** prtcl-id (KMPID, RFC 4567 §3.1): one or more ASCII letters and digits. */
export const KMPID_RE = /^[A-Za-z0-9]+$/;

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes strict base64, or returns null when `s` is not a non-empty string of it. `canonical`
 * tells whether re-encoding gives `s` back (false when the unused pad bits are not zero).
 */
export function decodeStrictBase64(s: unknown): { bytes: Uint8Array; canonical: boolean } | null {
  if (typeof s !== 'string' || s.length === 0 || !B64_RE.test(s)) return null;
  const buf = Buffer.from(s, 'base64');
  return { bytes: new Uint8Array(buf), canonical: buf.toString('base64') === s };
}

/** "a=key-mgmt:<prtclId> <base64 of data>", no line terminator. Callers validate their inputs. */
export function formatKeyMgmtAttribute(prtclId: string, data: Uint8Array): string {
  return `${KEY_MGMT_PREFIX}${prtclId} ${Buffer.from(data.buffer, data.byteOffset, data.length).toString('base64')}`;
}
