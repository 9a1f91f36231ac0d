// Whole MIKEY messages: encodeMessage / decodeMessage (HDR + payload chain + shape rules), and
// the MAC helpers the protocol layer needs to authenticate exact bytes: encode with a zeroed MAC
// slot and get its offset, fill the MAC in afterwards, and extract the bytes a MAC covers
// (everything before the MAC value, optionally without the ESK payloads — RFC 6267 §9.3).
import { copyBytes } from '../util/byte-slab.js';
import { Reader, Writer } from './bytes.js';
import { MikeyError, encodeError } from './errors.js';
import { decodeHeader, encodeHeader } from './header.js';
import { MAX_PAYLOADS, TOP_LEVEL_KINDS, decodeChain, decodeInnerChain, encodeChain } from './chain.js';
import { checkShapeDecoded, checkShapeEncode } from './shapes.js';
import type { DecodedMessage, KemacPayload, MikeyMessage, Payload, Span } from './model.js';
import { MAC_LENGTHS } from './registry.js';
import { typeOf } from './payload.js';

export interface DecodeOptions {
  /** check the per-data-type payload grammar (default true) */
  shapes?: boolean;
  /** most top-level payloads accepted (default 64) */
  maxPayloads?: number;
}

/** Largest message accepted (the daemon's IPC frames are at most 64 KiB too). */
export const MAX_MESSAGE_BYTES = 65536;

/** Decodes one MIKEY message. Throws MikeyError (with code and byte offset) on any defect. */
export function decodeMessage(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedMessage {
  if (!(bytes instanceof Uint8Array)) throw new MikeyError('MIKEY_INPUT', -1, 'message must be a Uint8Array');
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new MikeyError('MIKEY_LIMIT', MAX_MESSAGE_BYTES, `message is ${bytes.length} octets, at most ${MAX_MESSAGE_BYTES} are accepted`);
  }
  const copy = copyBytes(bytes); // decoded fields are views of this private copy
  const r = new Reader(copy);
  const hdrNextAt = 2;
  const { header, next } = decodeHeader(r);
  const payloads = decodeChain(r, next, hdrNextAt, TOP_LEVEL_KINDS, 'at the top level', opts.maxPayloads ?? MAX_PAYLOADS) as (Payload & Required<Span>)[];
  if (opts.shapes !== false) checkShapeDecoded(header, payloads, bytes.length);
  // A NULL-encrypted KEMAC in a pre-shared-key message carries a plaintext Key data chain.
  for (const p of payloads) {
    if (p.kind === 'KEMAC' && p.encrAlg === 0 && header.dataType === 0 && p.encrData.length > 0) {
      try {
        p.plain = decodeInnerChain(p.encrData, { first: 'KEY', allowed: ['KEY'] });
      } catch (e) {
        if (e instanceof MikeyError && e.offset >= 0) {
          // re-base the offset onto the message (encr data starts 4 bytes into the KEMAC)
          throw new MikeyError(e.code, p.offset + 4 + e.offset, `in KEMAC plaintext: ${e.reason}`);
        }
        throw e;
      }
    }
  }
  const msg: DecodedMessage = { bytes: copy, header, payloads };
  const mac = macSlot(payloads);
  if (mac) msg.mac = mac;
  return msg;
}

function macSlot(payloads: readonly (Payload & Required<Span>)[]): { offset: number; length: number } | undefined {
  const last = payloads[payloads.length - 1];
  if (!last) return undefined;
  if (last.kind === 'V') return { offset: last.offset + last.length - last.mac.length, length: last.mac.length };
  if (last.kind === 'KEMAC' && last.macAlg !== 0) {
    return { offset: last.offset + last.length - last.mac.length, length: last.mac.length };
  }
  return undefined;
}

export interface EncodedMessage {
  bytes: Uint8Array;
  /** byte range of each payload, parallel to msg.payloads */
  spans: { offset: number; length: number }[];
  headerLength: number;
  /** byte range of the final V / KEMAC MAC value, if the message ends with one */
  mac?: { offset: number; length: number };
}

/** Encodes a message and reports where everything landed. Validates the model fully. */
export function encodeMessageDetailed(msg: MikeyMessage): EncodedMessage {
  if (!msg || typeof msg !== 'object' || !Array.isArray(msg.payloads)) throw encodeError('message must have header and payloads');
  if (!msg.header || typeof msg.header !== 'object') throw encodeError('message header is required');
  if (msg.payloads.length > MAX_PAYLOADS) throw encodeError(`more than ${MAX_PAYLOADS} payloads`);
  msg.payloads.forEach((p, i) => {
    if (!p || typeof p !== 'object' || typeof p.kind !== 'string') throw encodeError(`payload ${i} must be an object with a kind`);
  });
  const w = new Writer();
  const first = msg.payloads[0];
  encodeHeader(w, msg.header, first ? typeOf(first.kind) : 0); // validates the header
  checkShapeEncode(msg.header, msg.payloads);
  const headerLength = w.length;
  const spans = encodeChain(w, msg.payloads, TOP_LEVEL_KINDS, 'at the top level');
  const bytes = w.result();
  if (bytes.length > MAX_MESSAGE_BYTES) throw encodeError(`message would be ${bytes.length} octets, at most ${MAX_MESSAGE_BYTES}`);
  const out: EncodedMessage = { bytes, spans, headerLength };
  const last = msg.payloads[msg.payloads.length - 1];
  const lastSpan = spans[spans.length - 1];
  if (last && lastSpan && (last.kind === 'V' || (last.kind === 'KEMAC' && last.macAlg !== 0))) {
    out.mac = { offset: lastSpan.offset + lastSpan.length - last.mac.length, length: last.mac.length };
  }
  return out;
}

export function encodeMessage(msg: MikeyMessage): Uint8Array {
  return encodeMessageDetailed(msg).bytes;
}

/**
 * Encodes a message whose final V (or PSK-mode KEMAC) MAC is computed afterwards: the MAC field
 * is written as zeros of the length its algorithm implies (any `mac` given is ignored).
 * Returns the bytes, the MAC offset/length, and `fill(mac)` which writes the MAC in place.
 */
export function encodeWithMacSlot(msg: MikeyMessage): EncodedMessage & {
  mac: { offset: number; length: number };
  fill(mac: Uint8Array): Uint8Array;
} {
  const last = msg?.payloads?.[msg.payloads.length - 1];
  if (!last || (last.kind !== 'V' && last.kind !== 'KEMAC')) {
    throw encodeError('encodeWithMacSlot needs a message whose last payload is V or KEMAC');
  }
  const alg = last.kind === 'V' ? last.authAlg : last.macAlg;
  const n = MAC_LENGTHS[alg];
  if (n === undefined || n === 0) throw encodeError(`MAC alg ${alg} has no MAC field to fill`);
  const payloads = msg.payloads.slice();
  payloads[payloads.length - 1] = { ...last, mac: new Uint8Array(n) } as Payload;
  const enc = encodeMessageDetailed({ header: msg.header, payloads });
  const mac = enc.mac!;
  return {
    ...enc,
    mac,
    fill(value: Uint8Array): Uint8Array {
      if (!(value instanceof Uint8Array) || value.length !== mac.length) {
        throw encodeError(`MAC must be ${mac.length} octets`);
      }
      enc.bytes.set(value, mac.offset);
      return enc.bytes;
    },
  };
}

/**
 * The bytes a message MAC covers: the message up to (excluding) the MAC value of its final V or
 * KEMAC, with the octets of every ESK payload left out when `excludeEsk` (RFC 6267 §9.3; default
 * true). The caller appends the identities (ID Data) itself. Works on encoded or received bytes.
 */
export function macInput(bytes: Uint8Array, opts: { excludeEsk?: boolean } = {}): Uint8Array {
  const m = decodeMessage(bytes);
  if (!m.mac) throw new MikeyError('MIKEY_MISSING', bytes.length, 'message has no final V / KEMAC MAC');
  const excludeEsk = opts.excludeEsk !== false;
  const parts: Uint8Array[] = [];
  let pos = 0;
  if (excludeEsk) {
    for (const p of m.payloads) {
      if (p.kind === 'ESK') {
        parts.push(bytes.subarray(pos, p.offset));
        pos = p.offset + p.length;
      }
    }
  }
  parts.push(bytes.subarray(pos, m.mac.offset));
  return Buffer.concat(parts);
}

/** Convenience: the KEMAC payloads of a message (e.g. to decrypt a REQUEST_KEY_RESP). */
export function kemacsOf(msg: MikeyMessage): KemacPayload[] {
  return msg.payloads.filter((p): p is KemacPayload => p.kind === 'KEMAC');
}
