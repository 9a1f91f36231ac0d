// The plaintexts inside IBAKE and ESK payloads (RFC 6267 §4.2.2, mikey-ibake.md §7.1, OPEN-4):
// chains of IDR and ECCPT (or SK) sub-payloads, first payload implicitly IDR, last Next = 0.
// Profile v2 appends the clear-field binding (EXT type 241, I_MESSAGE_1 and its echo in
// R_MESSAGE_1) and N_c (RANDR, I_MESSAGE_2 and CSB updates) after the points (binding.ts).
// `readInner` checks the exact shape for the message at hand and returns the fields; any
// deviation is the uniform pre-authentication failure (it is only seen after a decryption).
import { decodeInnerChain, encodeInnerChain, innerChainLength, type InnerPayload } from '../mikey/index.js';
import { authFailure } from './errors.js';
import { BINDING_LEN, CLEAR_BINDING_EXT, NC_LEN } from './binding.js';
import { ECC_CURVE_P256 } from './ecdh.js';
import { ROLE, eccpt, idr, PROFILE } from './wire.js';

export interface InnerFields {
  idi: string;
  idr: string;
  eccpti?: Uint8Array;
  eccptr?: Uint8Array;
  /** the clear-field binding (EXT type 241, 32 octets) */
  bind?: Uint8Array;
  /** N_c (RANDR, 32 octets) and the role of its sender (ROLE.I, or ROLE.R for a responder's update) */
  nc?: Uint8Array;
  ncRole?: number;
  /** deferred delivery v2: the signed prekey record a mailbox hands out (EXT type PREKEY_EXT, R_MESSAGE_1) */
  prekey?: Uint8Array;
}

/** General Extension types of deferred delivery v2 (RFC 3830 private-use range, after 241):
 *  the signed prekey record in R_MESSAGE_1's IBAKE plaintext, and the prekey id in the ESK. */
export const PREKEY_EXT = 242;
export const PREKEY_ID_EXT = 243;

/** IDRi ‖ [ECCPTi] ‖ IDRr ‖ [ECCPTr] ‖ [EXT binding] ‖ [EXT prekey] ‖ [RANDR N_c] (I_MESSAGE_1: ECCPTi and the binding). */
export function writeInner(f: InnerFields): Uint8Array {
  const chain: InnerPayload[] = [idr(ROLE.I, f.idi)];
  if (f.eccpti) chain.push(eccpt(f.eccpti));
  chain.push(idr(ROLE.R, f.idr));
  if (f.eccptr) chain.push(eccpt(f.eccptr));
  if (f.bind) chain.push({ kind: 'EXT', extType: CLEAR_BINDING_EXT, data: f.bind });
  if (f.prekey) chain.push({ kind: 'EXT', extType: PREKEY_EXT, data: f.prekey });
  if (f.nc) chain.push({ kind: 'RANDR', role: f.ncRole ?? ROLE.I, rand: f.nc });
  return encodeInnerChain(chain);
}

/** Stands for a P-256 point a reply echoes before it is known (an uncompressed point's length
 *  and prefix, so the encoding is the real one's but for the point's octets). */
export const ECHOED: Uint8Array = Uint8Array.from({ length: 65 }, (_, i) => (i === 0 ? 4 : 0)); // read only

/** True if `plain` carries exactly `point` at `at` (the octets an early reply echoed). */
export function echoes(plain: Uint8Array, at: number, point: Uint8Array): boolean {
  if (at < 0 || at + point.length > plain.length) return false;
  for (let i = 0; i < point.length; i++) if (plain[at + i] !== point[i]) return false;
  return true;
}

/** ECCPT sub-payload: Next payload (1) ‖ Curve (1) ‖ point ‖ … (payload-ibake.ts). */
const ECCPT_POINT_AT = 2;

/**
 * Where writeInner(f) puts its ECCPTi (`which` = 'i') or ECCPTr ('r') point: the octet offset
 * that IbePort.decryptAndReply's splice names, in a plaintext we expect and in a reply we build.
 */
export function innerPointAt(f: InnerFields, which: 'i' | 'r'): number {
  const before: InnerPayload[] = [idr(ROLE.I, f.idi)];
  if (which === 'r') {
    if (f.eccpti) before.push(eccpt(f.eccpti));
    before.push(idr(ROLE.R, f.idr));
  }
  return innerChainLength(before) + ECCPT_POINT_AT;
}

/** R_MESSAGE_2's optional IBAKE: IDRi ‖ ECCPTi. */
export function writeInnerEcho(idi: string, eccpti: Uint8Array): Uint8Array {
  return encodeInnerChain([idr(ROLE.I, idi), eccpt(eccpti)]);
}

/** ESK plaintext: IDRi ‖ SK (SK Type 1, KV 0). */
export function writeEskPlain(idi: string, sk: Uint8Array): Uint8Array {
  return encodeInnerChain([idr(ROLE.I, idi), { kind: 'SK', skType: 1, key: sk, kv: { type: 0 } }]);
}

const dec = new TextDecoder('utf-8', { fatal: true });
function uri(p: InnerPayload, role: number): string {
  if (p.kind !== 'IDR' || p.role !== role || p.idType !== PROFILE.idType) throw authFailure('inner-format');
  try {
    return dec.decode(p.data);
  } catch {
    throw authFailure('inner-format');
  }
}
function point(p: InnerPayload | undefined): Uint8Array {
  if (!p || p.kind !== 'ECCPT' || p.curve !== ECC_CURVE_P256 || p.kv.type !== 0) throw authFailure('inner-format');
  return p.point;
}
function chain(plain: Uint8Array): InnerPayload[] {
  try {
    return decodeInnerChain(plain);
  } catch {
    throw authFailure('inner-format');
  }
}

/**
 * Parses an IBAKE plaintext of the form IDRi {ECCPT} IDRr {ECCPT} {EXT binding} {RANDR N_c}.
 * `want` says which ECCPTs must / may be there ('yes' / 'no' / 'maybe'), whether the binding
 * must be there, and the role N_c must carry (absent: no N_c). Roles disambiguate (OPEN-4).
 */
export function readInner(plain: Uint8Array, want: { i: 'yes' | 'no' | 'maybe'; r: 'yes' | 'no'; bind?: boolean; nc?: number; prekey?: boolean }): InnerFields {
  const c = chain(plain);
  let k = 0;
  const f: InnerFields = { idi: uri(c[k++]!, ROLE.I), idr: '' };
  if (c[k]?.kind === 'ECCPT') {
    if (want.i === 'no') throw authFailure('inner-format');
    f.eccpti = point(c[k++]);
  } else if (want.i === 'yes') throw authFailure('inner-format');
  if (!c[k]) throw authFailure('inner-format');
  f.idr = uri(c[k++]!, ROLE.R);
  if (want.r === 'yes') f.eccptr = point(c[k++]);
  if (want.bind) {
    const b = c[k++];
    if (b?.kind !== 'EXT' || b.extType !== CLEAR_BINDING_EXT || b.data.length !== BINDING_LEN) throw authFailure('inner-format');
    f.bind = b.data;
  }
  const pk = c[k];
  if (want.prekey && pk?.kind === 'EXT' && pk.extType === PREKEY_EXT) {
    f.prekey = pk.data;
    k++;
  }
  if (want.nc !== undefined) {
    const n = c[k++];
    if (n?.kind !== 'RANDR' || n.role !== want.nc || n.rand.length !== NC_LEN) throw authFailure('inner-format');
    f.nc = n.rand;
    f.ncRole = n.role;
  }
  if (k !== c.length) throw authFailure('inner-format');
  return f;
}

/** R_MESSAGE_2 IBAKE plaintext: IDRi ‖ ECCPTi. */
export function readInnerEcho(plain: Uint8Array): { idi: string; eccpti: Uint8Array } {
  const c = chain(plain);
  if (c.length !== 2) throw authFailure('inner-format');
  return { idi: uri(c[0]!, ROLE.I), eccpti: point(c[1]) };
}

/**
 * Deferred delivery v2's ESK plaintext (docs/profile.md §6.4): IDRi ‖ ECCPT(e_i·P) ‖
 * EXT(PREKEY_ID_EXT, prekey id as 4 octets big-endian). No SK travels: the user derives it from
 * its prekey's private half (prekey/sk.ts).
 */
export function writeEskPlainV2(idi: string, ei: Uint8Array, prekeyId: number): Uint8Array {
  const id = new Uint8Array(4);
  new DataView(id.buffer).setUint32(0, prekeyId >>> 0);
  return encodeInnerChain([idr(ROLE.I, idi), eccpt(ei), { kind: 'EXT', extType: PREKEY_ID_EXT, data: id }]);
}

export type EskContents = { v: 1; idi: string; sk: Uint8Array } | { v: 2; idi: string; ei: Uint8Array; prekeyId: number };

/** Either ESK plaintext: v1 (IDRi ‖ SK: escrowed) or v2 (IDRi ‖ ECCPT ‖ EXT prekey id). */
export function readEsk(plain: Uint8Array): EskContents {
  const c = chain(plain);
  if (c.length === 3) {
    const [i, p, x] = c as [InnerPayload, InnerPayload, InnerPayload];
    if (x.kind !== 'EXT' || x.extType !== PREKEY_ID_EXT || x.data.length !== 4) throw authFailure('esk');
    const prekeyId = new DataView(x.data.buffer, x.data.byteOffset, 4).getUint32(0);
    let idi: string;
    let ei: Uint8Array;
    try {
      idi = uri(i, ROLE.I);
      ei = point(p);
    } catch {
      throw authFailure('esk');
    }
    if (prekeyId === 0) throw authFailure('esk');
    return { v: 2, idi, ei, prekeyId };
  }
  return { v: 1, ...readEskPlain(plain) };
}

/** ESK plaintext: IDRi ‖ SK. */
export function readEskPlain(plain: Uint8Array): { idi: string; sk: Uint8Array } {
  const c = chain(plain);
  if (c.length !== 2) throw authFailure('esk');
  const s = c[1]!;
  if (s.kind !== 'SK' || s.skType !== 1 || s.kv.type !== 0 || s.key.length !== PROFILE.skLen) throw authFailure('esk');
  let idi: string;
  try {
    idi = uri(c[0]!, ROLE.I);
  } catch {
    throw authFailure('esk');
  }
  return { idi, sk: s.key };
}
