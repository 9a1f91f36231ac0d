// The KMS exchange on the wire (RFC 6267 §4.1, our profile of OPEN-8; docs/kms.md):
//   REQUEST_KEY_PSK  = HDR(19, V=1, #CS 0, Empty map), T, RAND, IDRi{1..8}, IDRkms, [IDRpsk], [KEMAC], V
//   REQUEST_KEY_RESP = HDR(21, V=0, copied), T (copied), IDRi{..} (copied), IDRkms, KEMAC, V
//   Error            = HDR(6, V=0, PRF/CSB ID copied), T (fresh), ERR
// Period indication (OPEN-8): the request's optional KEMAC (Encr alg NULL, MAC alg NULL) lists the
// keys wanted as (IDR || Key data Type 7 with an empty key and KV = Interval [VF, VT)); without it
// the KMS issues, for each IDR, the period containing T. The response KEMAC (AES-CM under the
// PSK-derived encr/salt keys, MAC alg NULL) carries (IDR || Key data Type 7 = compressed S_ID,
// KV = Interval [period start, next period start) as 64-bit NTP-UTC values). The V MAC (keys
// from the PSK, RFC 3830 §4.1.4 with the request's CSB ID and RAND) covers each message followed
// by the ID Data of the user identities and of the KMS (RFC 6267 / OPEN-10: no timestamp).
// This module only builds and checks bytes; policy (freshness, authorisation) is the service's.
import type { KeyObject } from 'node:crypto';
import {
  buildErrorMessage, buildRequestKeyPke, buildRequestKeyPsk, buildRequestKeyResp, decodeInnerChain, decodeMessage, encodeInnerChain, encodeMessage,
  encodeWithMacSlot,
} from '../mikey/index.js';
import { deriveMessageKey, KeyConst } from '../mikey/keys.js';
import { macKeyLength, buildVMacInput, macCompute, macVerify } from '../mikey/mac.js';
import { encrKeyLengths, kemacDecrypt, kemacEncrypt, timestamp64 } from '../mikey/kemac-crypto.js';
import type { DecodedMessage, IdrPayload, InnerPayload, KemacPayload, MikeyHeader, MikeyMessage } from '../mikey/model.js';
import { DataType, IdRole, IdType, KeyType, TsType } from '../mikey/registry.js';
import { KmsError } from './errors.js';
import { bytesU64, u64Bytes } from './ntp.js';
import { envelopeEncrypt, newEnvelopeKey, rsaOctets, signData, verifyData, SignType } from './pke.js';

/** Most identities / keys in one request. */
export const MAX_KEYS_PER_REQUEST = 8;
/** RFC 3830 ERR numbers used by the KMS. */
export const Err = { AUTH: 0, TS: 1, PRF: 2, MAC: 3, EA: 4, ID: 7, DT: 11, UNSPECIFIED: 12, UNSUPPORTED_MSG: 13 } as const;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** What an issued key is for: the IBE decryption key S_ID (default) or, for deferred delivery
 * v2, the Cha–Cheon signing key d of the signing identity (src/ibe/bls12381/ibs.ts). */
export type KeyUse = 'decrypt' | 'sign';

export interface WantedKey {
  identity: string;
  /** Default 'decrypt'. A 'sign' key travels as IDR(type 2, URI ‖ 0x00 ‖ "sign") ‖ K_PR. */
  use?: KeyUse;
  /** Interval [from, to) as 64-bit NTP-UTC values. */
  fromNtp: bigint;
  toNtp: bigint;
}

export interface IssuedKey extends WantedKey {
  /** Compressed private key S_ID. */
  key: Uint8Array;
}

export interface KeyRequestSpec {
  csbId: number;
  /** PRF func: 0 MIKEY-1 (default), 1 PRF-HMAC-SHA-256. */
  prf?: number;
  /** V auth alg: 1 HMAC-SHA-1-160 (default), 2 HMAC-SHA-256-256. */
  authAlg?: number;
  /** T payload, NTP-UTC. */
  tNtp: bigint;
  rand: Uint8Array;
  identities: string[];
  kmsId: string;
  /** Name of the PSK (IDRpsk), when it is not identities[0]. */
  pskName?: string;
  /** Specific keys wanted (request KEMAC); omitted = the period containing T for each identity. */
  wanted?: WantedKey[];
}

export interface ParsedKeyRequest {
  message: DecodedMessage;
  csbId: number;
  prf: number;
  tsType: number;
  tNtp: bigint;
  rand: Uint8Array;
  identities: string[];
  kmsId: string;
  pskName: string;
  wanted?: WantedKey[];
  /** V auth alg of the request (PSK) / to use in the response (PKE: 1, HMAC-SHA-1-160). */
  authAlg: number;
  /** How the request is protected: PSK (V MAC) or PKE (envelope key + signature). */
  auth: { kind: 'psk' } | { kind: 'pke'; sType: number; signature: Uint8Array; envelope: Uint8Array; certs: Uint8Array[] };
}

function idText(data: Uint8Array, what: string): string {
  try {
    return fromUtf8.decode(data);
  } catch {
    throw new KmsError('KMS_BAD_REQUEST', `${what} is not UTF-8`, { mikeyError: Err.ID });
  }
}

const idr = (role: number, id: string): IdrPayload => ({ kind: 'IDR', role, idType: IdType.URI, data: utf8.encode(id) });

/** 0x00 ‖ "sign": the suffix of a signing key's IDR in a KEMAC (docs/kms.md §2.5). */
const SIGN_SUFFIX = Uint8Array.of(0x00, 0x73, 0x69, 0x67, 0x6e);

/** The KEMAC IDR of a wanted key: the URI (decryption key), or URI ‖ 0x00 ‖ "sign" as a byte string. */
function kemacIdr(w: WantedKey): IdrPayload {
  if ((w.use ?? 'decrypt') === 'decrypt') return idr(IdRole.IDRi, w.identity);
  const u = utf8.encode(w.identity);
  const data = new Uint8Array(u.length + SIGN_SUFFIX.length);
  data.set(u, 0);
  data.set(SIGN_SUFFIX, u.length);
  return { kind: 'IDR', role: IdRole.IDRi, idType: IdType.BYTE_STRING, data };
}

/** Identity and use of a KEMAC IDR (kemacIdr's inverse; `use` only for a signing key, so a
 * decryption key's entry has the shape it always had); anything else is refused. */
function parseKemacIdr(p: IdrPayload, code: 'KMS_BAD_REQUEST' | 'KMS_BAD_RESPONSE'): { identity: string; use?: 'sign' } {
  if (p.idType === IdType.URI) return { identity: idText(p.data, 'KEMAC identity') };
  const n = p.data.length - SIGN_SUFFIX.length;
  if (p.idType === IdType.BYTE_STRING && n > 0 && SIGN_SUFFIX.every((b, i) => p.data[n + i] === b)) {
    return { identity: idText(p.data.subarray(0, n), 'KEMAC identity'), use: 'sign' };
  }
  throw new KmsError(code, 'KEMAC identity is neither a URI nor URI ‖ 0x00 ‖ "sign"', { mikeyError: Err.ID });
}

/** PSK -> (auth key, encr key, salt key) for the given algorithms (RFC 3830 §4.1.4). */
export function messageKeys(prf: number, psk: Uint8Array, csbId: number, rand: Uint8Array, authAlg: number, encrAlg?: number) {
  const authKey = deriveMessageKey(prf, psk, KeyConst.MSG_AUTH, csbId, rand, macKeyLength(authAlg));
  if (encrAlg === undefined || encrAlg === 0) return { authKey, encrKey: new Uint8Array(0), saltKey: new Uint8Array(0) };
  const l = encrKeyLengths(encrAlg);
  return {
    authKey,
    encrKey: deriveMessageKey(prf, psk, KeyConst.MSG_ENCR, csbId, rand, l.key),
    saltKey: deriveMessageKey(prf, psk, KeyConst.MSG_SALT, csbId, rand, l.salt),
  };
}

/** V MAC identities: the user identities in order, then the KMS (ID Data only). */
function macIdentities(users: readonly string[], kmsId: string): Uint8Array[] {
  return [...users.map((u) => utf8.encode(u)), utf8.encode(kmsId)];
}

/** Encodes `msg` (its last payload a V) and fills in the V MAC. */
function sealWithV(msg: MikeyMessage, authAlg: number, authKey: Uint8Array, ids: Uint8Array[]): Uint8Array {
  const enc = encodeWithMacSlot(msg);
  const tag = macCompute(authAlg, authKey, buildVMacInput({ message: enc.bytes, macOffset: enc.mac.offset, identities: ids }));
  return enc.fill(tag);
}

function checkVMac(m: DecodedMessage, authAlg: number, authKey: Uint8Array, ids: Uint8Array[]): boolean {
  const v = m.payloads[m.payloads.length - 1];
  if (!v || v.kind !== 'V' || !m.mac) return false;
  return macVerify(authAlg, authKey, buildVMacInput({ message: m.bytes, macOffset: m.mac.offset, identities: ids }), v.mac);
}

function tValue(tNtp: bigint): Uint8Array {
  return timestamp64(TsType.NTP_UTC, u64Bytes(tNtp));
}

function wantedChain(wanted: readonly WantedKey[], withKeys?: readonly Uint8Array[]): Uint8Array {
  const chain: InnerPayload[] = [];
  wanted.forEach((w, i) => {
    chain.push(kemacIdr(w));
    chain.push({ kind: 'KEY', keyType: KeyType.K_PR, key: withKeys ? withKeys[i]! : new Uint8Array(0), kv: { type: 2, from: u64Bytes(w.fromNtp), to: u64Bytes(w.toNtp) } });
  });
  return encodeInnerChain(chain, { first: 'IDR', allowed: ['IDR', 'KEY'] });
}

function parseWantedChain(plain: Uint8Array, what: 'request' | 'response'): { identity: string; use?: KeyUse; fromNtp: bigint; toNtp: bigint; key: Uint8Array }[] {
  const code = what === 'request' ? 'KMS_BAD_REQUEST' : 'KMS_BAD_RESPONSE';
  let chain;
  try {
    chain = decodeInnerChain(plain, { first: 'IDR', allowed: ['IDR', 'KEY'] });
  } catch {
    throw new KmsError(code, `KEMAC contents of the ${what} do not decode`, { mikeyError: Err.UNSUPPORTED_MSG });
  }
  if (chain.length === 0 || chain.length % 2 !== 0 || chain.length > 2 * MAX_KEYS_PER_REQUEST) {
    throw new KmsError(code, `KEMAC of the ${what} must hold 1..${MAX_KEYS_PER_REQUEST} (IDR, Key data) pairs`);
  }
  const out = [];
  for (let i = 0; i < chain.length; i += 2) {
    const id = chain[i]!;
    const k = chain[i + 1]!;
    if (id.kind !== 'IDR' || k.kind !== 'KEY' || k.keyType !== KeyType.K_PR || k.kv.type !== 2 || k.kv.from.length !== 8 || k.kv.to.length !== 8) {
      throw new KmsError(code, `KEMAC entry ${i / 2} of the ${what} is not (IDR, K_PR with an 8+8 octet interval)`);
    }
    if (what === 'request' && k.key.length !== 0) throw new KmsError(code, 'a key request must not carry key material');
    const fromNtp = bytesU64(k.kv.from);
    const toNtp = bytesU64(k.kv.to);
    if (toNtp <= fromNtp) throw new KmsError(code, `KEMAC entry ${i / 2}: empty validity interval`);
    out.push({ ...parseKemacIdr(id, code), fromNtp, toNtp, key: k.key });
  }
  return out;
}

// ---- REQUEST_KEY_PSK -------------------------------------------------------------------------

export function encodeKeyRequest(spec: KeyRequestSpec, psk: Uint8Array): Uint8Array {
  const prf = spec.prf ?? 0;
  const authAlg = spec.authAlg ?? 1;
  if (spec.identities.length < 1 || spec.identities.length > MAX_KEYS_PER_REQUEST) {
    throw new KmsError('KMS_CONFIG', `a key request names 1..${MAX_KEYS_PER_REQUEST} identities`);
  }
  const msg = buildRequestKeyPsk({
    csbId: spec.csbId,
    prf,
    t: spec.tNtp,
    rand: spec.rand,
    identities: spec.identities.map((id) => ({ role: IdRole.IDRi, id })),
    kms: spec.kmsId,
    ...(spec.pskName !== undefined && spec.pskName !== spec.identities[0] ? { psk: spec.pskName } : {}),
    ...(spec.wanted && spec.wanted.length > 0
      ? { kemac: { kind: 'KEMAC' as const, encrAlg: 0, encrData: wantedChain(spec.wanted), macAlg: 0, mac: new Uint8Array(0) } }
      : {}),
    authAlg,
  });
  const { authKey } = messageKeys(prf, psk, spec.csbId, spec.rand, authAlg);
  try {
    return sealWithV(msg, authAlg, authKey, macIdentities(spec.identities, spec.kmsId));
  } finally {
    authKey.fill(0);
  }
}

/**
 * Decodes and checks the structure of a REQUEST_KEY_PSK (no MAC check, no policy).
 * Throws KmsError with the RFC 3830 ERR number to answer with.
 */
export function decodeKeyRequest(bytes: Uint8Array): ParsedKeyRequest {
  let m: DecodedMessage;
  try {
    m = decodeMessage(bytes);
  } catch {
    throw new KmsError('KMS_BAD_REQUEST', 'request is not a well-formed MIKEY message', { mikeyError: Err.UNSUPPORTED_MSG });
  }
  const h = m.header;
  if (h.dataType !== DataType.REQUEST_KEY_PSK && h.dataType !== DataType.REQUEST_KEY_PKE) throw new KmsError('KMS_BAD_REQUEST', `data type ${h.dataType} is not a key request`, { mikeyError: Err.DT });
  if (h.prf !== 0 && h.prf !== 1) throw new KmsError('KMS_UNSUPPORTED', `PRF func ${h.prf} is not supported`, { mikeyError: Err.PRF });
  if (h.csMap.type !== 1 || h.csMap.count !== 0) throw new KmsError('KMS_BAD_REQUEST', 'a key request must have #CS = 0 and an Empty CS ID map', { mikeyError: Err.UNSUPPORTED_MSG });
  let t: bigint | undefined;
  let tsType = -1;
  let rand: Uint8Array | undefined;
  let kmsId: string | undefined;
  let pskName: string | undefined;
  let kemac: KemacPayload | undefined;
  let authAlg = -1;
  let envelope: Uint8Array | undefined;
  let sig: { sType: number; signature: Uint8Array } | undefined;
  const certs: Uint8Array[] = [];
  const identities: string[] = [];
  for (const p of m.payloads) {
    switch (p.kind) {
      case 'T':
        t = p.value;
        tsType = p.tsType;
        break;
      case 'RAND':
        rand = p.rand;
        break;
      case 'IDR': {
        if (p.idType !== IdType.URI) throw new KmsError('KMS_BAD_REQUEST', 'identities must be URIs (ID type 1)', { mikeyError: Err.ID });
        const id = idText(p.data, 'IDR');
        if (p.role === IdRole.IDRi || p.role === IdRole.IDRr) identities.push(id);
        else if (p.role === IdRole.IDRkms) kmsId = id;
        else if (p.role === IdRole.IDRpsk) pskName = id;
        break;
      }
      case 'KEMAC':
        kemac = p;
        break;
      case 'V':
        authAlg = p.authAlg;
        break;
      case 'PKE':
        envelope = p.data;
        break;
      case 'SIGN':
        sig = { sType: p.sType, signature: p.signature };
        break;
      case 'CERT':
        if (p.certType === 0) certs.push(p.data);
        break;
      default:
        break; // RFC 6267 §4.1.3: unexpected payloads (e.g. a General Extension) are ignored
    }
  }
  const pke = h.dataType === DataType.REQUEST_KEY_PKE;
  if (pke) authAlg = 1; // the response's V: HMAC-SHA-1-160 under the envelope key
  if (t === undefined || rand === undefined || kmsId === undefined || identities.length === 0 || authAlg < 0 || (pke && (!envelope || !sig))) {
    throw new KmsError('KMS_BAD_REQUEST', 'key request lacks T, RAND, an identity, IDRkms or V (PKE + SIGN)', { mikeyError: Err.UNSUPPORTED_MSG });
  }
  if (tsType !== TsType.NTP_UTC) throw new KmsError('KMS_INVALID_TS', 'only NTP-UTC timestamps are accepted', { mikeyError: Err.TS });
  if (authAlg !== 1 && authAlg !== 2) throw new KmsError('KMS_UNSUPPORTED', `V auth alg ${authAlg} is not supported`, { mikeyError: Err.MAC });
  if (rand.length < 16) throw new KmsError('KMS_BAD_REQUEST', 'RAND must be at least 16 octets', { mikeyError: Err.UNSUPPORTED_MSG });
  if (identities.length > MAX_KEYS_PER_REQUEST) throw new KmsError('KMS_BAD_REQUEST', `at most ${MAX_KEYS_PER_REQUEST} identities per request`, { mikeyError: Err.UNSPECIFIED });
  let wanted: WantedKey[] | undefined;
  if (kemac) {
    if (kemac.encrAlg !== 0 || kemac.macAlg !== 0) {
      throw new KmsError('KMS_UNSUPPORTED', 'the request KEMAC must use Encr alg NULL and MAC alg NULL', { mikeyError: Err.EA });
    }
    wanted = parseWantedChain(kemac.encrData, 'request').map(({ identity, use, fromNtp, toNtp }) => ({ identity, ...(use ? { use } : {}), fromNtp, toNtp }));
  }
  const auth: ParsedKeyRequest['auth'] = pke ? { kind: 'pke', sType: sig!.sType, signature: sig!.signature, envelope: envelope!, certs } : { kind: 'psk' };
  return { message: m, csbId: h.csbId, prf: h.prf, tsType, tNtp: t, rand, identities, kmsId, pskName: pskName ?? identities[0]!, ...(wanted ? { wanted } : {}), authAlg, auth };
}

/** Constant-time check of the request's V MAC with `psk`. */
export function verifyKeyRequest(req: ParsedKeyRequest, psk: Uint8Array): boolean {
  if (req.auth.kind !== 'psk') return false;
  const { authKey } = messageKeys(req.prf, psk, req.csbId, req.rand, req.authAlg);
  try {
    return checkVMac(req.message, req.authAlg, authKey, macIdentities(req.identities, req.kmsId));
  } finally {
    authKey.fill(0);
  }
}

// ---- REQUEST_KEY_PKE -------------------------------------------------------------------------

export interface PkeCredentials {
  /** The KMS's RSA public key (envelope encryption). */
  kmsPublic: KeyObject;
  /** The user's RSA private signing key. */
  signKey: KeyObject;
  /** The user's certificate (DER), sent in a CERT payload when given. */
  certDer?: Uint8Array;
  /** SIGN S type: 0 RSA/PKCS#1 v1.5 (default), 1 RSA/PSS; both with SHA-256. */
  sType?: number;
}

/**
 * REQUEST_KEY_PKE = HDR(20), T, RAND, IDRi{..}, [CERT], IDRkms, [KEMAC], PKE, SIGN. Returns the
 * message and the fresh envelope key (the response is protected with it; zero it when done).
 */
export function encodeKeyRequestPke(spec: Omit<KeyRequestSpec, 'pskName' | 'authAlg'>, cred: PkeCredentials): { bytes: Uint8Array; envKey: Uint8Array } {
  if (spec.identities.length < 1 || spec.identities.length > MAX_KEYS_PER_REQUEST) {
    throw new KmsError('KMS_CONFIG', `a key request names 1..${MAX_KEYS_PER_REQUEST} identities`);
  }
  const sType = cred.sType ?? SignType.RSA_PKCS1_V15;
  const envKey = newEnvelopeKey();
  const sigLen = rsaOctets(cred.signKey);
  const msg = buildRequestKeyPke({
    csbId: spec.csbId,
    prf: spec.prf ?? 0,
    t: spec.tNtp,
    rand: spec.rand,
    identities: spec.identities.map((id) => ({ role: IdRole.IDRi, id })),
    kms: spec.kmsId,
    ...(cred.certDer ? { certs: [{ kind: 'CERT' as const, certType: 0, data: cred.certDer }] } : {}),
    ...(spec.wanted && spec.wanted.length > 0
      ? { kemac: { kind: 'KEMAC' as const, encrAlg: 0, encrData: wantedChain(spec.wanted), macAlg: 0, mac: new Uint8Array(0) } }
      : {}),
    pke: { kind: 'PKE', c: 0, data: envelopeEncrypt(cred.kmsPublic, envKey) },
    sign: { sType, signature: new Uint8Array(sigLen) },
  });
  const bytes = encodeMessage(msg);
  bytes.set(signData(sType, cred.signKey, bytes.subarray(0, bytes.length - sigLen)), bytes.length - sigLen);
  return { bytes, envKey };
}

/** Checks the SIGN of a REQUEST_KEY_PKE (over the message up to the signature value). */
export function verifyKeyRequestSignature(req: ParsedKeyRequest, userPublic: KeyObject): boolean {
  if (req.auth.kind !== 'pke') return false;
  const b = req.message.bytes;
  return verifyData(req.auth.sType, userPublic, b.subarray(0, b.length - req.auth.signature.length), req.auth.signature);
}

// ---- REQUEST_KEY_RESP ------------------------------------------------------------------------

export function encodeKeyResponse(req: ParsedKeyRequest, issued: readonly IssuedKey[], psk: Uint8Array, encrAlg = 1): Uint8Array {
  const keys = messageKeys(req.prf, psk, req.csbId, req.rand, req.authAlg, encrAlg);
  const plain = wantedChain(issued, issued.map((k) => k.key));
  try {
    const encrData = kemacEncrypt(encrAlg, keys, { csbId: req.csbId, t: tValue(req.tNtp) }, plain);
    const msg = buildRequestKeyResp({
      request: req.message.header,
      t: req.tNtp,
      identities: req.identities.map((id) => ({ role: IdRole.IDRi, id })),
      kms: req.kmsId,
      kemac: { kind: 'KEMAC', encrAlg, encrData, macAlg: 0, mac: new Uint8Array(0) },
      authAlg: req.authAlg,
    });
    return sealWithV(msg, req.authAlg, keys.authKey, macIdentities(req.identities, req.kmsId));
  } finally {
    plain.fill(0);
    keys.authKey.fill(0);
    keys.encrKey.fill(0);
    keys.saltKey.fill(0);
  }
}

export interface ResponseExpectation {
  csbId: number;
  prf: number;
  authAlg: number;
  tNtp: bigint;
  rand: Uint8Array;
  identities: readonly string[];
  kmsId: string;
}

/**
 * Checks a REQUEST_KEY_RESP against the request it answers (HDR fields, T, identities), verifies
 * its V MAC with the PSK, decrypts the KEMAC and returns the (identity, interval, key) entries.
 */
export function decodeKeyResponse(bytes: Uint8Array, exp: ResponseExpectation, psk: Uint8Array): IssuedKey[] {
  let m: DecodedMessage;
  try {
    m = decodeMessage(bytes);
  } catch {
    throw new KmsError('KMS_BAD_RESPONSE', 'KMS response is not a well-formed MIKEY message');
  }
  const h = m.header;
  if (h.dataType !== DataType.REQUEST_KEY_RESP) throw new KmsError('KMS_BAD_RESPONSE', `KMS answered with data type ${h.dataType}`);
  if (h.csbId !== exp.csbId || h.prf !== exp.prf || h.csMap.type !== 1) throw new KmsError('KMS_BAD_RESPONSE', 'KMS response header does not match the request');
  const t = m.payloads.find((p) => p.kind === 'T');
  if (!t || t.kind !== 'T' || t.tsType !== TsType.NTP_UTC || t.value !== exp.tNtp) throw new KmsError('KMS_BAD_RESPONSE', 'KMS response does not echo the request timestamp');
  const ids = (m.payloads.filter((p) => p.kind === 'IDR') as IdrPayload[]).filter((p) => p.role === IdRole.IDRi || p.role === IdRole.IDRr).map((p) => idText(p.data, 'IDR'));
  if (ids.length !== 0 && (ids.length !== exp.identities.length || ids.some((x, i) => x !== exp.identities[i]))) {
    throw new KmsError('KMS_BAD_RESPONSE', 'KMS response names other identities than requested');
  }
  const kemac = m.payloads.find((p) => p.kind === 'KEMAC') as KemacPayload | undefined;
  const v = m.payloads[m.payloads.length - 1];
  if (!kemac || !v || v.kind !== 'V' || v.authAlg !== exp.authAlg) throw new KmsError('KMS_BAD_RESPONSE', 'KMS response lacks a KEMAC or a matching V payload');
  let keys;
  try {
    keys = messageKeys(exp.prf, psk, exp.csbId, exp.rand, exp.authAlg, kemac.encrAlg);
  } catch {
    throw new KmsError('KMS_BAD_RESPONSE', `KMS response uses an unsupported KEMAC Encr alg ${kemac.encrAlg}`);
  }
  let plain: Uint8Array | undefined;
  try {
    if (!checkVMac(m, exp.authAlg, keys.authKey, macIdentities(exp.identities, exp.kmsId))) {
      throw new KmsError('KMS_BAD_RESPONSE', 'KMS response MAC is invalid (wrong PSK or tampered)');
    }
    if (kemac.encrAlg === 0) throw new KmsError('KMS_BAD_RESPONSE', 'KMS sent private keys unencrypted (KEMAC Encr alg NULL)');
    try {
      plain = kemacDecrypt(kemac.encrAlg, keys, { csbId: exp.csbId, t: tValue(exp.tNtp) }, kemac.encrData);
    } catch {
      throw new KmsError('KMS_BAD_RESPONSE', 'KMS response KEMAC does not decrypt');
    }
    return parseWantedChain(plain, 'response').map((e) => ({ ...e, key: e.key.slice() }));
  } finally {
    plain?.fill(0);
    keys.authKey.fill(0);
    keys.encrKey.fill(0);
    keys.saltKey.fill(0);
  }
}

// ---- Error message ---------------------------------------------------------------------------

/** RFC 3830 Error message: HDR(6, V=0, PRF/CSB ID copied when known), T (now), ERR. */
/** Header used to answer a request too broken to copy fields from. */
const NO_HEADER: MikeyHeader = { dataType: DataType.REQUEST_KEY_PSK, v: true, prf: 0, csbId: 0, csMap: { type: 1, count: 0 } };

/** RFC 3830 Error message: HDR(6, V=0, PRF/CSB ID copied when known), T (now), ERR. */
export function encodeErrorMessage(errNo: number, nowNtp: bigint, request?: MikeyHeader): Uint8Array {
  const h = request ?? NO_HEADER;
  return encodeMessage(buildErrorMessage({ request: { ...h, csMap: { type: 1, count: 0 } }, t: nowNtp, errors: [errNo] }));
}

/** The ERR numbers of an Error message, or undefined if `bytes` is not one. */
export function decodeErrorMessage(bytes: Uint8Array): number[] | undefined {
  try {
    const m = decodeMessage(bytes);
    if (m.header.dataType !== DataType.ERROR) return undefined;
    return m.payloads.flatMap((p) => (p.kind === 'ERR' ? [p.errNo] : []));
  } catch {
    return undefined;
  }
}
