// KEMAC "Encr data" transforms (RFC 3830 §4.2.3, RFC 6043): AES-CM-128/256 with the initial
// counter block IV = (salt_key XOR (0x0000 || CSB_ID || T)) || 0x0000, and RFC 3394 AES key wrap
// (node:crypto id-aesNNN-wrap) whose 64-bit IV is the salt key. NULL copies the data. Works on the
// already-encoded Key data chain as bytes; building/parsing that chain is the codec's job.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { MikeyCryptoError, requireBytes, requireInt } from './prf.js';
import { EncrAlg } from './registry.js';

/** KEMAC Encr alg values (mikey-base.md §4.1): defined in registry.ts with the other code points. */
export { EncrAlg };

/** Key and salt lengths (octets) each Encr alg needs from the message-key derivation. */
export function encrKeyLengths(alg: number): { key: number; salt: number } {
  switch (alg) {
    case EncrAlg.NULL:
      return { key: 0, salt: 0 };
    case EncrAlg.AES_CM_128:
      return { key: 16, salt: 14 };
    case EncrAlg.AES_KW_128:
      return { key: 16, salt: 8 };
    case EncrAlg.AES_CM_256:
      return { key: 32, salt: 14 };
    default:
      throw new MikeyCryptoError('MIKEY_ENCR_UNSUPPORTED', `Encr alg ${String(alg)} is not supported`);
  }
}

/** AES-CM plaintext limit of RFC 3830 (2^23 bits); the 16-bit Encr data len is smaller anyway. */
const AES_CM_MAX = 1 << 20;
/** The RFC 3394 default IV, used when no salt is given (e.g. Wycheproof vectors). */
export const KW_DEFAULT_IV = new Uint8Array([0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6]);

/**
 * The 64-bit T value used in the IV from a T payload's TS type and raw value: NTP-UTC (0) and
 * NTP (1) are 8 octets as is; COUNTER (2) is zero-extended on the left; NTP-UTC-32 (3) gets a
 * zero fraction (mikey-base.md §4.5, §13 item 5).
 */
export function timestamp64(tsType: number, value: Uint8Array): Uint8Array {
  requireInt('TS type', tsType, 0, 255);
  if (tsType === 0 || tsType === 1) return requireBytes('TS value', value, 8, 8).slice();
  const v = requireBytes('TS value', value, 4, 4);
  const out = new Uint8Array(8);
  if (tsType === 2) out.set(v, 4);
  else if (tsType === 3) out.set(v, 0);
  else throw new MikeyCryptoError('MIKEY_CRYPTO_INPUT', `TS type ${tsType} is not supported`);
  return out;
}

/** Initial counter block: (S XOR (0x0000 || CSB_ID || T)) || 0x0000, S = 14-octet salt key. */
export function kemacAesCmIv(saltKey: Uint8Array, csbId: number, t: Uint8Array): Uint8Array {
  requireBytes('salt key', saltKey, 14, 14);
  requireInt('csbId', csbId, 0, 0xffffffff);
  requireBytes('T value (64-bit)', t, 8, 8);
  const iv = new Uint8Array(16);
  new DataView(iv.buffer).setUint32(2, csbId);
  iv.set(t, 6);
  for (let i = 0; i < 14; i++) iv[i]! ^= saltKey[i]!;
  return iv;
}

/** AES-CM (RFC 3711 counter mode, 16-bit block counter): encryption and decryption are the same. */
export function aesCm(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  requireBytes('AES-CM key', key, 16, 32);
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new MikeyCryptoError('MIKEY_CRYPTO_INPUT', 'AES-CM key must be 16, 24 or 32 octets');
  }
  requireBytes('AES-CM IV', iv, 16, 16);
  requireBytes('AES-CM data', data, 0, AES_CM_MAX);
  const c = createCipheriv(`aes-${key.length * 8}-ctr`, key, iv);
  const out = c.update(data); // CTR: final() adds nothing, so no intermediate copy of key material
  c.final();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function kwCipher(kek: Uint8Array): string {
  requireBytes('KEK', kek, 16, 32);
  if (kek.length !== 16 && kek.length !== 24 && kek.length !== 32) {
    throw new MikeyCryptoError('MIKEY_CRYPTO_INPUT', 'AES key wrap KEK must be 16, 24 or 32 octets');
  }
  return `id-aes${kek.length * 8}-wrap`;
}

/** RFC 3394 key wrap: plaintext a multiple of 8 octets, at least 16. Output is 8 octets longer. */
export function aesKeyWrap(kek: Uint8Array, plaintext: Uint8Array, iv: Uint8Array = KW_DEFAULT_IV): Uint8Array {
  const alg = kwCipher(kek);
  requireBytes('KW IV', iv, 8, 8);
  requireBytes('KW plaintext', plaintext, 16, 0xffff - 8);
  if (plaintext.length % 8 !== 0) throw new MikeyCryptoError('MIKEY_CRYPTO_INPUT', 'KW plaintext must be a multiple of 8 octets');
  const c = createCipheriv(alg, kek, iv);
  const out = Buffer.concat([c.update(plaintext), c.final()]);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** RFC 3394 key unwrap; throws MIKEY_DECRYPT_FAILED when the integrity check (IV) fails. */
export function aesKeyUnwrap(kek: Uint8Array, wrapped: Uint8Array, iv: Uint8Array = KW_DEFAULT_IV): Uint8Array {
  const alg = kwCipher(kek);
  requireBytes('KW IV', iv, 8, 8);
  requireBytes('KW ciphertext', wrapped, 24, 0xffff);
  if (wrapped.length % 8 !== 0) throw new MikeyCryptoError('MIKEY_DECRYPT_FAILED', 'KW ciphertext is not a multiple of 8 octets');
  let out: Buffer;
  try {
    const d = createDecipheriv(alg, kek, iv);
    const a = d.update(wrapped);
    const b = d.final();
    out = Buffer.concat([a, b]);
    a.fill(0); // the pieces hold unwrapped key material
    b.fill(0);
  } catch {
    throw new MikeyCryptoError('MIKEY_DECRYPT_FAILED', 'AES key unwrap integrity check failed');
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export interface KemacKeys {
  /** encr_key (16 octets for AES-CM-128 / AES-KW-128, 32 for AES-CM-256; unused for NULL) */
  encrKey: Uint8Array;
  /** salt_key (14 octets for AES-CM, 8 for AES-KW; unused for NULL) */
  saltKey: Uint8Array;
}

export interface KemacContext {
  /** HDR CSB ID */
  csbId: number;
  /** 64-bit T value of the Initiator's timestamp (see timestamp64) */
  t: Uint8Array;
}

function checkKeys(alg: number, keys: KemacKeys): void {
  const want = encrKeyLengths(alg);
  if (want.key === 0) return;
  requireBytes('encr_key', keys.encrKey, want.key, want.key);
  requireBytes('salt_key', keys.saltKey, want.salt, want.salt);
}

/** Encrypts the Key data chain for a KEMAC payload with `alg`. */
export function kemacEncrypt(alg: number, keys: KemacKeys, ctx: KemacContext, plaintext: Uint8Array): Uint8Array {
  checkKeys(alg, keys);
  requireBytes('KEMAC plaintext', plaintext, 0, 0xffff);
  switch (alg) {
    case EncrAlg.NULL:
      return plaintext.slice();
    case EncrAlg.AES_CM_128:
    case EncrAlg.AES_CM_256:
      return aesCm(keys.encrKey, kemacAesCmIv(keys.saltKey, ctx.csbId, ctx.t), plaintext);
    default: // AES_KW_128 (encrKeyLengths rejected anything else)
      return aesKeyWrap(keys.encrKey, plaintext, keys.saltKey);
  }
}

/** Decrypts a KEMAC's Encr data. AES-CM cannot detect tampering: the MAC/V payload does that. */
export function kemacDecrypt(alg: number, keys: KemacKeys, ctx: KemacContext, encrData: Uint8Array): Uint8Array {
  checkKeys(alg, keys);
  requireBytes('KEMAC Encr data', encrData, 0, 0xffff);
  switch (alg) {
    case EncrAlg.NULL:
      return encrData.slice();
    case EncrAlg.AES_CM_128:
    case EncrAlg.AES_CM_256:
      return aesCm(keys.encrKey, kemacAesCmIv(keys.saltKey, ctx.csbId, ctx.t), encrData);
    default:
      return aesKeyUnwrap(keys.encrKey, encrData, keys.saltKey);
  }
}
