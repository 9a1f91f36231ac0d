// RFC 6267 payloads: IBAKE and ESK (Next payload | Encr data len (16) | IBE ciphertext, opaque
// at this layer) and the sub-payloads carried inside their plaintexts: SK (secret key, Key data
// without salt) and ECCPT (EC Diffie-Hellman value). ECCPT has no length field: the SEC1 point
// length follows from the curve and the point's first octet, and the sub-payload is zero-padded
// so the point ends on a 32-bit boundary counted from the sub-payload's first octet (profile,
// OPEN-3): a P-256 uncompressed ECCPT with KV = 0 is 2 + 65 + 1 + 4 = 72 octets.
import { Reader, Writer, checkBytes, checkUint } from './bytes.js';
import { MikeyError, encodeError } from './errors.js';
import { decodeKv, encodeKv, kvType } from './key-validity.js';
import type { EccptPayload, EskPayload, IbakePayload, SkPayload } from './model.js';
import { ECC_CURVES } from './registry.js';

export function decodeEncr(r: Reader, what: 'IBAKE' | 'ESK'): IbakePayload | EskPayload {
  const n = r.u16(`${what} encr data len`);
  return { kind: what, encrData: r.bytes(n, `${what} encr data`) };
}
export function encodeEncr(w: Writer, p: IbakePayload | EskPayload): void {
  checkBytes(p.encrData, `${p.kind} encr data`);
  w.u16(p.encrData.length, `${p.kind} encr data len`);
  w.bytes(p.encrData, `${p.kind} encr data`);
}

export function decodeSk(r: Reader): SkPayload {
  const at = r.at;
  const b = r.u8('SK type/KV');
  const skType = b >>> 4;
  if (skType === 0) throw new MikeyError('MIKEY_BAD_VALUE', at, 'SK type 0 is reserved (1 = SK)');
  const n = r.u16('SK key data len');
  const key = r.bytes(n, 'SK key data');
  return { kind: 'SK', skType, key, kv: decodeKv(r, b & 0x0f, at) };
}
export function encodeSk(w: Writer, p: SkPayload): void {
  checkUint(p.skType, 15, 'SK type');
  if (p.skType === 0) throw encodeError('SK type 0 is reserved');
  checkBytes(p.key, 'SK key data');
  w.u8((p.skType << 4) | kvType(p.kv, 'SK'), 'SK type/KV');
  w.u16(p.key.length, 'SK key data len');
  w.bytes(p.key, 'SK key data');
  encodeKv(w, p.kv, 'SK');
}

/** Length of a SEC1 point encoding for a curve, from its first octet; undefined if invalid. */
export function sec1Length(curve: number, first: number): number | undefined {
  const c = ECC_CURVES[curve];
  if (!c) return undefined;
  if (first === 0x04) return 1 + 2 * c.fieldBytes;
  if (first === 0x02 || first === 0x03) return 1 + c.fieldBytes;
  return undefined;
}

/** Zero octets after the point so that (2 + point length + pad) is a multiple of 4. */
export function eccptPad(pointLen: number): number {
  return (4 - ((2 + pointLen) % 4)) % 4;
}

export function decodeEccpt(r: Reader): EccptPayload {
  const curveAt = r.at;
  const curve = r.u8('ECCPT curve');
  if (!ECC_CURVES[curve]) {
    throw new MikeyError('MIKEY_BAD_VALUE', curveAt, `ECC curve ${curve} has no known point length (1..16 are defined)`);
  }
  const pAt = r.at;
  const first = r.u8('ECCPT point');
  const n = sec1Length(curve, first);
  if (n === undefined) {
    throw new MikeyError('MIKEY_BAD_VALUE', pAt, `ECCPT point starts with 0x${first.toString(16).padStart(2, '0')}, not a SEC1 02/03/04 prefix`);
  }
  r.pos -= 1;
  const point = r.bytes(n, `ECCPT point (${n} octets)`);
  const pad = eccptPad(n);
  const padAt = r.at;
  const padding = r.bytes(pad, 'ECCPT padding');
  if (padding.some((b) => b !== 0)) throw new MikeyError('MIKEY_BAD_VALUE', padAt, 'ECCPT padding is not zero');
  const authAlg = r.u8('ECCPT auth alg');
  const tgkLen = r.u16('ECCPT TGK len');
  const kvAt = r.at;
  const b = r.u8('ECCPT reserved/KV');
  return { kind: 'ECCPT', curve, point, authAlg, tgkLen, reserved: b >>> 4, kv: decodeKv(r, b & 0x0f, kvAt) };
}
export function encodeEccpt(w: Writer, p: EccptPayload): void {
  checkUint(p.curve, 255, 'ECCPT curve');
  checkBytes(p.point, 'ECCPT point', 0xffff, 1);
  const n = sec1Length(p.curve, p.point[0]!);
  if (n === undefined) throw encodeError(`ECCPT: curve ${p.curve} / point prefix 0x${p.point[0]!.toString(16)} not supported`);
  if (n !== p.point.length) throw encodeError(`ECCPT: point must be ${n} octets for curve ${p.curve}, got ${p.point.length}`);
  const res = p.reserved ?? 0;
  checkUint(res, 15, 'ECCPT reserved');
  w.u8(p.curve, 'ECCPT curve');
  w.bytes(p.point, 'ECCPT point');
  w.bytes(new Uint8Array(eccptPad(n)), 'ECCPT padding');
  w.u8(p.authAlg ?? 0, 'ECCPT auth alg');
  w.u16(p.tgkLen ?? 0, 'ECCPT TGK len');
  w.u8((res << 4) | kvType(p.kv, 'ECCPT'), 'ECCPT reserved/KV');
  encodeKv(w, p.kv, 'ECCPT');
}
