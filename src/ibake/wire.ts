// The MIKEY side of the protocol engine: builds and strictly shape-checks MIKEY-IBAKE messages
// on top of the codec (src/mikey), so initiator/responder code deals in typed fields. Every
// decode or shape failure becomes IBAKE_MALFORMED (RFC 6267: silently discard and abort).
// Our profile's constants (docs/profile.md): PRF func 1 (PRF-HMAC-SHA-256), V Auth alg 2
// (HMAC-SHA-256-256), T = NTP-UTC, RAND 16 octets, IDR ID Type 1 (URI), ECCPT curve 8.
import {
  decodeMessage,
  encodeMessage,
  type DecodedMessage,
  type IdrPayload,
  type MikeyMessage,
  type Payload,
  type EccptPayload,
  type CsMap,
  type SrtpIdEntry,
} from '../mikey/index.js';
import { IbakeError } from './errors.js';
import { ECC_CURVE_P256 } from './ecdh.js';
import { bytesU64, u64Bytes } from '../mikey/ntp.js';

export const DT = { ERROR: 6, I_MESSAGE_1: 22, R_MESSAGE_1: 23, I_MESSAGE_2: 24, R_MESSAGE_2: 25 } as const;
export const MESSAGE_NAMES: Record<number, string> = {
  6: 'ERROR',
  22: 'I_MESSAGE_1',
  23: 'R_MESSAGE_1',
  24: 'I_MESSAGE_2',
  25: 'R_MESSAGE_2',
};
export const PROFILE = {
  prf: 1,
  vAuthAlg: 2,
  vMacLen: 32,
  tsType: 0,
  randLen: 16,
  idType: 1,
  /** SK sub-payload type 1 = SK; our SKs are 256 bits. */
  skLen: 32,
} as const;
export const ROLE = { I: 1, R: 2 } as const;
export const ERR = { AUTH_FAILURE: 0, INVALID_TS: 1, INVALID_PRF: 2, INVALID_DH: 6, INVALID_ID: 7, INVALID_SP: 9, INVALID_DT: 11, UNSPECIFIED: 12 } as const;

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: true });

/**
 * The UTF-8 octets of an identity URI, shared and READ-ONLY (encoders copy them): a call
 * encodes the same two or three URIs about a dozen times, and each TextEncoder.encode makes a
 * malloc'ed buffer. Bounded: emptied when it reaches URI_CACHE_MAX entries.
 */
export function uriBytes(uri: string): Uint8Array {
  let b = URI_BYTES.get(uri);
  if (!b) {
    if (URI_BYTES.size >= URI_CACHE_MAX) URI_BYTES.clear();
    b = utf8.encode(uri);
    URI_BYTES.set(uri, b);
  }
  return b;
}
const URI_CACHE_MAX = 4096;
const URI_BYTES = new Map<string, Uint8Array>();

export function idr(role: number, uri: string): IdrPayload {
  return { kind: 'IDR', role, idType: PROFILE.idType, data: uriBytes(uri) };
}
export function eccpt(point: Uint8Array): EccptPayload {
  return { kind: 'ECCPT', curve: ECC_CURVE_P256, point, authAlg: 0, tgkLen: 0, reserved: 0, kv: { type: 0 } };
}
export function uriOf(p: { idType: number; data: Uint8Array }): string {
  if (p.idType !== PROFILE.idType) throw malformed('identity is not of ID Type URI');
  let uri: string;
  try {
    uri = utf8d.decode(p.data);
  } catch {
    throw malformed('identity is not UTF-8');
  }
  // The same rules as the IBE identity string (src/ibe/identity.ts): non-empty, no NUL, ≤ 512 octets.
  if (p.data.length === 0 || p.data.length > 512 || uri.includes('\0')) throw malformed('identity is not an acceptable URI');
  return uri;
}
/** The T payload's 64-bit value <-> its 8 octets (src/mikey/ntp.ts). */
export const ntpToBig = bytesU64;
export const bigToNtp = u64Bytes;

export function malformed(what: string): IbakeError {
  return new IbakeError('IBAKE_MALFORMED', `malformed MIKEY-IBAKE message: ${what}`);
}

/** Decodes with the strict codec; any codec error becomes IBAKE_MALFORMED. */
export function decode(bytes: Uint8Array): DecodedMessage {
  if (!(bytes instanceof Uint8Array)) throw new IbakeError('IBAKE_BAD_INPUT', 'message must be a Uint8Array');
  try {
    return decodeMessage(bytes);
  } catch (e) {
    throw malformed((e as Error).message);
  }
}

export function encode(msg: MikeyMessage): Uint8Array {
  return encodeMessage(msg);
}

/**
 * Matches the payload list against a pattern like ['T','RAND','IDR','IDR','SP*','IBAKE','ESK?']
 * ('?' = optional, '*' = zero or more). Returns the payloads grouped by pattern slot.
 */
export function shape(msg: DecodedMessage, pattern: string[]): Payload[][] {
  const out: Payload[][] = [];
  let i = 0;
  for (const slot of pattern) {
    const opt = slot.endsWith('?');
    const many = slot.endsWith('*');
    const kind = opt || many ? slot.slice(0, -1) : slot;
    const got: Payload[] = [];
    while (i < msg.payloads.length && msg.payloads[i]!.kind === kind) {
      got.push(msg.payloads[i]!);
      i++;
      if (!many) break;
    }
    if (!opt && !many && got.length === 0) throw malformed(`expected ${kind} at payload ${i}`);
    out.push(got);
  }
  if (i !== msg.payloads.length) throw malformed(`unexpected ${msg.payloads[i]!.kind} payload at position ${i}`);
  return out;
}

/** The SRTP-ID map entries of a header (our profile uses CS ID map type 0 only). */
export function srtpMap(msg: DecodedMessage): SrtpIdEntry[] {
  const m: CsMap = msg.header.csMap;
  if (m.type !== 0) throw malformed('CS ID map type must be SRTP-ID (0)');
  return m.entries;
}

/** RFC 3830 Error message: HDR (data type 6, V=0, PRF and CSB ID copied), fresh T, one ERR. */
export function buildErr(prf: number, csbId: number, tNtp: Uint8Array, errNo: number): Uint8Array {
  return encode({
    header: { dataType: DT.ERROR, v: false, prf, csbId, csMap: { type: 0, entries: [] } },
    payloads: [
      { kind: 'T', tsType: PROFILE.tsType, value: ntpToBig(tNtp) },
      { kind: 'ERR', errNo },
    ],
  });
}
