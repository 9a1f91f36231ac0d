// Dispatch between payload kinds and their Next payload values, body decoders and encoders.
// Top-level payloads and sub-payloads (KEY, SK, ECCPT, and ID/IDR inside ciphertexts) share
// one table; the chain walkers decide which kinds are allowed where.
import { Reader, Writer } from './bytes.js';
import { encodeError } from './errors.js';
import type { InnerPayload, Payload } from './model.js';
import { PayloadType, type PayloadKind } from './registry.js';
import { decodeErr, decodeExt, decodeRand, decodeRandr, decodeT, decodeTr, encodeErr, encodeExt, encodeRand, encodeRandr, encodeT, encodeTr } from './payload-basic.js';
import { decodeCert, decodeId, decodeIdr, encodeCert, encodeId, encodeIdr } from './payload-identity.js';
import { decodeChash, decodeSign, decodeV, encodeChash, encodeSign, encodeV } from './payload-auth.js';
import { decodeDh, decodePke, decodeSakke, encodeDh, encodePke, encodeSakke } from './payload-exchange.js';
import { decodeSp, encodeSp } from './payload-policy.js';
import { decodeKemac, decodeKeyData, encodeKemac, encodeKeyData } from './payload-kemac.js';
import { decodeEccpt, decodeEncr, decodeSk, encodeEccpt, encodeEncr, encodeSk } from './payload-ibake.js';

export type AnyPayload = Payload | InnerPayload;

type Codec = {
  decode: (r: Reader) => AnyPayload;
  encode: (w: Writer, p: never) => void;
};

const CODECS: Record<PayloadKind, Codec> = {
  KEMAC: { decode: decodeKemac, encode: encodeKemac },
  PKE: { decode: decodePke, encode: encodePke },
  DH: { decode: decodeDh, encode: encodeDh },
  SIGN: { decode: decodeSign, encode: encodeSign },
  T: { decode: decodeT, encode: encodeT },
  ID: { decode: decodeId, encode: encodeId },
  CERT: { decode: decodeCert, encode: encodeCert },
  CHASH: { decode: decodeChash, encode: encodeChash },
  V: { decode: decodeV, encode: encodeV },
  SP: { decode: decodeSp, encode: encodeSp },
  RAND: { decode: decodeRand, encode: encodeRand },
  ERR: { decode: decodeErr, encode: encodeErr },
  TR: { decode: decodeTr, encode: encodeTr },
  IDR: { decode: decodeIdr, encode: encodeIdr },
  RANDR: { decode: decodeRandr, encode: encodeRandr },
  KEY: { decode: decodeKeyData, encode: encodeKeyData },
  EXT: { decode: decodeExt, encode: encodeExt },
  IBAKE: { decode: (r) => decodeEncr(r, 'IBAKE'), encode: encodeEncr },
  ESK: { decode: (r) => decodeEncr(r, 'ESK'), encode: encodeEncr },
  SK: { decode: decodeSk, encode: encodeSk },
  ECCPT: { decode: decodeEccpt, encode: encodeEccpt },
  SAKKE: { decode: decodeSakke, encode: encodeSakke },
};

const KIND_BY_TYPE = new Map<number, PayloadKind>(
  (Object.keys(CODECS) as PayloadKind[]).map((k) => [PayloadType[k], k]),
);

/** Kind for a Next payload value, or undefined if we do not decode that type. */
export function kindOf(type: number): PayloadKind | undefined {
  return KIND_BY_TYPE.get(type);
}

export function typeOf(kind: string): number {
  const t = (PayloadType as Record<string, number>)[kind];
  if (t === undefined || !(kind in CODECS)) throw encodeError(`unknown payload kind ${JSON.stringify(kind)}`);
  return t;
}

/** Decodes the body of a payload of `kind` (reader positioned after its Next payload octet). */
export function decodeBody(kind: PayloadKind, r: Reader): AnyPayload {
  return CODECS[kind].decode(r);
}

export function encodeBody(w: Writer, p: AnyPayload): void {
  if (!p || typeof p !== 'object') throw encodeError('payload must be an object');
  typeOf(p.kind);
  (CODECS[p.kind].encode as (w: Writer, p: AnyPayload) => void)(w, p);
}
