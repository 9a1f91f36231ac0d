// Identity payload bodies: ID and CERT (RFC 3830 §6.7) and IDR, the ID with role (RFC 6043
// §6.6, roles 1–7 including the RFC 6509 KMS roles), which MIKEY-IBAKE uses everywhere.
import { Reader, Writer, checkBytes, checkUint } from './bytes.js';
import { MikeyError, encodeError } from './errors.js';
import type { CertPayload, IdPayload, IdrPayload } from './model.js';
import { ID_ROLE_NAMES, ID_TYPE_NAMES } from './registry.js';

function checkIdType(idType: number, at: number): void {
  if (idType >= ID_TYPE_NAMES.length) {
    throw new MikeyError('MIKEY_BAD_VALUE', at, `unknown ID type ${idType} (0 NAI, 1 URI, 2 byte string)`);
  }
}

export function decodeId(r: Reader): IdPayload {
  const at = r.at;
  const idType = r.u8('ID type');
  checkIdType(idType, at);
  const n = r.u16('ID len');
  return { kind: 'ID', idType, data: r.bytes(n, 'ID data') };
}
export function encodeId(w: Writer, p: IdPayload): void {
  checkUint(p.idType, ID_TYPE_NAMES.length - 1, 'ID type');
  checkBytes(p.data, 'ID data');
  w.u8(p.idType, 'ID type');
  w.u16(p.data.length, 'ID len');
  w.bytes(p.data, 'ID data');
}

export function decodeIdr(r: Reader): IdrPayload {
  const roleAt = r.at;
  const role = r.u8('IDR role');
  if (!ID_ROLE_NAMES[role]) throw new MikeyError('MIKEY_BAD_VALUE', roleAt, `unknown IDR role ${role} (1..7 are defined)`);
  const at = r.at;
  const idType = r.u8('IDR ID type');
  checkIdType(idType, at);
  const n = r.u16('IDR ID len');
  return { kind: 'IDR', role, idType, data: r.bytes(n, 'IDR ID data') };
}
export function encodeIdr(w: Writer, p: IdrPayload): void {
  checkUint(p.role, 255, 'IDR role');
  if (!ID_ROLE_NAMES[p.role]) throw encodeError(`IDR: unknown role ${p.role}`);
  checkUint(p.idType, ID_TYPE_NAMES.length - 1, 'IDR ID type');
  checkBytes(p.data, 'IDR ID data');
  w.u8(p.role, 'IDR role');
  w.u8(p.idType, 'IDR ID type');
  w.u16(p.data.length, 'IDR ID len');
  w.bytes(p.data, 'IDR ID data');
}

export function decodeCert(r: Reader): CertPayload {
  const certType = r.u8('CERT type');
  const n = r.u16('CERT len');
  return { kind: 'CERT', certType, data: r.bytes(n, 'CERT data') };
}
export function encodeCert(w: Writer, p: CertPayload): void {
  checkBytes(p.data, 'CERT data');
  w.u8(p.certType, 'CERT type');
  w.u16(p.data.length, 'CERT len');
  w.bytes(p.data, 'CERT data');
}
