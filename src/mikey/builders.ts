// Builders for the message shapes of MIKEY-IBAKE (RFC 6267 §4, spec/mikey-ibake.md §10) and the
// RFC 3830 error message. They set the V flag per the RFC (1 in REQUEST_KEY_PSK/PKE, I_MESSAGE_1,
// R_MESSAGE_1, I_MESSAGE_2; 0 in REQUEST_KEY_RESP, R_MESSAGE_2, errors and the CSB-update answer),
// build the RFC 6267 §5.3 CSB-update round trip, copy the header fields
// a response must copy, and order the payloads as the RFC lists them. They return a model; pass
// it to encodeMessage, or to encodeWithMacSlot when a final V MAC is computed afterwards.
import { encodeError } from './errors.js';
import type {
  CertPayload, ChashPayload, CsMap, EskPayload, ExtPayload, IbakePayload, IdrPayload, KemacPayload,
  MikeyHeader, MikeyMessage, Payload, PkePayload, SpPayload, TPayload, VPayload,
} from './model.js';
import { msToNtp64 } from './ntp.js';
import { DataType, IdRole, IdType, MAC_LENGTHS, TsType } from './registry.js';

/** An identity for an IDR payload: a string (URI, UTF-8) or explicit type and bytes. */
export type Identity = string | { idType: number; data: Uint8Array };

export function idr(role: number, id: Identity): IdrPayload {
  if (typeof id === 'string') return { kind: 'IDR', role, idType: IdType.URI, data: new TextEncoder().encode(id) };
  if (!id || !(id.data instanceof Uint8Array)) throw encodeError('identity must be a string or {idType, data}');
  return { kind: 'IDR', role, idType: id.idType, data: id.data };
}

/** NTP seconds between 1900-01-01 and 1970-01-01. */
const NTP_UNIX_OFFSET = 2208988800n;

/** 64-bit NTP timestamp (seconds since 1900 ‖ 32-bit fraction) for a Date (default: now). */
export function ntpTime(date: Date = new Date()): bigint {
  return msToNtp64(date.getTime());
}

/** Date of a 64-bit NTP timestamp (era 0; the seconds field wraps in 2036). */
export function ntpToDate(ntp: bigint): Date {
  const secs = ntp >> 32n;
  const frac = ntp & 0xffffffffn;
  return new Date(Number((secs - NTP_UNIX_OFFSET) * 1000n + ((frac * 1000n) >> 32n)));
}

/** A T payload; a bigint is an NTP-UTC value, a Date is converted, a TPayload is copied. */
export type Timestamp = bigint | Date | TPayload;
export function tPayload(t: Timestamp): TPayload {
  if (typeof t === 'bigint') return { kind: 'T', tsType: TsType.NTP_UTC, value: t };
  if (t instanceof Date) return { kind: 'T', tsType: TsType.NTP_UTC, value: ntpTime(t) };
  if (t && t.kind === 'T') return { kind: 'T', tsType: t.tsType, value: t.value };
  throw encodeError('timestamp must be a bigint, a Date or a T payload');
}

function vPayload(authAlg: number, mac?: Uint8Array): VPayload {
  const n = MAC_LENGTHS[authAlg];
  if (n === undefined) throw encodeError(`unknown auth alg ${authAlg}`);
  return { kind: 'V', authAlg, mac: mac ?? new Uint8Array(n) };
}

/** Header fields a response copies from the message it answers (RFC 6267 §6). */
export function responseHeader(request: MikeyHeader, dataType: number, v: boolean, csMap?: CsMap): MikeyHeader {
  return { dataType, v, prf: request.prf, csbId: request.csbId, csMap: csMap ?? request.csMap };
}

export interface CommonInit {
  csbId: number;
  /** default: SRTP-ID map with no crypto sessions */
  csMap?: CsMap;
  /** default 0 (MIKEY-1) */
  prf?: number;
}

function initHeader(dataType: number, v: boolean, c: CommonInit): MikeyHeader {
  return { dataType, v, prf: c.prf ?? 0, csbId: c.csbId, csMap: c.csMap ?? { type: 0, entries: [] } };
}

const ibake = (encrData: Uint8Array): IbakePayload => ({ kind: 'IBAKE', encrData });
const esk = (encrData: Uint8Array): EskPayload => ({ kind: 'ESK', encrData });

export interface IMessage1Args extends CommonInit {
  t: Timestamp;
  rand: Uint8Array;
  idri: Identity;
  idrr: Identity;
  /** IBAKE ciphertext */
  ibake: Uint8Array;
  /** optional ESK ciphertext */
  esk?: Uint8Array;
  /** optional SRTP policies (profile OPEN-12: after IDRr) */
  sp?: SpPayload[];
}
/** I_MESSAGE_1 = HDR(V=1), T, RAND, IDRi, IDRr, {SP}, IBAKE, [ESK] */
export function buildIMessage1(a: IMessage1Args): MikeyMessage {
  const payloads: Payload[] = [tPayload(a.t), { kind: 'RAND', rand: a.rand }, idr(IdRole.IDRi, a.idri), idr(IdRole.IDRr, a.idrr), ...(a.sp ?? []), ibake(a.ibake)];
  if (a.esk) payloads.push(esk(a.esk));
  return { header: initHeader(DataType.I_MESSAGE_1, true, a), payloads };
}

export interface RMessage1Args {
  /** header of the I_MESSAGE_1 answered (version, PRF, CSB ID, #CS, map type are copied) */
  request: MikeyHeader;
  /** T copied from the I_MESSAGE_1 */
  t: Timestamp;
  idri: Identity;
  /** R's own identity */
  idrr: Identity;
  ibake: Uint8Array;
  /** map info with the responder's SSRCs filled in (default: copied) */
  csMap?: CsMap;
  sp?: SpPayload[];
}
/** R_MESSAGE_1 = HDR(V=1, copied), T, IDRi, IDRr, {SP}, IBAKE */
export function buildRMessage1(a: RMessage1Args): MikeyMessage {
  return {
    header: responseHeader(a.request, DataType.R_MESSAGE_1, true, a.csMap),
    payloads: [tPayload(a.t), idr(IdRole.IDRi, a.idri), idr(IdRole.IDRr, a.idrr), ...(a.sp ?? []), ibake(a.ibake)],
  };
}

export interface IMessage2Args {
  /** header of the R_MESSAGE_1 (= I_MESSAGE_1's fields, erratum E3) */
  request: MikeyHeader;
  /** a fresh Initiator timestamp */
  t: Timestamp;
  /** the RAND of I_MESSAGE_1 (profile OPEN-7) */
  rand: Uint8Array;
  idri: Identity;
  /** the IDRr received in R_MESSAGE_1 */
  idrr: Identity;
  ibake: Uint8Array;
  esk?: Uint8Array;
  sp?: SpPayload[];
}
/** I_MESSAGE_2 = HDR(V=1), T, RAND, IDRi, IDRr, {SP}, IBAKE, [ESK] */
export function buildIMessage2(a: IMessage2Args): MikeyMessage {
  const payloads: Payload[] = [tPayload(a.t), { kind: 'RAND', rand: a.rand }, idr(IdRole.IDRi, a.idri), idr(IdRole.IDRr, a.idrr), ...(a.sp ?? []), ibake(a.ibake)];
  if (a.esk) payloads.push(esk(a.esk));
  return { header: responseHeader(a.request, DataType.I_MESSAGE_2, true), payloads };
}

export interface RMessage2Args {
  /** header of the I_MESSAGE_2 answered */
  request: MikeyHeader;
  /** T copied from the I_MESSAGE_2 */
  t: Timestamp;
  idri?: Identity;
  idrr?: Identity;
  ibake?: Uint8Array;
  /** pre-encoded content profile: TEKs in a KEMAC */
  kemac?: KemacPayload;
  /** V auth alg, default 1 (HMAC-SHA-1-160) */
  authAlg?: number;
  /** MAC value; default zeros (fill in later, see encodeWithMacSlot) */
  mac?: Uint8Array;
}
/** R_MESSAGE_2 = HDR(V=0, copied), T, [IDRi], [IDRr], [IBAKE], [KEMAC], V */
export function buildRMessage2(a: RMessage2Args): MikeyMessage {
  const payloads: Payload[] = [tPayload(a.t)];
  if (a.idri !== undefined) payloads.push(idr(IdRole.IDRi, a.idri));
  if (a.idrr !== undefined) payloads.push(idr(IdRole.IDRr, a.idrr));
  if (a.ibake) payloads.push(ibake(a.ibake));
  if (a.kemac) payloads.push(a.kemac);
  payloads.push(vPayload(a.authAlg ?? 1, a.mac));
  return { header: responseHeader(a.request, DataType.R_MESSAGE_2, false), payloads };
}

export interface RequestKeyCommon {
  csbId: number;
  prf?: number;
  t: Timestamp;
  rand: Uint8Array;
  /** the user's identities: role 1 (Initiator) or 2 (Responder) and the identity */
  identities: { role: 1 | 2; id: Identity }[];
  kms: Identity;
  kemac?: KemacPayload;
}
const EMPTY_MAP: CsMap = { type: 1, count: 0 };

/** REQUEST_KEY_PSK = HDR(V=1, #CS=0, Empty map), T, RAND, (IDRi/r), IDRkms, [IDRpsk], [KEMAC], V */
export function buildRequestKeyPsk(a: RequestKeyCommon & { psk?: Identity; authAlg?: number; mac?: Uint8Array }): MikeyMessage {
  const payloads: Payload[] = [tPayload(a.t), { kind: 'RAND', rand: a.rand }, ...a.identities.map((x) => idr(x.role, x.id)), idr(IdRole.IDRkms, a.kms)];
  if (a.psk !== undefined) payloads.push(idr(IdRole.IDRpsk, a.psk));
  if (a.kemac) payloads.push(a.kemac);
  payloads.push(vPayload(a.authAlg ?? 1, a.mac));
  return { header: initHeader(DataType.REQUEST_KEY_PSK, true, { csbId: a.csbId, prf: a.prf, csMap: EMPTY_MAP }), payloads };
}

/** REQUEST_KEY_PKE = HDR(V=1, Empty map), T, RAND, (IDRi/r), {CERT}, IDRkms, [KEMAC], [CHASH], PKE, SIGN */
export function buildRequestKeyPke(
  a: RequestKeyCommon & { certs?: CertPayload[]; chash?: ChashPayload; pke: PkePayload; sign: { sType: number; signature: Uint8Array } },
): MikeyMessage {
  const payloads: Payload[] = [tPayload(a.t), { kind: 'RAND', rand: a.rand }, ...a.identities.map((x) => idr(x.role, x.id)), ...(a.certs ?? []), idr(IdRole.IDRkms, a.kms)];
  if (a.kemac) payloads.push(a.kemac);
  if (a.chash) payloads.push(a.chash);
  payloads.push(a.pke, { kind: 'SIGN', sType: a.sign.sType, signature: a.sign.signature });
  return { header: initHeader(DataType.REQUEST_KEY_PKE, true, { csbId: a.csbId, prf: a.prf, csMap: EMPTY_MAP }), payloads };
}

export interface RequestKeyRespArgs {
  request: MikeyHeader;
  /** T copied from the request */
  t: Timestamp;
  identities?: { role: 1 | 2; id: Identity }[];
  kms?: Identity;
  kemac: KemacPayload;
  authAlg?: number;
  mac?: Uint8Array;
}
/** REQUEST_KEY_RESP = HDR(V=0, copied), T, [IDRi/r], [IDRkms], KEMAC, V */
export function buildRequestKeyResp(a: RequestKeyRespArgs): MikeyMessage {
  const payloads: Payload[] = [tPayload(a.t), ...(a.identities ?? []).map((x) => idr(x.role, x.id))];
  if (a.kms !== undefined) payloads.push(idr(IdRole.IDRkms, a.kms));
  payloads.push(a.kemac, vPayload(a.authAlg ?? 1, a.mac));
  return { header: responseHeader(a.request, DataType.REQUEST_KEY_RESP, false), payloads };
}

export interface ErrorMessageArgs {
  /** header of the offending message (version, PRF, CSB ID copied; RFC 6043 §5.4) */
  request: MikeyHeader;
  /** a fresh timestamp */
  t: Timestamp;
  /** error numbers (RFC 3830 §6.12), one ERR payload each */
  errors: number[];
  /** supported policies, when rejecting a policy */
  sp?: SpPayload[];
  /** optional final V (authenticated error) */
  v?: { authAlg: number; mac?: Uint8Array };
  ext?: ExtPayload[];
}
/** Error message = HDR(data type 6, V=0), T, {ERR}, {SP}, [V] */
export function buildErrorMessage(a: ErrorMessageArgs): MikeyMessage {
  if (!Array.isArray(a.errors) || a.errors.length === 0) throw encodeError('an error message needs at least one error number');
  const payloads: Payload[] = [tPayload(a.t), ...a.errors.map((errNo) => ({ kind: 'ERR' as const, errNo, reserved: 0 })), ...(a.sp ?? []), ...(a.ext ?? [])];
  if (a.v) payloads.push(vPayload(a.v.authAlg, a.v.mac));
  const csMap: CsMap = a.sp && a.sp.length > 0 ? a.request.csMap.type === 1 ? { type: 0, entries: [] } : a.request.csMap : a.request.csMap;
  return { header: responseHeader(a.request, DataType.ERROR, false, csMap), payloads };
}

export interface UpdateIMessage1Args {
  /** header of the original exchange (CSB ID, PRF, map are kept) */
  original: MikeyHeader;
  /** a fresh timestamp */
  t: Timestamp;
  idri?: Identity;
  idrr?: Identity;
  /** new EC DH values (SHOULD be included) */
  ibake?: Uint8Array;
  /** sent by the original Responder: identities in the order IDRr, IDRi (RFC 6267 §5.3) */
  responderInitiated?: boolean;
  /** updated CS map (new crypto sessions), default: the original one */
  csMap?: CsMap;
}
/** CSB update I_MESSAGE_1 = HDR(V=1, same CSB ID), T, [IDRi], [IDRr], [IBAKE] — no RAND. */
export function buildUpdateIMessage1(a: UpdateIMessage1Args): MikeyMessage {
  const ids: Payload[] = [];
  if (a.idri !== undefined) ids.push(idr(IdRole.IDRi, a.idri));
  if (a.idrr !== undefined) ids.push(idr(IdRole.IDRr, a.idrr));
  if (a.responderInitiated) ids.reverse();
  const payloads: Payload[] = [tPayload(a.t), ...ids];
  if (a.ibake) payloads.push(ibake(a.ibake));
  return { header: responseHeader(a.original, DataType.I_MESSAGE_1, true, a.csMap), payloads };
}

export interface UpdateRMessage1Args {
  /** header of the update I_MESSAGE_1 answered */
  request: MikeyHeader;
  /** T copied from the update I_MESSAGE_1 */
  t: Timestamp;
  idri?: Identity;
  idrr?: Identity;
  ibake?: Uint8Array;
  authAlg?: number;
  mac?: Uint8Array;
}
/** CSB update R_MESSAGE_1 = HDR(V=0, copied), T, [IDRi], [IDRr], [IBAKE], V (one round trip). */
export function buildUpdateRMessage1(a: UpdateRMessage1Args): MikeyMessage {
  const payloads: Payload[] = [tPayload(a.t)];
  if (a.idri !== undefined) payloads.push(idr(IdRole.IDRi, a.idri));
  if (a.idrr !== undefined) payloads.push(idr(IdRole.IDRr, a.idrr));
  if (a.ibake) payloads.push(ibake(a.ibake));
  payloads.push(vPayload(a.authAlg ?? 1, a.mac));
  return { header: responseHeader(a.request, DataType.R_MESSAGE_1, false), payloads };
}
