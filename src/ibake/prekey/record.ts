// Signed one-time prekeys of deferred delivery v2 (DESIGN §3, docs/profile.md §6.4): a user
// signs a BUNDLE of prekeys once (Cha–Cheon, its signing identity for the bundle's period) over a
// header holding the Merkle root of the prekeys; each prekey travels alone with the header, the
// signature and its Merkle path. A receiver checks the path to the root and the signature over
// the header — and may remember a header it has checked (PrekeyVerifier), so a repeat caller
// of the same user pays only SHA-256 for the next prekey of that bundle. Pure codec + checks.
//
//   header H (53)   = version 0x02 ‖ period "YYYY-MM-DD" (10) ‖ expiry (u64, seconds since
//                     1970-01-01 UTC) ‖ count (u16, 1..MAX_BUNDLE) ‖ Merkle root (32)
//   signed message  = "MIKEY-IBAKE-V02 PREKEY BUNDLE" ‖ 0x00 ‖ len16(URI) ‖ URI ‖ H
//   signer          = the signing identity URI ‖ 0x00 ‖ period ‖ 0x00 ‖ "sign" (docs/ibe.md §8)
//   leaf_i          = SHA-256(0x00 ‖ id (u32, ≥ 1) ‖ P-256 public key (65, SEC1 uncompressed))
//   node            = SHA-256(0x01 ‖ left ‖ right); leaves padded to a power of two with
//                     SHA-256(0x02); depth = ceil(log2 count) (0 for one prekey)
//   record (R_MESSAGE_1, EXT 242) = H ‖ signature U ‖ V (192) ‖ index (u16) ‖ id (u32) ‖
//                     public key (65) ‖ depth × sibling (32), siblings from the leaf up
//   bundle (user → mailbox) = "IBPK" ‖ 0x02 ‖ len16(URI) ‖ URI ‖ H ‖ signature (192) ‖
//                     count × (id (u32) ‖ public key (65))
// The URI is in no record: an initiator checks a record against the user it addressed, never
// against a name the mailbox supplies.
import { createHash } from 'node:crypto';
import { IbakeError } from '../errors.js';
import { checkP256Point, P256_POINT_BYTES } from '../ecdh.js';
import type { IbsPort } from '../ibs-port.js';
import { parseDate, validateUri } from '../../ibe/index.js';

export const PREKEY_VERSION = 2;
export const HEADER_BYTES = 53;
export const SIG_BYTES = 192;
export const MAX_BUNDLE = 1000;
const LEAF_BYTES = 4 + P256_POINT_BYTES;
const DOMAIN = new TextEncoder().encode('MIKEY-IBAKE-V02 PREKEY BUNDLE\u0000');
const MAGIC = new TextEncoder().encode('IBPK');
const EMPTY = sha(Uint8Array.of(2));
const ascii = new TextDecoder('ascii');

/** One prekey's public part. */
export interface Prekey {
  id: number;
  publicKey: Uint8Array;
}

/** The signed header of a bundle. */
export interface BundleHeader {
  /** Start of the signing key's period, YYYY-MM-DD. */
  period: string;
  /** Seconds since 1970-01-01 UTC after which no prekey of the bundle may be used. */
  expiry: number;
  count: number;
  root: Uint8Array;
}

/** A prekey as a mailbox hands it to an initiator. */
export interface PrekeyRecord extends Prekey {
  header: BundleHeader;
  signature: Uint8Array;
  index: number;
  path: Uint8Array[];
  /** The header's octets (what the signature covers, with the URI). */
  headerBytes: Uint8Array;
}

export interface PrekeyBundle {
  uri: string;
  header: BundleHeader;
  signature: Uint8Array;
  prekeys: Prekey[];
}

/** The header's octets of a bundle (what its signature covers, with the URI). */
export const headerBytesOf = (b: PrekeyBundle): Uint8Array => encodeHeader(b.header);

function bad(msg: string, reason = 'format'): IbakeError {
  return new IbakeError('IBAKE_PREKEY_INVALID', msg, { reason });
}

function sha(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v);
  return b;
}

function checkPrekey(p: Prekey): void {
  if (!Number.isInteger(p.id) || p.id < 1 || p.id > 0xffffffff) throw bad('prekey id must be 1..2^32-1');
  if (!(p.publicKey instanceof Uint8Array) || checkP256Point(p.publicKey) !== undefined) throw bad('prekey public key is not a valid P-256 point', 'bad-point');
}

export function leafHash(p: Prekey): Uint8Array {
  checkPrekey(p);
  return sha(Uint8Array.of(0), u32(p.id), p.publicKey);
}

const depthOf = (count: number): number => (count <= 1 ? 0 : Math.ceil(Math.log2(count)));

/** Every level of the tree over the leaves (level 0 = the padded leaves, last = [root]). */
function levels(leaves: Uint8Array[]): Uint8Array[][] {
  const width = 1 << depthOf(leaves.length);
  let level = [...leaves, ...Array.from({ length: width - leaves.length }, () => EMPTY)];
  const out = [level];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha(Uint8Array.of(1), level[i]!, level[i + 1]!));
    out.push((level = next));
  }
  return out;
}

export function merkleRoot(prekeys: Prekey[]): Uint8Array {
  return levels(prekeys.map(leafHash)).at(-1)![0]!;
}

/** The siblings of leaf `index` from the leaf up. */
export function merklePath(prekeys: Prekey[], index: number): Uint8Array[] {
  const ls = levels(prekeys.map(leafHash));
  const path: Uint8Array[] = [];
  for (let d = 0, i = index; d < ls.length - 1; d++, i >>= 1) path.push(ls[d]![i ^ 1]!);
  return path;
}

function rootFromPath(leaf: Uint8Array, index: number, path: Uint8Array[]): Uint8Array {
  let h = leaf;
  for (let d = 0; d < path.length; d++) h = (index >> d) & 1 ? sha(Uint8Array.of(1), path[d]!, h) : sha(Uint8Array.of(1), h, path[d]!);
  return h;
}

function checkHeader(h: BundleHeader): void {
  try {
    parseDate(h.period);
  } catch {
    throw bad('prekey period must be a date YYYY-MM-DD');
  }
  if (!Number.isSafeInteger(h.expiry) || h.expiry < 0) throw bad('prekey expiry must be seconds since 1970');
  if (!Number.isInteger(h.count) || h.count < 1 || h.count > MAX_BUNDLE) throw bad(`a bundle holds 1..${MAX_BUNDLE} prekeys`);
  if (!(h.root instanceof Uint8Array) || h.root.length !== 32) throw bad('Merkle root must be 32 octets');
}

export function encodeHeader(h: BundleHeader): Uint8Array {
  checkHeader(h);
  const out = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(out.buffer);
  out[0] = PREKEY_VERSION;
  out.set(new TextEncoder().encode(h.period), 1);
  dv.setBigUint64(11, BigInt(h.expiry));
  dv.setUint16(19, h.count);
  out.set(h.root, 21);
  return out;
}

export function decodeHeader(b: Uint8Array): BundleHeader {
  if (b.length !== HEADER_BYTES) throw bad(`a prekey bundle header is ${HEADER_BYTES} octets`);
  if (b[0] !== PREKEY_VERSION) throw bad(`prekey version ${b[0]} is not supported`);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const expiry = dv.getBigUint64(11);
  if (expiry > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('prekey expiry out of range');
  const h = { period: ascii.decode(b.subarray(1, 11)), expiry: Number(expiry), count: dv.getUint16(19), root: b.slice(21, 53) };
  checkHeader(h);
  return h;
}

/** The octets a bundle's signature covers (see the header comment). */
export function signedMessage(uri: string, headerBytes: Uint8Array): Uint8Array {
  const u = validateUri(uri);
  const out = new Uint8Array(DOMAIN.length + 2 + u.length + headerBytes.length);
  out.set(DOMAIN, 0);
  new DataView(out.buffer).setUint16(DOMAIN.length, u.length);
  out.set(u, DOMAIN.length + 2);
  out.set(headerBytes, DOMAIN.length + 2 + u.length);
  return out;
}

/** Signs a bundle of new prekeys as `uri` (our own signing key for `period`). */
export async function signBundle(ibs: IbsPort, uri: string, period: string, expiry: number, prekeys: Prekey[]): Promise<PrekeyBundle> {
  const header: BundleHeader = { period, expiry, count: prekeys.length, root: merkleRoot(prekeys) };
  const signature = await ibs.sign(uri, period, signedMessage(uri, encodeHeader(header)));
  return { uri, header, signature, prekeys };
}

export function encodeBundle(b: PrekeyBundle): Uint8Array {
  const u = validateUri(b.uri);
  if (b.prekeys.length !== b.header.count) throw bad('bundle count does not match its prekeys');
  if (!(b.signature instanceof Uint8Array) || b.signature.length !== SIG_BYTES) throw bad('bundle signature must be 192 octets');
  const hb = encodeHeader(b.header);
  const head = MAGIC.length + 1 + 2 + u.length;
  const out = new Uint8Array(head + HEADER_BYTES + SIG_BYTES + b.prekeys.length * LEAF_BYTES);
  out.set(MAGIC, 0);
  out[4] = PREKEY_VERSION;
  new DataView(out.buffer).setUint16(5, u.length);
  out.set(u, 7);
  out.set(hb, head);
  out.set(b.signature, head + HEADER_BYTES);
  b.prekeys.forEach((p, i) => {
    checkPrekey(p);
    const at = head + HEADER_BYTES + SIG_BYTES + i * LEAF_BYTES;
    out.set(u32(p.id), at);
    out.set(p.publicKey, at + 4);
  });
  return out;
}

/** Decodes a bundle and checks its shape (ids distinct, the root matches the prekeys); not the signature. */
export function decodeBundle(b: Uint8Array): PrekeyBundle {
  if (!(b instanceof Uint8Array) || b.length < 9) throw bad('bundle too short');
  if (!MAGIC.every((x, i) => b[i] === x) || b[4] !== PREKEY_VERSION) throw bad('not a version-2 prekey bundle (IBPK 02)');
  const ul = new DataView(b.buffer, b.byteOffset, b.length).getUint16(5);
  const head = 7 + ul;
  if (b.length < head + HEADER_BYTES + SIG_BYTES) throw bad('bundle too short');
  let uri: string;
  try {
    uri = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(7, head));
    validateUri(uri);
  } catch {
    throw bad('bundle URI is not a valid identity URI');
  }
  const header = decodeHeader(b.subarray(head, head + HEADER_BYTES));
  const signature = b.slice(head + HEADER_BYTES, head + HEADER_BYTES + SIG_BYTES);
  const start = head + HEADER_BYTES + SIG_BYTES;
  if (b.length !== start + header.count * LEAF_BYTES) throw bad(`bundle length does not match its ${header.count} prekeys`);
  const prekeys: Prekey[] = [];
  const ids = new Set<number>();
  for (let i = 0; i < header.count; i++) {
    const at = start + i * LEAF_BYTES;
    const p = { id: new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0), publicKey: b.slice(at + 4, at + LEAF_BYTES) };
    checkPrekey(p);
    if (ids.has(p.id)) throw bad(`prekey id ${p.id} appears twice in the bundle`, 'reused-id');
    ids.add(p.id);
    prekeys.push(p);
  }
  if (!Buffer.from(merkleRoot(prekeys)).equals(header.root)) throw bad('the bundle\'s prekeys do not match its signed root', 'signature');
  return { uri, header, signature, prekeys };
}

/** Each bundle's tree, built once (a mailbox hands out its prekeys one by one). */
const trees = new WeakMap<PrekeyBundle, Uint8Array[][]>();

/** The record of prekey `index` of a bundle (what travels in R_MESSAGE_1). */
export function recordOf(b: PrekeyBundle, index: number): PrekeyRecord {
  const p = b.prekeys[index];
  if (!p) throw bad('no such prekey in the bundle');
  let ls = trees.get(b);
  if (!ls) trees.set(b, (ls = levels(b.prekeys.map(leafHash))));
  const path: Uint8Array[] = [];
  for (let d = 0, i = index; d < ls.length - 1; d++, i >>= 1) path.push(ls[d]![i ^ 1]!);
  return { ...p, header: b.header, signature: b.signature, index, path, headerBytes: encodeHeader(b.header) };
}

export function encodeRecord(r: PrekeyRecord): Uint8Array {
  checkPrekey(r);
  const hb = encodeHeader(r.header);
  const depth = depthOf(r.header.count);
  if (r.path.length !== depth || r.path.some((s) => s.length !== 32)) throw bad('Merkle path does not match the bundle size');
  const out = new Uint8Array(HEADER_BYTES + SIG_BYTES + 2 + LEAF_BYTES + 32 * depth);
  const dv = new DataView(out.buffer);
  out.set(hb, 0);
  out.set(r.signature, HEADER_BYTES);
  dv.setUint16(HEADER_BYTES + SIG_BYTES, r.index);
  dv.setUint32(HEADER_BYTES + SIG_BYTES + 2, r.id);
  out.set(r.publicKey, HEADER_BYTES + SIG_BYTES + 6);
  r.path.forEach((s, d) => out.set(s, HEADER_BYTES + SIG_BYTES + 2 + LEAF_BYTES + 32 * d));
  return out;
}

export function decodeRecord(b: Uint8Array): PrekeyRecord {
  if (!(b instanceof Uint8Array) || b.length < HEADER_BYTES + SIG_BYTES + 2 + LEAF_BYTES) throw bad('prekey record too short');
  const headerBytes = b.slice(0, HEADER_BYTES);
  const header = decodeHeader(headerBytes);
  const depth = depthOf(header.count);
  if (b.length !== HEADER_BYTES + SIG_BYTES + 2 + LEAF_BYTES + 32 * depth) throw bad('prekey record length does not match its bundle size');
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const index = dv.getUint16(HEADER_BYTES + SIG_BYTES);
  if (index >= header.count) throw bad('prekey index outside the bundle');
  const at = HEADER_BYTES + SIG_BYTES + 6;
  const r: PrekeyRecord = {
    id: dv.getUint32(HEADER_BYTES + SIG_BYTES + 2),
    publicKey: b.slice(at, at + P256_POINT_BYTES),
    header,
    signature: b.slice(HEADER_BYTES, HEADER_BYTES + SIG_BYTES),
    index,
    path: Array.from({ length: depth }, (_, d) => b.slice(at + P256_POINT_BYTES + 32 * d, at + P256_POINT_BYTES + 32 * (d + 1))),
    headerBytes,
  };
  checkPrekey(r);
  return r;
}

/** Expiry and period of a header at `nowMs` (reasons 'expired', 'future'). */
export function checkTimes(uri: string, h: BundleHeader, nowMs: number): void {
  if (h.expiry * 1000 <= nowMs) throw bad(`prekeys of ${uri} expired`, 'expired');
  if (Date.parse(`${h.period}T00:00:00Z`) > nowMs) throw bad(`prekeys of ${uri} are signed for a period that has not started`, 'future');
}

/**
 * Checks signed bundle headers of users and remembers the good ones (bounded), so a receiver
 * verifies each bundle's signature once: mailboxes on add, initiators on their first prekey of
 * a bundle. A remembered header still gets its expiry checked every time.
 */
export class PrekeyVerifier {
  readonly #ok = new Map<string, true>();
  constructor(
    readonly ibs: IbsPort,
    private readonly max = 4096,
  ) {}

  /** The header is `uri`'s, signed for its period (IBAKE_PREKEY_INVALID 'signature' otherwise). */
  async header(uri: string, headerBytes: Uint8Array, signature: Uint8Array, h: BundleHeader): Promise<void> {
    const key = `${uri} ${Buffer.from(headerBytes).toString('hex')}`;
    if (this.#ok.has(key)) return;
    if (!(await this.ibs.verify(uri, h.period, signedMessage(uri, headerBytes), signature))) throw bad(`prekey bundle signature is not ${uri}'s`, 'signature');
    if (this.#ok.size >= this.max) this.#ok.delete(this.#ok.keys().next().value!);
    this.#ok.set(key, true);
  }

  /**
   * The checks on a record said to be `uri`'s, at `nowMs`: expiry, period started, the Merkle
   * path to the header's root, and the header's signature by `uri` (IBAKE_PREKEY_INVALID with
   * reason 'expired', 'future' or 'signature').
   */
  async record(uri: string, r: PrekeyRecord, nowMs: number): Promise<void> {
    checkTimes(uri, r.header, nowMs);
    if (!Buffer.from(rootFromPath(leafHash(r), r.index, r.path)).equals(r.header.root)) throw bad(`prekey ${r.id} is not in ${uri}'s signed bundle`, 'signature');
    await this.header(uri, r.headerBytes, r.signature, r.header);
  }
}

const verifiers = new WeakMap<IbsPort, PrekeyVerifier>();
/** The one PrekeyVerifier of an IbsPort (its remembered headers are shared by every user of the port). */
export function verifierFor(ibs: IbsPort): PrekeyVerifier {
  let v = verifiers.get(ibs);
  if (!v) verifiers.set(ibs, (v = new PrekeyVerifier(ibs)));
  return v;
}
