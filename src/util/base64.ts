// Strict base64 (RFC 4648 §4 standard alphabet, '=' padding required, no whitespace, as RFC 4566
// SDP wants it), in one place for every reader of base64 text: MIKEY operator text, SDP
// key-mgmt attributes and the CLI's key/ciphertext arguments. Each caller raises its own typed
// error and decides whether non-canonical input (non-zero pad bits) is acceptable.

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

/**
 * Standard padded base64 of the bytes. Through a wiped copy in Node's buffer pool rather than a
 * Buffer view of `b.buffer`: for a small array (≤ 64 octets, kept inside V8's heap, e.g. an
 * SRTP key) asking for its buffer first moves it to a malloc'ed buffer of its own.
 */
export function encodeBase64(b: Uint8Array): string {
  const c = Buffer.from(b);
  try {
    return c.toString('base64');
  } finally {
    c.fill(0);
  }
}
