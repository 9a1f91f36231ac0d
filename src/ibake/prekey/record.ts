// Signed one-time prekeys of deferred delivery v2 (DESIGN §3, docs/profile.md "Deferred
// delivery v2"): the octets of one signed prekey record and of a bundle of them, the message
// each signature covers, and the checks every receiver (mailbox on add, initiator before use)
// runs. Pure codec + checks over an IbsPort; no storage, no keys held.
//
//   record (280 octets)  = version 0x01 ‖ id (u32, ≥ 1) ‖ period "YYYY-MM-DD" (10) ‖
//                          expiry (u64, seconds since 1970-01-01 UTC) ‖ P-256 public key (65, SEC1
//                          uncompressed) ‖ signature U ‖ V (192)
//   signed message       = "MIKEY-IBAKE-V02 PREKEY" ‖ 0x00 ‖ len16(URI) ‖ URI ‖ record[0, 88)
//   signer               = the Cha–Cheon signing identity URI ‖ 0x00 ‖ period ‖ 0x00 ‖ "sign"
//   bundle               = "IBPK" ‖ 0x01 ‖ len16(URI) ‖ URI ‖ count (u16, 1..MAX_BUNDLE) ‖ count × record
// The URI is not inside the record: an initiator checks a record against the user it
// addressed, never against a name the mailbox supplies.
import { IbakeError } from '../errors.js';
import { checkP256Point, P256_POINT_BYTES } from '../ecdh.js';
import type { IbsPort } from '../ibs-port.js';
import { parseDate, validateUri } from '../../ibe/index.js';

export const RECORD_VERSION = 1;
export const RECORD_BYTES = 280;
export const SIGNED_PART = 88; // version .. public key
export const MAX_BUNDLE = 1000;
const SIG_BYTES = 192;
const DOMAIN = new TextEncoder().encode('MIKEY-IBAKE-V02 PREKEY\u0000');
const MAGIC = new TextEncoder().encode('IBPK');
const ascii = new TextDecoder('ascii');

export interface PrekeyRecord {
  id: number;
  /** Start of the signing key's period, YYYY-MM-DD. */
  period: string;
  /** Seconds since 1970-01-01 UTC after which the prekey must not be used. */
  expiry: number;
  /** P-256 public key, 65 octets SEC1 uncompressed. */
  publicKey: Uint8Array;
  /** Cha–Cheon signature U ‖ V, 192 octets. */
  signature: Uint8Array;
}

export interface PrekeyBundle {
  uri: string;
  records: PrekeyRecord[];
}

function bad(msg: string, reason = 'format'): IbakeError {
  return new IbakeError('IBAKE_PREKEY_INVALID', msg, { reason });
}

function checkFields(r: Omit<PrekeyRecord, 'signature'>): void {
  if (!Number.isInteger(r.id) || r.id < 1 || r.id > 0xffffffff) throw bad('prekey id must be 1..2^32-1');
  try {
    parseDate(r.period);
  } catch {
    throw bad('prekey period must be a date YYYY-MM-DD');
  }
  if (!Number.isSafeInteger(r.expiry) || r.expiry < 0) throw bad('prekey expiry must be seconds since 1970');
  if (!(r.publicKey instanceof Uint8Array) || checkP256Point(r.publicKey) !== undefined) throw bad('prekey public key is not a valid P-256 point', 'bad-point');
}

/** The record's first 88 octets (everything but the signature). */
function signedPart(r: Omit<PrekeyRecord, 'signature'>): Uint8Array {
  checkFields(r);
  const out = new Uint8Array(SIGNED_PART);
  const dv = new DataView(out.buffer);
  out[0] = RECORD_VERSION;
  dv.setUint32(1, r.id);
  out.set(new TextEncoder().encode(r.period), 5);
  dv.setBigUint64(15, BigInt(r.expiry));
  out.set(r.publicKey, 23);
  return out;
}

/** The octets a record's signature covers (see the header). */
export function signedMessage(uri: string, r: Omit<PrekeyRecord, 'signature'>): Uint8Array {
  const u = validateUri(uri);
  const part = signedPart(r);
  const out = new Uint8Array(DOMAIN.length + 2 + u.length + SIGNED_PART);
  out.set(DOMAIN, 0);
  new DataView(out.buffer).setUint16(DOMAIN.length, u.length);
  out.set(u, DOMAIN.length + 2);
  out.set(part, DOMAIN.length + 2 + u.length);
  return out;
}

export function encodeRecord(r: PrekeyRecord): Uint8Array {
  if (!(r.signature instanceof Uint8Array) || r.signature.length !== SIG_BYTES) throw bad('prekey signature must be 192 octets');
  const out = new Uint8Array(RECORD_BYTES);
  out.set(signedPart(r), 0);
  out.set(r.signature, SIGNED_PART);
  return out;
}

export function decodeRecord(b: Uint8Array): PrekeyRecord {
  if (!(b instanceof Uint8Array) || b.length !== RECORD_BYTES) throw bad(`a prekey record is ${RECORD_BYTES} octets`);
  if (b[0] !== RECORD_VERSION) throw bad(`prekey record version ${b[0]} is not supported`);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const expiry = dv.getBigUint64(15);
  if (expiry > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('prekey expiry out of range');
  const r: PrekeyRecord = {
    id: dv.getUint32(1),
    period: ascii.decode(b.subarray(5, 15)),
    expiry: Number(expiry),
    publicKey: b.slice(23, 23 + P256_POINT_BYTES),
    signature: b.slice(SIGNED_PART),
  };
  checkFields(r);
  return r;
}

export function encodeBundle(bundle: PrekeyBundle): Uint8Array {
  const u = validateUri(bundle.uri);
  const n = bundle.records.length;
  if (n < 1 || n > MAX_BUNDLE) throw bad(`a bundle holds 1..${MAX_BUNDLE} prekeys`);
  const head = MAGIC.length + 1 + 2 + u.length + 2;
  const out = new Uint8Array(head + n * RECORD_BYTES);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = RECORD_VERSION;
  dv.setUint16(5, u.length);
  out.set(u, 7);
  dv.setUint16(7 + u.length, n);
  bundle.records.forEach((r, i) => out.set(encodeRecord(r), head + i * RECORD_BYTES));
  return out;
}

export function decodeBundle(b: Uint8Array): PrekeyBundle {
  if (!(b instanceof Uint8Array) || b.length < 9) throw bad('bundle too short');
  if (!MAGIC.every((x, i) => b[i] === x) || b[4] !== RECORD_VERSION) throw bad('not a version-1 prekey bundle (IBPK 01)');
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const ul = dv.getUint16(5);
  if (b.length < 9 + ul) throw bad('bundle too short');
  let uri: string;
  try {
    uri = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(7, 7 + ul));
    validateUri(uri);
  } catch {
    throw bad('bundle URI is not a valid identity URI');
  }
  const n = dv.getUint16(7 + ul);
  const head = 9 + ul;
  if (n < 1 || n > MAX_BUNDLE || b.length !== head + n * RECORD_BYTES) throw bad(`bundle length does not match its ${n} records`);
  const records: PrekeyRecord[] = [];
  const ids = new Set<number>();
  for (let i = 0; i < n; i++) {
    const r = decodeRecord(b.subarray(head + i * RECORD_BYTES, head + (i + 1) * RECORD_BYTES));
    if (ids.has(r.id)) throw bad(`prekey id ${r.id} appears twice in the bundle`, 'reused-id');
    ids.add(r.id);
    records.push(r);
  }
  return { uri, records };
}

/** Signs a new record as `uri` (our own signing key for `period`). */
export async function signRecord(ibs: IbsPort, uri: string, r: Omit<PrekeyRecord, 'signature'>): Promise<PrekeyRecord> {
  const signature = await ibs.sign(uri, r.period, signedMessage(uri, r));
  return { ...r, signature };
}

/**
 * The checks on a record said to be `uri`'s, at time `nowMs`: well-formed, not expired, its
 * period has started, and its signature verifies under `uri`'s signing identity for its
 * period. Throws IBAKE_PREKEY_INVALID with reason 'expired', 'future' or 'signature'.
 */
export async function checkRecord(ibs: IbsPort, uri: string, r: PrekeyRecord, nowMs: number): Promise<void> {
  const msg = signedMessage(uri, r);
  if (r.expiry * 1000 <= nowMs) throw bad(`prekey ${r.id} of ${uri} expired`, 'expired');
  if (Date.parse(`${r.period}T00:00:00Z`) > nowMs) throw bad(`prekey ${r.id} of ${uri} is signed for a period that has not started`, 'future');
  if (!(await ibs.verify(uri, r.period, msg, r.signature))) throw bad(`prekey ${r.id}: signature is not ${uri}'s`, 'signature');
}
