// Key-exchange payload bodies of the other MIKEY modes, decoded so an operator can read any
// trace: PKE (envelope data, RFC 3830 §6.3), DH (Diffie-Hellman data, §6.4; value length
// implied by the OAKLEY group) and SAKKE (RFC 6509 §4.2).
import { Reader, Writer, checkBytes, checkUint } from './bytes.js';
import { MikeyError, encodeError } from './errors.js';
import { decodeKv, encodeKv, kvType } from './key-validity.js';
import type { DhPayload, PkePayload, SakkePayload } from './model.js';
import { DH_LENGTHS } from './registry.js';

export function decodePke(r: Reader): PkePayload {
  const v = r.u16('PKE C/Data len');
  return { kind: 'PKE', c: v >>> 14, data: r.bytes(v & 0x3fff, 'PKE data') };
}
export function encodePke(w: Writer, p: PkePayload): void {
  checkUint(p.c, 3, 'PKE C');
  checkBytes(p.data, 'PKE data', 0x3fff);
  w.u16((p.c << 14) | p.data.length, 'PKE C/Data len');
  w.bytes(p.data, 'PKE data');
}

export function decodeDh(r: Reader): DhPayload {
  const at = r.at;
  const group = r.u8('DH group');
  const n = DH_LENGTHS[group];
  if (n === undefined) throw new MikeyError('MIKEY_BAD_VALUE', at, `unknown DH group ${group} (0 OAKLEY 5, 1 OAKLEY 1, 2 OAKLEY 2)`);
  const value = r.bytes(n, 'DH value');
  const kvAt = r.at;
  const b = r.u8('DH reserved/KV');
  return { kind: 'DH', group, value, reserved: b >>> 4, kv: decodeKv(r, b & 0x0f, kvAt) };
}
export function encodeDh(w: Writer, p: DhPayload): void {
  checkUint(p.group, 255, 'DH group');
  const n = DH_LENGTHS[p.group];
  if (n === undefined) throw encodeError(`DH: unknown group ${p.group}`);
  checkBytes(p.value, 'DH value', n, n);
  const res = p.reserved ?? 0;
  checkUint(res, 15, 'DH reserved');
  w.u8(p.group, 'DH group');
  w.bytes(p.value, 'DH value');
  w.u8((res << 4) | kvType(p.kv, 'DH'), 'DH reserved/KV');
  encodeKv(w, p.kv, 'DH');
}

export function decodeSakke(r: Reader): SakkePayload {
  const params = r.u8('SAKKE params');
  const idScheme = r.u8('SAKKE ID scheme');
  const n = r.u16('SAKKE data length');
  return { kind: 'SAKKE', params, idScheme, data: r.bytes(n, 'SAKKE data') };
}
export function encodeSakke(w: Writer, p: SakkePayload): void {
  checkBytes(p.data, 'SAKKE data');
  w.u8(p.params, 'SAKKE params');
  w.u8(p.idScheme, 'SAKKE ID scheme');
  w.u16(p.data.length, 'SAKKE data length');
  w.bytes(p.data, 'SAKKE data');
}
