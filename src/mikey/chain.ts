// Walking payload chains. Each payload names the type of the one after it; the chain ends at
// Next payload = 0 (or after a SIGN, which has no Next field) and must end exactly at the last
// byte. Top-level chains follow the HDR; inner chains are the plaintexts of IBAKE / ESK /
// KEMAC, whose first payload type is implicit (profile OPEN-4: IDR in IBAKE and ESK, Key data
// in a PSK KEMAC). Every iteration consumes at least one byte, so the walk always terminates, and
// the number of payloads is capped (64 per message, 16 per inner chain by default).
import { copyBytes } from '../util/byte-slab.js';
import { Reader, Writer } from './bytes.js';
import { MikeyError, encodeError } from './errors.js';
import type { InnerPayload, Payload, Span } from './model.js';
import { PAYLOAD_NAMES, type PayloadKind } from './registry.js';
import { decodeBody, encodeBody, kindOf, typeOf, type AnyPayload } from './payload.js';

export type InnerKind = InnerPayload['kind'];

/** Payload kinds that may appear directly after the HDR. */
export const TOP_LEVEL_KINDS: ReadonlySet<PayloadKind> = new Set<PayloadKind>([
  'KEMAC', 'PKE', 'DH', 'SIGN', 'T', 'ID', 'CERT', 'CHASH', 'V', 'SP', 'RAND', 'ERR', 'TR', 'IDR',
  'RANDR', 'EXT', 'IBAKE', 'ESK', 'SAKKE',
]);
/** Sub-payload kinds that may appear inside ciphertext plaintexts. */
export const INNER_KINDS: ReadonlySet<InnerKind> = new Set<InnerKind>(['IDR', 'ID', 'ECCPT', 'SK', 'KEY', 'RANDR', 'EXT']);
const SUB_ONLY = new Set<string>(['KEY', 'SK', 'ECCPT']);

function rejectType(type: number, at: number, where: string): never {
  const kind = kindOf(type);
  if (kind && SUB_ONLY.has(kind)) {
    throw new MikeyError('MIKEY_UNKNOWN_PAYLOAD', at, `${PAYLOAD_NAMES[type]} (${type}) is a sub-payload and cannot appear ${where}`);
  }
  const name = PAYLOAD_NAMES[type];
  throw new MikeyError(
    'MIKEY_UNKNOWN_PAYLOAD',
    at,
    name ? `payload type ${type} (${name}) is not supported ${where}` : `unknown payload type ${type} ${where}`,
  );
}

/**
 * Decodes a chain whose first payload type is `first` (announced by the field at `firstAt`).
 * Offsets in the result are absolute (relative to the outermost buffer of `r`).
 */
export function decodeChain(
  r: Reader,
  first: number,
  firstAt: number,
  allowed: ReadonlySet<string>,
  where: string,
  maxPayloads: number,
): (AnyPayload & Required<Span>)[] {
  const out: (AnyPayload & Required<Span>)[] = [];
  let next = first;
  let nextAt = firstAt;
  while (next !== 0) {
    if (out.length >= maxPayloads) {
      throw new MikeyError('MIKEY_LIMIT', nextAt, `more than ${maxPayloads} payloads ${where}`);
    }
    const kind = kindOf(next);
    if (!kind || !allowed.has(kind)) rejectType(next, nextAt, where);
    const start = r.at;
    if (kind === 'SIGN') {
      const p = decodeBody('SIGN', r) as AnyPayload & Required<Span>;
      p.offset = start;
      p.length = r.at - start;
      out.push(p);
      break; // SIGN has no Next payload field: it always ends the chain
    }
    const nb = r.u8(`${kind} next payload`);
    const p = decodeBody(kind, r) as AnyPayload & Required<Span>;
    p.offset = start;
    p.length = r.at - start;
    out.push(p);
    next = nb;
    nextAt = start;
  }
  if (r.remaining > 0) {
    const end = r.at;
    throw new MikeyError('MIKEY_TRAILING', end, `${r.remaining} byte(s) after the last payload ${where}`);
  }
  return out;
}

/** Encodes a chain; returns the spans of each payload relative to the writer start. */
export function encodeChain(w: Writer, payloads: readonly AnyPayload[], allowed: ReadonlySet<string>, where: string): { offset: number; length: number }[] {
  if (!Array.isArray(payloads)) throw encodeError('payloads must be an array');
  const spans: { offset: number; length: number }[] = [];
  payloads.forEach((p, i) => {
    if (!p || typeof p !== 'object' || !allowed.has(p.kind)) {
      throw encodeError(`payload ${i} (${String(p?.kind)}) is not allowed ${where}`);
    }
    const start = w.length;
    if (p.kind === 'SIGN') {
      if (i !== payloads.length - 1) throw encodeError('SIGN must be the last payload (it has no Next payload field)');
    } else {
      const n = payloads[i + 1];
      w.u8(n ? typeOf(n.kind) : 0, 'next payload');
    }
    encodeBody(w, p);
    spans.push({ offset: start, length: w.length - start });
  });
  return spans;
}

export interface InnerChainOptions {
  /** implicit type of the first sub-payload; default 'IDR' (profile OPEN-4) */
  first?: InnerKind;
  /** kinds accepted in the chain; default IDR, ID, ECCPT, SK, KEY, RANDR, EXT */
  allowed?: readonly InnerKind[];
  /** most sub-payloads accepted (default 16) */
  maxPayloads?: number;
}

/** Default bounds (security.md §3.5 rule 3): payloads per message / sub-payloads per chain. */
export const MAX_PAYLOADS = 64;
export const MAX_INNER_PAYLOADS = 16;

/**
 * Decodes the plaintext of an IBAKE / ESK / KEMAC ciphertext: a chain of sub-payloads whose
 * first type is implicit and whose last Next payload is 0. Offsets are relative to `plain`.
 * An empty plaintext decodes to [].
 */
export function decodeInnerChain(plain: Uint8Array, opts: InnerChainOptions = {}): (InnerPayload & Required<Span>)[] {
  if (!(plain instanceof Uint8Array)) throw new MikeyError('MIKEY_INPUT', -1, 'inner chain must be a Uint8Array');
  const first = opts.first ?? 'IDR';
  const allowed: ReadonlySet<string> = opts.allowed ? new Set<string>(opts.allowed) : INNER_KINDS;
  if (!allowed.has(first)) throw new MikeyError('MIKEY_INPUT', -1, `first kind ${first} is not in the allowed kinds`);
  if (plain.length === 0) return [];
  const r = new Reader(copyBytes(plain)); // decoded fields are views of this private copy
  return decodeChain(r, typeOf(first), 0, allowed, 'in this inner chain', opts.maxPayloads ?? MAX_INNER_PAYLOADS) as (InnerPayload & Required<Span>)[];
}

/** Encodes sub-payloads as an inner chain (the first one's type is not written). */
export function encodeInnerChain(payloads: readonly InnerPayload[], opts: InnerChainOptions = {}): Uint8Array {
  return encodeInner(payloads, opts).result();
}

/** The length encodeInnerChain(payloads, opts) would have, with the same checks, no new array. */
export function innerChainLength(payloads: readonly InnerPayload[], opts: InnerChainOptions = {}): number {
  return encodeInner(payloads, opts).finishLength();
}

function encodeInner(payloads: readonly InnerPayload[], opts: InnerChainOptions): Writer {
  const first = opts.first ?? 'IDR';
  const allowed: ReadonlySet<string> = opts.allowed ? new Set<string>(opts.allowed) : INNER_KINDS;
  if (!Array.isArray(payloads)) throw encodeError('inner payloads must be an array');
  if (payloads.length > 0 && payloads[0]!.kind !== first) {
    throw encodeError(`the first sub-payload must be ${first} (its type is implicit), got ${payloads[0]!.kind}`);
  }
  const w = new Writer();
  encodeChain(w, payloads, allowed, 'in an inner chain');
  return w;
}

export type TopPayload = Payload;
