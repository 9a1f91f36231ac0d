// KEMAC (key data transport, RFC 3830 §6.2) and its Key data sub-payload (§6.13, including
// RFC 6267's Type 7 = K_PR). The KEMAC's encrypted data is opaque here; the MAC length is implied
// by the MAC alg. Key data carries a salt only for the +SALT types, then optional KV data.
import { Reader, Writer, checkBytes, checkUint } from './bytes.js';
import { MikeyError, encodeError } from './errors.js';
import { decodeKv, encodeKv, kvType } from './key-validity.js';
import type { KemacPayload, KeyDataPayload } from './model.js';
import { ENCR_ALG_NAMES, KEY_TYPES_WITH_SALT, KEY_TYPE_NAMES } from './registry.js';
import { checkMac, macLength } from './payload-auth.js';

export function decodeKemac(r: Reader): KemacPayload {
  const at = r.at;
  const encrAlg = r.u8('KEMAC encr alg');
  if (encrAlg >= ENCR_ALG_NAMES.length) {
    throw new MikeyError('MIKEY_BAD_VALUE', at, `unknown KEMAC encr alg ${encrAlg} (0 NULL, 1 AES-CM-128, 2 AES-KW-128, 3 AES-CM-256)`);
  }
  const n = r.u16('KEMAC encr data len');
  const encrData = r.bytes(n, 'KEMAC encr data');
  const macAt = r.at;
  const macAlg = r.u8('KEMAC MAC alg');
  const mac = r.bytes(macLength(macAlg, macAt, 'KEMAC MAC alg'), 'KEMAC MAC');
  return { kind: 'KEMAC', encrAlg, encrData, macAlg, mac };
}
export function encodeKemac(w: Writer, p: KemacPayload): void {
  checkUint(p.encrAlg, ENCR_ALG_NAMES.length - 1, 'KEMAC encr alg');
  checkBytes(p.encrData, 'KEMAC encr data');
  checkMac(p.macAlg, p.mac, 'KEMAC');
  w.u8(p.encrAlg, 'KEMAC encr alg');
  w.u16(p.encrData.length, 'KEMAC encr data len');
  w.bytes(p.encrData, 'KEMAC encr data');
  w.u8(p.macAlg, 'KEMAC MAC alg');
  w.bytes(p.mac, 'KEMAC MAC');
}

export function decodeKeyData(r: Reader): KeyDataPayload {
  const at = r.at;
  const b = r.u8('Key data type/KV');
  const keyType = b >>> 4;
  if (keyType >= KEY_TYPE_NAMES.length) {
    throw new MikeyError('MIKEY_BAD_VALUE', at, `unknown Key data type ${keyType} (0..7 are defined)`);
  }
  const n = r.u16('Key data len');
  const key = r.bytes(n, 'Key data');
  let salt: Uint8Array | undefined;
  if (KEY_TYPES_WITH_SALT.has(keyType)) {
    const sn = r.u16('Salt len');
    salt = r.bytes(sn, 'Salt data');
  }
  const kv = decodeKv(r, b & 0x0f, at);
  return salt ? { kind: 'KEY', keyType, key, salt, kv } : { kind: 'KEY', keyType, key, kv };
}
export function encodeKeyData(w: Writer, p: KeyDataPayload): void {
  checkUint(p.keyType, KEY_TYPE_NAMES.length - 1, 'Key data type');
  checkBytes(p.key, 'Key data');
  const withSalt = KEY_TYPES_WITH_SALT.has(p.keyType);
  if (withSalt) checkBytes(p.salt, 'Key data salt');
  else if (p.salt !== undefined) throw encodeError(`Key data type ${p.keyType} carries no salt`);
  w.u8((p.keyType << 4) | kvType(p.kv, 'Key data'), 'Key data type/KV');
  w.u16(p.key.length, 'Key data len');
  w.bytes(p.key, 'Key data');
  if (withSalt) {
    w.u16(p.salt!.length, 'Salt len');
    w.bytes(p.salt!, 'Salt data');
  }
  encodeKv(w, p.kv, 'Key data');
}
