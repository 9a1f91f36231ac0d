// RFC 4567 `a=key-mgmt:<prtcl-id> <base64>` in SDP: strict parse/format of one attribute, and
// extraction/insertion of the MIKEY message at session and media level of a whole SDP body.
// A media-level key-mgmt attribute overrides the session-level one for that medium. CS IDs: each
// MIKEY message allocates two consecutive CS IDs per m-line it covers (RFC 4567 §7.1), numbered over
// the m-lines it covers in SDP order; odd (2k-1) = Initiator-sent stream, even (2k) = Responder-sent
// (our profile for OPEN-S1). The base64 must be canonical (standard alphabet, "=" padding, zero pad
// bits, no whitespace) so that parse + format reproduces the line byte for byte. The syntax shared
// with the lenient operator-text reader (src/mikey/text.ts) is in src/util/key-mgmt.ts.
import { SrtpError } from './errors.js';
import { decodeStrictBase64 } from '../util/base64.js';
import { KEY_MGMT_PREFIX, KMPID_RE, MIKEY_PRTCL_ID, formatKeyMgmtAttribute } from '../util/key-mgmt.js';

export { KEY_MGMT_PREFIX, MIKEY_PRTCL_ID };
/** Upper bound on a decoded key-management message (MIKEY messages are a few hundred octets). */
export const MAX_KEYMGMT_OCTETS = 65535;

export interface KeyMgmtAttribute {
  /** KMPID, case-sensitive (e.g. "mikey") */
  prtclId: string;
  /** the decoded key-management message */
  data: Uint8Array;
}

function syntax(msg: string): never {
  throw new SrtpError('SDP_SYNTAX', msg);
}

/** Strict base64 decode (RFC 4566 base64: canonical, padded, no line breaks). */
export function decodeBase64Strict(s: string): Uint8Array {
  const r = decodeStrictBase64(s);
  if (!r) throw new SrtpError('SDP_BASE64', 'keymgmt-data is not base64 (standard alphabet, "=" padding, no whitespace)');
  if (!r.canonical) throw new SrtpError('SDP_BASE64', 'keymgmt-data has non-zero padding bits');
  if (r.bytes.length > MAX_KEYMGMT_OCTETS) throw new SrtpError('SDP_BASE64', 'keymgmt-data is too long');
  return r.bytes;
}

/** Parses a key-mgmt-att-value (the text after "a=key-mgmt:"): 0*1SP prtcl-id SP keymgmt-data. */
export function parseKeyMgmtValue(value: string): KeyMgmtAttribute {
  if (typeof value !== 'string') syntax('key-mgmt value must be a string');
  const v = value.startsWith(' ') ? value.slice(1) : value;
  const sp = v.indexOf(' ');
  if (sp <= 0) syntax('key-mgmt value needs "<prtcl-id> <data>"');
  const prtclId = v.slice(0, sp);
  if (!KMPID_RE.test(prtclId)) syntax(`invalid prtcl-id "${prtclId.slice(0, 32)}"`);
  return { prtclId, data: decodeBase64Strict(v.slice(sp + 1)) };
}

/** Parses a whole "a=key-mgmt:..." line (without line terminator). */
export function parseKeyMgmtLine(line: string): KeyMgmtAttribute {
  if (typeof line !== 'string' || !line.startsWith(KEY_MGMT_PREFIX)) syntax('not an a=key-mgmt line');
  return parseKeyMgmtValue(line.slice(KEY_MGMT_PREFIX.length));
}

/** Formats "a=key-mgmt:<prtcl-id> <base64>" (no line terminator). */
export function formatKeyMgmtLine(data: Uint8Array, prtclId: string = MIKEY_PRTCL_ID): string {
  if (!(data instanceof Uint8Array) || data.length === 0 || data.length > MAX_KEYMGMT_OCTETS) {
    throw new SrtpError('SRTP_INPUT', 'key-management data must be 1..65535 octets');
  }
  if (typeof prtclId !== 'string' || !KMPID_RE.test(prtclId)) throw new SrtpError('SRTP_INPUT', 'invalid prtcl-id');
  return formatKeyMgmtAttribute(prtclId, data);
}

// ---------------------------------------------------------------------------------------------
// Whole SDP bodies

interface Section {
  /** index of the first line of the section (v= or m=) */
  start: number;
  /** one past the last line */
  end: number;
  /** attributes found: prtcl-id -> line index + decoded data */
  keyMgmt: Map<string, { line: number; data: Uint8Array }>;
  /** KMPIDs in the order they appear at this level */
  order: string[];
}

interface ParsedSdp {
  lines: string[];
  eol: '\r\n' | '\n';
  trailingEol: boolean;
  session: Section;
  media: Section[];
}

const LINE_RE = /^[a-z]=[^\r\n\0]*$/;

function parseSdp(sdp: string): ParsedSdp {
  if (typeof sdp !== 'string' || sdp.length === 0) syntax('SDP body must be a non-empty string');
  const eol: '\r\n' | '\n' = sdp.includes('\r\n') ? '\r\n' : '\n';
  if (eol === '\r\n' && /\r(?!\n)|(?<!\r)\n/.test(sdp)) syntax('SDP mixes CRLF and bare LF/CR line endings');
  if (eol === '\n' && sdp.includes('\r')) syntax('SDP contains a bare CR');
  const trailingEol = sdp.endsWith(eol);
  const lines = (trailingEol ? sdp.slice(0, -eol.length) : sdp).split(eol);
  if (lines[0] !== 'v=0') syntax('SDP must start with "v=0"');
  const sections: Section[] = [];
  let cur: Section = { start: 0, end: 0, keyMgmt: new Map(), order: [] };
  lines.forEach((l, i) => {
    if (!LINE_RE.test(l)) syntax(`SDP line ${i + 1} is not "<type>=<value>"`);
    if (l.startsWith('m=')) {
      cur.end = i;
      sections.push(cur);
      cur = { start: i, end: 0, keyMgmt: new Map(), order: [] };
    } else if (l.startsWith(KEY_MGMT_PREFIX)) {
      const a = parseKeyMgmtLine(l);
      if (cur.keyMgmt.has(a.prtclId)) throw new SrtpError('SDP_DUPLICATE', `two a=key-mgmt:${a.prtclId} lines at one level`);
      cur.keyMgmt.set(a.prtclId, { line: i, data: a.data });
      cur.order.push(a.prtclId);
    }
  });
  cur.end = lines.length;
  sections.push(cur);
  const [session, ...media] = sections as [Section, ...Section[]];
  return { lines, eol, trailingEol, session, media };
}

export interface SdpKeyMgmt {
  /** MIKEY message at session level, or null */
  session: Uint8Array | null;
  /** media-level MIKEY message per m-line (SDP order), or null */
  media: (Uint8Array | null)[];
  /** KMPIDs offered at session level, in order (for bidding-down checks) */
  sessionProtocols: string[];
  /** KMPIDs offered at each media level, in order */
  mediaProtocols: string[][];
}

/** Extracts every MIKEY message (session and media level) from an SDP body, strictly. */
export function extractMikey(sdp: string): SdpKeyMgmt {
  const p = parseSdp(sdp);
  return {
    session: p.session.keyMgmt.get(MIKEY_PRTCL_ID)?.data ?? null,
    media: p.media.map((m) => m.keyMgmt.get(MIKEY_PRTCL_ID)?.data ?? null),
    sessionProtocols: p.session.order,
    mediaProtocols: p.media.map((m) => m.order),
  };
}

/** Which MIKEY message applies to m-line `mediaIndex`: its own, the session-level one, or none. */
export function effectiveMikey(km: SdpKeyMgmt, mediaIndex: number): { level: 'media' | 'session' | 'none'; data: Uint8Array | null } {
  if (!Number.isInteger(mediaIndex) || mediaIndex < 0 || mediaIndex >= km.media.length) {
    throw new SrtpError('SRTP_INPUT', `no m-line ${mediaIndex}`);
  }
  if (km.mediaProtocols[mediaIndex]!.length > 0) {
    const d = km.media[mediaIndex] ?? null;
    return { level: d ? 'media' : 'none', data: d };
  }
  return km.session ? { level: 'session', data: km.session } : { level: 'none', data: null };
}

/** m-line indices (0-based, SDP order) covered by the session-level MIKEY message. */
export function sessionCoveredMedia(km: SdpKeyMgmt): number[] {
  if (!km.session) return [];
  return km.mediaProtocols.flatMap((protos, i) => (protos.length === 0 ? [i] : []));
}

/** The two CS IDs of the k-th (0-based) m-line a MIKEY message covers. */
export function csIdsForMedia(k: number): { initiator: number; responder: number } {
  if (!Number.isInteger(k) || k < 0 || k > 126) throw new SrtpError('SRTP_INPUT', 'a MIKEY message covers at most 127 m-lines (CS ID is 8 bits)');
  return { initiator: 2 * k + 1, responder: 2 * k + 2 };
}

export interface CsIdAssignment {
  mediaIndex: number;
  /** 'session' or the index of the m-line whose media-level message keys it */
  message: 'session' | number;
  initiator: number;
  responder: number;
}

/** CS IDs of every m-line keyed by MIKEY, per the message that keys it. */
export function csIdAssignments(km: SdpKeyMgmt): CsIdAssignment[] {
  const out: CsIdAssignment[] = [];
  const covered = sessionCoveredMedia(km);
  for (let i = 0; i < km.media.length; i++) {
    const eff = effectiveMikey(km, i);
    if (eff.level === 'media') out.push({ mediaIndex: i, message: i, ...csIdsForMedia(0) });
    else if (eff.level === 'session') out.push({ mediaIndex: i, message: 'session', ...csIdsForMedia(covered.indexOf(i)) });
  }
  return out;
}

export interface MikeyPlacement {
  /** undefined: leave as is; null: remove; bytes: set */
  session?: Uint8Array | null;
  /** per m-line index, same meaning */
  media?: ReadonlyMap<number, Uint8Array | null>;
}

/**
 * Sets/replaces/removes a=key-mgmt:mikey lines. An existing line is replaced in place; a new one is
 * appended at the end of its section (session: before the first m=; media: end of the m-section).
 * Line endings (CRLF or LF) and the final line terminator are preserved.
 */
export function insertMikey(sdp: string, placement: MikeyPlacement): string {
  const p = parseSdp(sdp);
  const edits = new Map<number, string | null>(); // line index -> replacement (null = delete)
  const appends = new Map<number, string>(); // insert before line index
  const apply = (sec: Section, data: Uint8Array | null | undefined): void => {
    if (data === undefined) return;
    const existing = sec.keyMgmt.get(MIKEY_PRTCL_ID);
    if (data === null) {
      if (existing) edits.set(existing.line, null);
    } else if (existing) edits.set(existing.line, formatKeyMgmtLine(data));
    else appends.set(sec.end, formatKeyMgmtLine(data));
  };
  apply(p.session, placement.session);
  for (const [i, d] of placement.media ?? []) {
    const sec = p.media[i];
    if (!sec) throw new SrtpError('SRTP_INPUT', `no m-line ${i}`);
    apply(sec, d);
  }
  const out: string[] = [];
  for (let i = 0; i <= p.lines.length; i++) {
    const add = appends.get(i);
    if (add !== undefined) out.push(add);
    if (i === p.lines.length) break;
    const e = edits.get(i);
    if (e === undefined) out.push(p.lines[i]!);
    else if (e !== null) out.push(e);
  }
  return out.join(p.eol) + (p.trailingEol ? p.eol : '');
}
