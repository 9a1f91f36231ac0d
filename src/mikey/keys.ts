// The MIKEY-IBAKE key hierarchy (RFC 6267 §5.1–5.2 on RFC 3830 §4.1.3–4.1.4), on byte strings:
//   K_SESSION (profile v2: 32-octet hash,  -> MPK, TGK            label: const || 0xFF || 0xFFFFFFFF || RAND
//             v1: SEC1 point [x][y]P)
//   MPK (or a PSK / envelope key)         -> encr/auth/salt key   label: const || 0xFF || csb_id || RAND
//   TGK (or the deferred-delivery SK)     -> TEK, salt per CS     label: const || cs_id || csb_id || RAND
// Lengths are parameters; defaults follow our profile (DESIGN §3, mikey-ibake.md OPEN-9: MPK/TGK
// 256 bits; SRTP master key 128, master salt 112; HMAC-SHA-1 auth key 160). See docs/keys.md.
import { mikeyPrf, requireBytes, requireInt, MikeyCryptoError } from './prf.js';

/** Label constants (32-bit, big-endian on the wire). */
export const KeyConst = {
  /** RFC 6267: K_SESSION -> MPK */
  MPK: 0x220e99a2,
  /** RFC 6267: K_SESSION -> TGK */
  TGK: 0x1f4d675b,
  /** RFC 3830 §4.1.4: message encryption key (encr_key) */
  MSG_ENCR: 0x150533e1,
  /** RFC 3830 §4.1.4: message authentication key (auth_key) */
  MSG_AUTH: 0x2d22ac75,
  /** RFC 3830 §4.1.4: message salt key */
  MSG_SALT: 0x29b88916,
  /** RFC 3830 §4.1.3: TEK (SRTP master key) */
  TEK: 0x2ad01c64,
  /** RFC 3830 §4.1.3: salting key (SRTP master salt) */
  TEK_SALT: 0x39a2c14b,
  /** RFC 3830 §4.1.3: authentication key for protocols that cannot derive their own */
  TEK_AUTH: 0x1b5c7973,
  /** RFC 3830 §4.1.3: encryption key for protocols that cannot derive their own */
  TEK_ENCR: 0x15798cef,
} as const;

/** Profile default lengths in octets. */
export const KeyLen = {
  MPK: 32,
  TGK: 32,
  SRTP_MASTER_KEY: 16,
  SRTP_MASTER_SALT: 14,
  ENCR_AES_128: 16,
  ENCR_AES_256: 32,
  AUTH_HMAC_SHA1: 20,
  AUTH_HMAC_SHA256: 32,
  SALT_AES_CM: 14,
  SALT_AES_KW: 8,
} as const;

const RAND_MAX = 255; // RAND len is an 8-bit field

function u32(name: string, v: number): void {
  requireInt(name, v, 0, 0xffffffff);
}

/** label = constant(32) || mid(8) || csbId(32) || RAND — the one label shape of RFC 3830. */
export function buildLabel(constant: number, mid: number, csbId: number, rand: Uint8Array): Uint8Array {
  u32('constant', constant);
  requireInt('cs_id/0xFF octet', mid, 0, 255);
  u32('csbId', csbId);
  requireBytes('RAND', rand, 1, RAND_MAX);
  const l = new Uint8Array(9 + rand.length);
  // byte by byte: a DataView of l.buffer would move this small array out of V8's heap
  l[0] = constant >>> 24;
  l[1] = constant >>> 16;
  l[2] = constant >>> 8;
  l[3] = constant;
  l[4] = mid;
  l[5] = csbId >>> 24;
  l[6] = csbId >>> 16;
  l[7] = csbId >>> 8;
  l[8] = csbId;
  l.set(rand, 9);
  return l;
}

/**
 * How K_SESSION is formed: 'point' = SEC1 uncompressed [x][y]P (profile v1, RFC 6267 variant A);
 * 'v2' = the 32-octet SHA-256 of profile v2 (src/ibake/binding.ts, docs/profile.md §5).
 */
export type KSessionForm = 'point' | 'v2';

/**
 * Validates K_SESSION: as a SEC1 uncompressed point octet string (0x04 || X || Y, X and Y of equal
 * length; 65 octets for P-256; this layer knows no curve, so it checks the shape only), or as the
 * 32 octets of the profile-v2 hash.
 */
export function requireKSession(kSession: Uint8Array, form: KSessionForm = 'point'): void {
  if (form === 'v2') {
    requireBytes('K_SESSION', kSession, 32, 32);
    return;
  }
  requireBytes('K_SESSION', kSession, 3, 1 + 2 * 66);
  if (kSession[0] !== 0x04 || kSession.length % 2 !== 1) {
    throw new MikeyCryptoError('MIKEY_CRYPTO_INPUT', 'K_SESSION must be a SEC1 uncompressed point (0x04 || X || Y)');
  }
}

/** MPK = PRF(K_SESSION, 0x220E99A2 || 0xFF || 0xFFFFFFFF || RAND). */
export function deriveMpk(prf: number, kSession: Uint8Array, rand: Uint8Array, len: number = KeyLen.MPK, form: KSessionForm = 'point'): Uint8Array {
  requireKSession(kSession, form);
  return mikeyPrf(prf, kSession, buildLabel(KeyConst.MPK, 0xff, 0xffffffff, rand), len);
}

/** TGK = PRF(K_SESSION, 0x1F4D675B || 0xFF || 0xFFFFFFFF || RAND). */
export function deriveTgk(prf: number, kSession: Uint8Array, rand: Uint8Array, len: number = KeyLen.TGK, form: KSessionForm = 'point'): Uint8Array {
  requireKSession(kSession, form);
  return mikeyPrf(prf, kSession, buildLabel(KeyConst.TGK, 0xff, 0xffffffff, rand), len);
}

/** One RFC 3830 §4.1.4 message key: PRF(inkey, constant || 0xFF || csb_id || RAND). */
export function deriveMessageKey(
  prf: number,
  inkey: Uint8Array,
  constant: number,
  csbId: number,
  rand: Uint8Array,
  len: number,
): Uint8Array {
  return mikeyPrf(prf, inkey, buildLabel(constant, 0xff, csbId, rand), len);
}

export interface MessageKeyLengths {
  encr: number;
  auth: number;
  salt: number;
}

export interface MessageKeys {
  encrKey: Uint8Array;
  authKey: Uint8Array;
  saltKey: Uint8Array;
}

/**
 * encr_key, auth_key and salt_key from a PSK, envelope key or MPK (RFC 3830 §4.1.4).
 * Default lengths: AES-CM-128 (16), HMAC-SHA-1-160 (20), AES-CM salt (14).
 */
export function deriveMessageKeys(
  prf: number,
  inkey: Uint8Array,
  csbId: number,
  rand: Uint8Array,
  lens: MessageKeyLengths = { encr: KeyLen.ENCR_AES_128, auth: KeyLen.AUTH_HMAC_SHA1, salt: KeyLen.SALT_AES_CM },
): MessageKeys {
  return {
    encrKey: deriveMessageKey(prf, inkey, KeyConst.MSG_ENCR, csbId, rand, lens.encr),
    authKey: deriveMessageKey(prf, inkey, KeyConst.MSG_AUTH, csbId, rand, lens.auth),
    saltKey: deriveMessageKey(prf, inkey, KeyConst.MSG_SALT, csbId, rand, lens.salt),
  };
}

/** R_MESSAGE_2 V-payload key: auth_key = PRF(MPK, 0x2D22AC75 || 0xFF || csb_id || RAND). */
export function deriveRMessage2AuthKey(
  prf: number,
  mpk: Uint8Array,
  csbId: number,
  rand: Uint8Array,
  len: number = KeyLen.AUTH_HMAC_SHA1,
): Uint8Array {
  return deriveMessageKey(prf, mpk, KeyConst.MSG_AUTH, csbId, rand, len);
}

/** One RFC 3830 §4.1.3 key from a TGK: PRF(TGK, constant || cs_id || csb_id || RAND). */
export function deriveFromTgk(
  prf: number,
  tgk: Uint8Array,
  constant: number,
  csId: number,
  csbId: number,
  rand: Uint8Array,
  len: number,
): Uint8Array {
  return mikeyPrf(prf, tgk, buildLabel(constant, csId, csbId, rand), len);
}

/** TEK (= SRTP master key) for crypto session cs_id. */
export function deriveTek(
  prf: number,
  tgk: Uint8Array,
  csId: number,
  csbId: number,
  rand: Uint8Array,
  len: number = KeyLen.SRTP_MASTER_KEY,
): Uint8Array {
  return deriveFromTgk(prf, tgk, KeyConst.TEK, csId, csbId, rand, len);
}

/** Salting key (= SRTP master salt) for crypto session cs_id. */
export function deriveTekSalt(
  prf: number,
  tgk: Uint8Array,
  csId: number,
  csbId: number,
  rand: Uint8Array,
  len: number = KeyLen.SRTP_MASTER_SALT,
): Uint8Array {
  return deriveFromTgk(prf, tgk, KeyConst.TEK_SALT, csId, csbId, rand, len);
}

export interface SrtpMasterKeys {
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
}

/**
 * SRTP master key and salt for one crypto session from a TGK. The same call serves the
 * deferred-delivery flow, where the Initiator's SK is used as the TGK (DESIGN §3).
 */
export function deriveSrtpMasterKeys(
  prf: number,
  tgk: Uint8Array,
  csId: number,
  csbId: number,
  rand: Uint8Array,
  lens: { key: number; salt: number } = { key: KeyLen.SRTP_MASTER_KEY, salt: KeyLen.SRTP_MASTER_SALT },
): SrtpMasterKeys {
  return {
    masterKey: deriveTek(prf, tgk, csId, csbId, rand, lens.key),
    masterSalt: deriveTekSalt(prf, tgk, csId, csbId, rand, lens.salt),
  };
}

export interface SessionKeys {
  mpk: Uint8Array;
  tgk: Uint8Array;
  /** auth_key for the V payload of R_MESSAGE_2 */
  authKey: Uint8Array;
}

/**
 * Everything the I/R exchange derives from K_SESSION at once: MPK, TGK and the R_MESSAGE_2 auth key.
 * `authLen` must match the V payload's MAC alg (20 for HMAC-SHA-1-160, 32 for HMAC-SHA-256-256).
 */
export function deriveSessionKeys(
  prf: number,
  kSession: Uint8Array,
  csbId: number,
  rand: Uint8Array,
  lens: { mpk?: number; tgk?: number; auth?: number } = {},
  form: KSessionForm = 'point',
): SessionKeys {
  const mpk = deriveMpk(prf, kSession, rand, lens.mpk ?? KeyLen.MPK, form);
  const tgk = deriveTgk(prf, kSession, rand, lens.tgk ?? KeyLen.TGK, form);
  const authKey = deriveRMessage2AuthKey(prf, mpk, csbId, rand, lens.auth ?? KeyLen.AUTH_HMAC_SHA1);
  return { mpk, tgk, authKey };
}

/** Overwrites every key buffer in the object with zeros (call when the keys are no longer needed). */
export function wipeKeys(keys: Record<string, Uint8Array> | object): void {
  for (const v of Object.values(keys)) if (v instanceof Uint8Array) v.fill(0);
}
