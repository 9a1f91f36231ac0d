// Reading a MIKEY message given as text, as an operator pastes it from a SIP trace: base64
// (standard alphabet, '=' padding required, RFC 4566), hex (optionally with spaces/colons), or a
// whole SDP `a=key-mgmt:mikey <base64>` line (RFC 4567; the `a=` and the space after the colon
// are optional). Also writes the key-mgmt line for a message. The syntax shared with the strict
// SDP reader (src/srtp/sdp.ts) is in src/util/key-mgmt.ts. Every MIKEY_INPUT error carries the
// character offset in the given text where reading failed (0 for empty input).
import { MikeyError } from './errors.js';
import { decodeStrictBase64 } from '../util/base64.js';
import { MIKEY_PRTCL_ID, formatKeyMgmtAttribute } from '../util/key-mgmt.js';

/** Size cap applied before any decoding (security.md §3.5 rule 7): a 64 KiB message as spaced hex. */
export const MAX_TEXT = 3 * 65536 + 4096;
/** Octets of stdin a CLI reads for such text: MAX_TEXT characters take at most 4 octets each in UTF-8. */
export const MAX_STDIN_TEXT = 4 * MAX_TEXT;

export type TextFormat = 'base64' | 'hex' | 'key-mgmt';

const KEY_MGMT = /^\s*(?:a=)?key-mgmt:\s?([A-Za-z0-9]+)\s+(\S+)\s*$/;
const HEX = /^(?:0x)?[0-9a-fA-F]+$/;

const inputError = (at: number, message: string) => new MikeyError('MIKEY_INPUT', at, message, 'character');

/**
 * Where base64 text (whitespace ignored) goes wrong: the first character outside the alphabet,
 * the first data character after '=' padding, or else the end of the data (a wrong length).
 */
function base64FaultAt(s: string): number {
  let padded = false;
  let end = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/\s/.test(c)) continue;
    if (c === '=') padded = true;
    else if (!/[A-Za-z0-9+/]/.test(c) || padded) return i;
    end = i + 1;
  }
  return end;
}

/**
 * Decodes strict base64 (RFC 4648 alphabet with padding); throws MIKEY_INPUT otherwise, at the
 * offending character (plus `at`, the position of `s` in a larger text).
 */
export function decodeBase64Strict(s: string, at = 0): Uint8Array {
  const r = decodeStrictBase64(s);
  if (!r) throw inputError(at + base64FaultAt(s), 'not valid base64 (standard alphabet with = padding)');
  return r.bytes;
}

/** Reads one a=key-mgmt line; `at` is the line's position in a larger text (for error offsets). */
export function parseKeyMgmtLine(line: string, at = 0): { protocol: string; bytes: Uint8Array } {
  const m = KEY_MGMT.exec(line);
  if (!m) throw inputError(at + (line.length - line.trimStart().length), 'not an a=key-mgmt:<protocol> <data> line');
  const data = m[2]!;
  if (m[1] !== MIKEY_PRTCL_ID) throw inputError(at + line.indexOf(m[1]!, line.indexOf('key-mgmt:')), `key management protocol is "${m[1]}", not "mikey"`);
  return { protocol: m[1], bytes: decodeBase64Strict(data, at + line.lastIndexOf(data)) };
}

export function keyMgmtLine(bytes: Uint8Array): string {
  return formatKeyMgmtAttribute(MIKEY_PRTCL_ID, bytes);
}

/**
 * Reads a message from text. Hex is tried first when the text is only hex digits of even length
 * (after removing whitespace/':'), since such text is rarely meant as base64.
 */
export function parseMessageText(text: string): { bytes: Uint8Array; format: TextFormat } {
  if (typeof text !== 'string') throw inputError(0, 'input must be text');
  if (text.length > MAX_TEXT) throw inputError(MAX_TEXT, `input is ${text.length} characters, at most ${MAX_TEXT} are read`);
  const trimmed = text.trim();
  if (trimmed.length === 0) throw inputError(0, 'empty input');
  if (/key-mgmt:/.test(trimmed)) {
    // each line with its position in `text`, for error offsets
    const lines: { line: string; at: number }[] = [];
    for (const m of text.matchAll(/[^\r\n]*/g)) if (/key-mgmt:/.test(m[0])) lines.push({ line: m[0], at: m.index });
    const mikey = lines.filter((l) => /key-mgmt:\s?mikey\b/.test(l.line));
    if (mikey.length === 0) return { ...parseKeyMgmtLine(lines[0]!.line, lines[0]!.at), format: 'key-mgmt' };
    if (mikey.length > 1) throw inputError(mikey[1]!.at, `${mikey.length} a=key-mgmt:mikey lines; give one`);
    return { bytes: parseKeyMgmtLine(mikey[0]!.line, mikey[0]!.at).bytes, format: 'key-mgmt' };
  }
  const compact = trimmed.replace(/[\s:]+/g, '');
  if (HEX.test(compact) && compact.replace(/^0x/, '').length % 2 === 0 && !/[g-zG-Z+/=]/.test(compact.replace(/^0x/, ''))) {
    return { bytes: new Uint8Array(Buffer.from(compact.replace(/^0x/, ''), 'hex')), format: 'hex' };
  }
  const r = decodeStrictBase64(trimmed.replace(/\s+/g, ''));
  if (!r) throw inputError(base64FaultAt(text), 'not valid base64 (standard alphabet with = padding)');
  return { bytes: r.bytes, format: 'base64' };
}
