// Reading a MIKEY message given as text, as an operator pastes it from a SIP trace: base64
// (standard alphabet, '=' padding required, RFC 4566), hex (optionally with spaces/colons), or a
// whole SDP `a=key-mgmt:mikey <base64>` line (RFC 4567; the `a=` and the space after the colon
// are optional). Also writes the key-mgmt line for a message. The syntax shared with the strict
// SDP reader (src/srtp/sdp.ts) is in src/util/key-mgmt.ts.
import { MikeyError } from './errors.js';
import { decodeStrictBase64 } from '../util/base64.js';
import { MIKEY_PRTCL_ID, formatKeyMgmtAttribute } from '../util/key-mgmt.js';

/** Size cap applied before any decoding (security.md §3.5 rule 7): a 64 KiB message as spaced hex. */
export const MAX_TEXT = 3 * 65536 + 4096;

export type TextFormat = 'base64' | 'hex' | 'key-mgmt';

const KEY_MGMT = /^\s*(?:a=)?key-mgmt:\s?([A-Za-z0-9]+)\s+(\S+)\s*$/;
const HEX = /^(?:0x)?[0-9a-fA-F]+$/;

/** Decodes strict base64 (RFC 4648 alphabet with padding); throws MIKEY_INPUT otherwise. */
export function decodeBase64Strict(s: string): Uint8Array {
  const r = decodeStrictBase64(s);
  if (!r) throw new MikeyError('MIKEY_INPUT', -1, 'not valid base64 (standard alphabet with = padding)');
  return r.bytes;
}

export function parseKeyMgmtLine(line: string): { protocol: string; bytes: Uint8Array } {
  const m = KEY_MGMT.exec(line);
  if (!m) throw new MikeyError('MIKEY_INPUT', -1, 'not an a=key-mgmt:<protocol> <data> line');
  if (m[1] !== MIKEY_PRTCL_ID) throw new MikeyError('MIKEY_INPUT', -1, `key management protocol is "${m[1]}", not "mikey"`);
  return { protocol: m[1], bytes: decodeBase64Strict(m[2]!) };
}

export function keyMgmtLine(bytes: Uint8Array): string {
  return formatKeyMgmtAttribute(MIKEY_PRTCL_ID, bytes);
}

/**
 * Reads a message from text. Hex is tried first when the text is only hex digits of even length
 * (after removing whitespace/':'), since such text is rarely meant as base64.
 */
export function parseMessageText(text: string): { bytes: Uint8Array; format: TextFormat } {
  if (typeof text !== 'string') throw new MikeyError('MIKEY_INPUT', -1, 'input must be text');
  if (text.length > MAX_TEXT) throw new MikeyError('MIKEY_INPUT', -1, `input is ${text.length} characters, at most ${MAX_TEXT} are read`);
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new MikeyError('MIKEY_INPUT', -1, 'empty input');
  if (/key-mgmt:/.test(trimmed)) {
    const lines = trimmed.split(/\r?\n/).filter((l) => /key-mgmt:/.test(l));
    const mikey = lines.filter((l) => /key-mgmt:\s?mikey\b/.test(l));
    if (mikey.length === 0) return { ...parseKeyMgmtLine(lines[0]!), format: 'key-mgmt' };
    if (mikey.length > 1) throw new MikeyError('MIKEY_INPUT', -1, `${mikey.length} a=key-mgmt:mikey lines; give one`);
    return { bytes: parseKeyMgmtLine(mikey[0]!).bytes, format: 'key-mgmt' };
  }
  const compact = trimmed.replace(/[\s:]+/g, '');
  if (HEX.test(compact) && compact.replace(/^0x/, '').length % 2 === 0 && !/[g-zG-Z+/=]/.test(compact.replace(/^0x/, ''))) {
    return { bytes: new Uint8Array(Buffer.from(compact.replace(/^0x/, ''), 'hex')), format: 'hex' };
  }
  const b64 = trimmed.replace(/\s+/g, '');
  return { bytes: decodeBase64Strict(b64), format: 'base64' };
}
