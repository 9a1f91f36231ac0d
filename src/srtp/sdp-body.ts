// Whole SDP bodies and SIP messages around one MIKEY message (RFC 4567 carriage of MIKEY-IBAKE in
// SIP, docs/integration.md): find the one MIKEY message in an `a=key-mgmt` line, an SDP body or a
// SIP request/response carrying one; and write the minimal SDP offer/answer body (one RTP/SAVP
// m-line, MIKEY at session level) that carries a message. Parsing is the strict reader of
// sdp.ts; the SIP part only splits the start line and headers from the body (Content-Type must
// be application/sdp, Content-Length is honoured).
import { SrtpError } from './errors.js';
import { extractMikey, formatKeyMgmtLine, insertMikey, parseKeyMgmtLine, KEY_MGMT_PREFIX, MIKEY_PRTCL_ID } from './sdp.js';

/** Largest text accepted (the daemon's frame limit is 64 KiB anyway). */
export const MAX_SIGNALLING_TEXT = 65536;

const SIP_START = /^(?:[A-Z]+ \S+ SIP\/2\.0|SIP\/2\.0 [1-6]\d\d(?: .*)?)$/;

export type CarrierKind = 'key-mgmt' | 'sdp' | 'sip';

function syntax(msg: string): never {
  throw new SrtpError('SDP_SYNTAX', msg);
}

/** The SDP body of a SIP message (start line, headers, empty line, body). */
export function sipBody(sip: string): string {
  const eol = sip.includes('\r\n') ? '\r\n' : '\n';
  const split = sip.indexOf(eol + eol);
  if (split < 0) syntax('SIP message has no empty line before a body');
  const head = sip.slice(0, split).split(eol);
  let type: string | undefined;
  let length: number | undefined;
  for (const h of head.slice(1)) {
    const m = /^([A-Za-z0-9!%'*+.^_`|~-]+)[ \t]*:[ \t]*(.*)$/.exec(h);
    if (!m) {
      if (/^[ \t]/.test(h)) continue; // folded header continuation
      syntax('SIP header line without a colon');
    }
    const name = m[1]!.toLowerCase();
    if (name === 'content-type' || name === 'c') type = m[2]!.trim().toLowerCase();
    if (name === 'content-length' || name === 'l') {
      if (!/^\d{1,6}$/.test(m[2]!.trim())) syntax('SIP Content-Length is not a number');
      length = Number(m[2]!.trim());
    }
  }
  if (type === undefined) syntax('SIP message has no Content-Type (expected application/sdp)');
  if (type.split(';')[0]!.trim() !== 'application/sdp') syntax(`SIP body is ${type.slice(0, 60)}, not application/sdp`);
  const rest = Buffer.from(sip.slice(split + 2 * eol.length), 'utf8');
  if (length !== undefined && length > rest.length) syntax(`SIP Content-Length ${length} exceeds the ${rest.length} octets present`);
  return (length === undefined ? rest : rest.subarray(0, length)).toString('utf8');
}

/**
 * The one MIKEY message carried by `text`: an `a=key-mgmt:mikey` line, an SDP body, or a SIP
 * message with an SDP body. Throws SDP_NO_MIKEY when there is none, SDP_DUPLICATE when the body
 * holds two different MIKEY messages (session and media level), SDP_SYNTAX / SDP_BASE64 for
 * malformed input.
 */
export function findMikey(text: string): { message: Uint8Array; carrier: CarrierKind } {
  if (typeof text !== 'string' || text.length === 0) syntax('expected an a=key-mgmt line, an SDP body or a SIP message');
  if (text.length > MAX_SIGNALLING_TEXT) syntax(`text is longer than ${MAX_SIGNALLING_TEXT} characters`);
  const firstEnd = text.search(/\r?\n/);
  const first = firstEnd < 0 ? text : text.slice(0, firstEnd);
  if (first.startsWith(KEY_MGMT_PREFIX)) {
    if (firstEnd >= 0 && text.slice(firstEnd).trim() !== '') syntax('text after the a=key-mgmt line');
    const a = parseKeyMgmtLine(first);
    if (a.prtclId !== MIKEY_PRTCL_ID) throw new SrtpError('SDP_NO_MIKEY', `key management protocol "${a.prtclId}", not mikey`);
    return { message: a.data, carrier: 'key-mgmt' };
  }
  let sdp = text;
  let carrier: CarrierKind = 'sdp';
  if (SIP_START.test(first)) {
    sdp = sipBody(text);
    carrier = 'sip';
  }
  const km = extractMikey(sdp);
  const found = [km.session, ...km.media].filter((m): m is Uint8Array => m !== null);
  if (found.length === 0) throw new SrtpError('SDP_NO_MIKEY', `the ${carrier === 'sip' ? 'SIP message body' : 'SDP body'} has no a=key-mgmt:mikey line`);
  const hex0 = Buffer.from(found[0]!).toString('hex');
  if (found.some((m) => Buffer.from(m).toString('hex') !== hex0)) throw new SrtpError('SDP_DUPLICATE', 'the SDP body carries different MIKEY messages at session and media level');
  return { message: found[0]!, carrier };
}

export interface SdpBodyOptions {
  /** connection address (c= and o=); default 127.0.0.1 */
  addr?: string;
  /** RTP port of the m-line; default 49170 */
  port?: number;
  /** RTP payload type; default 96 */
  payloadType?: number;
  /** a=rtpmap encoding, e.g. "L16/8000"; default "L16/8000" */
  encoding?: string;
  /** media type of the m-line; default audio */
  media?: 'audio' | 'video';
  /** o= session id and version (decimal digits); default 0 */
  sessionId?: string;
  /** o= username; default "-" */
  user?: string;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

function check(cond: boolean, msg: string): void {
  if (!cond) throw new SrtpError('SRTP_INPUT', msg);
}

/**
 * A complete SDP body (CRLF line endings) with `message` as the session-level
 * `a=key-mgmt:mikey` line and one RTP/SAVP m-line. For an offer or an answer alike: the MIKEY
 * message says which it is. `message` null writes the body without a key-mgmt line (the answer
 * to the last message of an exchange, which has no reply).
 */
export function buildSdpBody(message: Uint8Array | null, o: SdpBodyOptions = {}): string {
  const addr = o.addr ?? '127.0.0.1';
  const ipv4 = IPV4.test(addr);
  check(ipv4 || (addr.includes(':') && IPV6.test(addr)), `addr must be an IPv4 or IPv6 address, not ${String(addr).slice(0, 50)}`);
  const port = o.port ?? 49170;
  check(Number.isInteger(port) && port >= 0 && port <= 65535, 'port must be 0..65535');
  const pt = o.payloadType ?? 96;
  check(Number.isInteger(pt) && pt >= 0 && pt <= 127, 'payload type must be 0..127');
  const enc = o.encoding ?? 'L16/8000';
  check(/^[A-Za-z0-9._-]+\/\d+(?:\/\d+)?$/.test(enc), 'encoding must look like NAME/RATE[/CHANNELS]');
  const media = o.media ?? 'audio';
  check(media === 'audio' || media === 'video', 'media must be audio or video');
  const sid = o.sessionId ?? '0';
  check(/^\d{1,20}$/.test(sid), 'session id must be decimal digits');
  const user = o.user ?? '-';
  check(/^[!-~]{1,64}$/.test(user), 'user must be 1..64 visible characters');
  const net = ipv4 ? 'IN IP4' : 'IN IP6';
  return [
    'v=0',
    `o=${user} ${sid} ${sid} ${net} ${addr}`,
    's=-',
    `c=${net} ${addr}`,
    't=0 0',
    ...(message === null ? [] : [formatKeyMgmtLine(message)]),
    `m=${media} ${port} RTP/SAVP ${pt}`,
    `a=rtpmap:${pt} ${enc}`,
    '',
  ].join('\r\n');
}

/** Adds (or replaces) the session-level a=key-mgmt:mikey line of an existing SDP body. */
export function addMikeyToSdp(sdp: string, message: Uint8Array): string {
  return insertMikey(sdp, { session: message });
}
