// SP payload SRTP policy (RFC 3830 §6.10.1 TLVs, as type/value pairs the codec hands us) <-> one of
// our SRTP profiles: AES_CM_128_HMAC_SHA1_80 (default), AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80
// (RFC 6188) and AEAD_AES_128_GCM (RFC 7714). Absent TLVs take the RFC 3711 defaults. Encodings fixed
// by our profile (OPEN-S3): lengths in octets as one octet; kdr as the rate itself, big-endian, width =
// TLV length (1..4). RFC 7714 code points (encr alg AES-GCM = 6, AEAD tag length TLV = 20): RFC 7714
// §14.3, same values as GStreamer's libgstsdp; docs/keys.md §6 says how far they are verified and
// test/srtp-policy.test.ts pins the octets. Malformed or contradictory policies -> SRTP_POLICY_INVALID;
// well-formed ones that are not one of our profiles -> SRTP_POLICY_UNSUPPORTED.
import { SrtpError } from './errors.js';
import { isValidKdr, type SessionKeyLengths } from './kdf.js';

/** SRTP policy TLV types. */
export const SpParam = {
  ENCR_ALG: 0,
  ENCR_KEY_LEN: 1,
  AUTH_ALG: 2,
  AUTH_KEY_LEN: 3,
  SALT_KEY_LEN: 4,
  PRF: 5,
  KDR: 6,
  SRTP_ENCR: 7,
  SRTCP_ENCR: 8,
  FEC_ORDER: 9,
  SRTP_AUTH: 10,
  AUTH_TAG_LEN: 11,
  PREFIX_LEN: 12,
  AEAD_TAG_LEN: 20,
} as const;

export const SrtpEncrAlg = { NULL: 0, AES_CM: 1, AES_F8: 2, AES_GCM: 6 } as const;
export const SrtpAuthAlg = { NULL: 0, HMAC_SHA1: 1 } as const;

/** One SP policy parameter as the codec sees it. */
export interface SpTlv {
  type: number;
  value: Uint8Array;
}

export type SrtpProfileName = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AES_256_CM_HMAC_SHA1_80' | 'AEAD_AES_128_GCM';

export interface SrtpProfile {
  readonly name: SrtpProfileName;
  readonly cipher: 'AES-CM' | 'AES-GCM';
  /** master key length = session encryption key length (octets) */
  readonly masterKeyLen: number;
  /** master salt length = session salt length (octets) */
  readonly masterSaltLen: number;
  /** session authentication key length (0 for AEAD) */
  readonly authKeyLen: number;
  /** HMAC-SHA1 tag length for HMAC profiles, AEAD tag length for GCM (octets) */
  readonly tagLen: number;
  readonly aead: boolean;
}

export const SRTP_PROFILES: Readonly<Record<SrtpProfileName, SrtpProfile>> = {
  AES_CM_128_HMAC_SHA1_80: { name: 'AES_CM_128_HMAC_SHA1_80', cipher: 'AES-CM', masterKeyLen: 16, masterSaltLen: 14, authKeyLen: 20, tagLen: 10, aead: false },
  AES_CM_128_HMAC_SHA1_32: { name: 'AES_CM_128_HMAC_SHA1_32', cipher: 'AES-CM', masterKeyLen: 16, masterSaltLen: 14, authKeyLen: 20, tagLen: 4, aead: false },
  AES_256_CM_HMAC_SHA1_80: { name: 'AES_256_CM_HMAC_SHA1_80', cipher: 'AES-CM', masterKeyLen: 32, masterSaltLen: 14, authKeyLen: 20, tagLen: 10, aead: false },
  AEAD_AES_128_GCM: { name: 'AEAD_AES_128_GCM', cipher: 'AES-GCM', masterKeyLen: 16, masterSaltLen: 12, authKeyLen: 0, tagLen: 16, aead: true },
};

export const DEFAULT_PROFILE: SrtpProfile = SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80;

export interface SrtpPolicy {
  profile: SrtpProfile;
  /** key_derivation_rate (0 = derive once) */
  kdr: number;
}

/** Session key lengths for the SRTP KDF of a profile. */
export function sessionKeyLengths(p: SrtpProfile): SessionKeyLengths {
  return { encKey: p.masterKeyLen, authKey: p.authKeyLen, salt: p.masterSaltLen };
}

function invalid(msg: string): never {
  throw new SrtpError('SRTP_POLICY_INVALID', msg);
}
function unsupported(msg: string): never {
  throw new SrtpError('SRTP_POLICY_UNSUPPORTED', msg);
}

const KNOWN = new Set<number>(Object.values(SpParam));

function readUint(t: SpTlv, maxWidth: number): number {
  if (t.value.length < 1 || t.value.length > maxWidth) invalid(`SP parameter ${t.type} has ${t.value.length} value octets`);
  let v = 0;
  for (const b of t.value) v = v * 256 + b;
  return v;
}

function readFlag(t: SpTlv | undefined, name: string): number | undefined {
  if (!t) return undefined;
  const v = readUint(t, 1);
  if (v > 1) invalid(`${name} must be 0 (off) or 1 (on)`);
  return v;
}

/** Maps SP policy TLVs to a profile and kdr. Absent TLVs take the RFC 3711 defaults. */
export function policyFromTlvs(tlvs: readonly SpTlv[]): SrtpPolicy {
  if (!Array.isArray(tlvs)) invalid('policy must be an array of TLVs');
  const byType = new Map<number, SpTlv>();
  for (const t of tlvs) {
    if (!t || !Number.isInteger(t.type) || t.type < 0 || t.type > 255 || !(t.value instanceof Uint8Array) || t.value.length > 255) {
      invalid('each TLV needs an octet type and a value of at most 255 octets');
    }
    if (byType.has(t.type)) invalid(`SP parameter ${t.type} appears twice`);
    if (!KNOWN.has(t.type)) unsupported(`SP parameter type ${t.type} is not supported`);
    byType.set(t.type, t);
  }
  const get = (type: number, width = 1): number | undefined => {
    const t = byType.get(type);
    return t ? readUint(t, width) : undefined;
  };

  const encr = get(SpParam.ENCR_ALG) ?? SrtpEncrAlg.AES_CM;
  const prf = get(SpParam.PRF) ?? 0;
  if (prf !== 0) unsupported(`SRTP PRF ${prf} is not supported (only AES-CM)`);
  const kdr = get(SpParam.KDR, 4) ?? 0;
  if (!isValidKdr(kdr)) invalid(`key derivation rate ${kdr} is not 0 or a power of two up to 2^24`);
  if ((get(SpParam.FEC_ORDER) ?? 0) !== 0) unsupported('only FEC order FEC-SRTP (0) is supported');
  if ((get(SpParam.PREFIX_LEN) ?? 0) !== 0) unsupported('SRTP prefix length must be 0');
  const srtpEncr = readFlag(byType.get(SpParam.SRTP_ENCR), 'SRTP encryption') ?? 1;
  const srtcpEncr = readFlag(byType.get(SpParam.SRTCP_ENCR), 'SRTCP encryption') ?? 1;
  const srtpAuth = readFlag(byType.get(SpParam.SRTP_AUTH), 'SRTP authentication');
  if (srtpEncr === 0 || srtcpEncr === 0) unsupported('SRTP/SRTCP encryption off is not supported');
  const keyLen = get(SpParam.ENCR_KEY_LEN);
  const authAlg = get(SpParam.AUTH_ALG);
  const authKeyLen = get(SpParam.AUTH_KEY_LEN);
  const saltLen = get(SpParam.SALT_KEY_LEN);
  const tagLen = get(SpParam.AUTH_TAG_LEN);
  const aeadTag = get(SpParam.AEAD_TAG_LEN);

  if (encr === SrtpEncrAlg.AES_GCM) {
    if (authAlg !== undefined && authAlg !== SrtpAuthAlg.NULL) invalid('AES-GCM must not be combined with an authentication algorithm');
    if (authKeyLen !== undefined && authKeyLen !== 0) invalid('AES-GCM takes no session authentication key');
    if (tagLen !== undefined && tagLen !== 0) invalid('AES-GCM carries its tag in the AEAD tag length parameter');
    if (srtpAuth === 0) invalid('AES-GCM always authenticates');
    const k = keyLen ?? 16;
    if (k !== 16 && k !== 32) invalid(`AES-GCM key length ${k}`);
    if (k !== 16) unsupported('AEAD_AES_256_GCM is not supported');
    if ((saltLen ?? 12) !== 12) invalid('AES-GCM needs a 12-octet salt');
    const tag = aeadTag ?? 16;
    if (tag !== 8 && tag !== 12 && tag !== 16) invalid(`AEAD tag length ${tag}`);
    if (tag !== 16) unsupported('only a 16-octet AEAD tag is supported');
    return { profile: SRTP_PROFILES.AEAD_AES_128_GCM, kdr };
  }
  if (aeadTag !== undefined) invalid('AEAD tag length given for a non-AEAD cipher');
  if (encr === SrtpEncrAlg.NULL || encr === SrtpEncrAlg.AES_F8) unsupported(`SRTP encryption algorithm ${encr} is not supported`);
  if (encr !== SrtpEncrAlg.AES_CM) unsupported(`SRTP encryption algorithm ${encr} is unknown`);
  const k = keyLen ?? 16;
  if (k !== 16 && k !== 24 && k !== 32) invalid(`AES-CM key length ${k}`);
  if (k === 24) unsupported('AES-192-CM is not supported');
  if ((saltLen ?? 14) !== 14) invalid('AES-CM needs a 14-octet (112-bit) salt');
  const aAlg = authAlg ?? SrtpAuthAlg.HMAC_SHA1;
  if (aAlg === SrtpAuthAlg.NULL) {
    if ((tagLen ?? 0) !== 0 || srtpAuth === 1) invalid('NULL authentication with a tag length or SRTP authentication on');
    unsupported('unauthenticated SRTP is not supported');
  }
  if (aAlg !== SrtpAuthAlg.HMAC_SHA1) unsupported(`SRTP authentication algorithm ${aAlg} is not supported`);
  if (srtpAuth === 0) unsupported('SRTP authentication off is not supported');
  const ak = authKeyLen ?? 20;
  if (ak < 1 || ak > 64) invalid(`HMAC-SHA1 session key length ${ak}`);
  if (ak !== 20) unsupported('only a 20-octet HMAC-SHA1 session key is supported');
  const tag = tagLen ?? 10;
  if (tag < 1 || tag > 20) invalid(`HMAC-SHA1 tag length ${tag} is outside 1..20`);
  if (k === 16 && tag === 10) return { profile: SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80, kdr };
  if (k === 16 && tag === 4) return { profile: SRTP_PROFILES.AES_CM_128_HMAC_SHA1_32, kdr };
  if (k === 32 && tag === 10) return { profile: SRTP_PROFILES.AES_256_CM_HMAC_SHA1_80, kdr };
  return unsupported(`AES-CM ${k * 8} with a ${tag}-octet tag is not one of our profiles`);
}

function tlv(type: number, v: number, width = 1): SpTlv {
  const value = new Uint8Array(width);
  for (let i = width - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) value[i] = x & 0xff;
  return { type, value };
}

/**
 * The explicit TLV list for a profile (every parameter spelled out, ascending type order, so a
 * peer never depends on defaults). kdr uses the fewest octets that hold it.
 */
export function tlvsFromPolicy(profile: SrtpProfile | SrtpProfileName, kdr = 0): SpTlv[] {
  const p = typeof profile === 'string' ? SRTP_PROFILES[profile] : profile;
  if (!p || SRTP_PROFILES[p.name] !== p) throw new SrtpError('SRTP_INPUT', 'unknown SRTP profile');
  if (!isValidKdr(kdr)) throw new SrtpError('SRTP_INPUT', 'key derivation rate must be 0 or a power of two up to 2^24');
  const kdrWidth = kdr < 0x100 ? 1 : kdr < 0x10000 ? 2 : kdr < 0x1000000 ? 3 : 4;
  if (p.aead) {
    return [
      tlv(SpParam.ENCR_ALG, SrtpEncrAlg.AES_GCM),
      tlv(SpParam.ENCR_KEY_LEN, p.masterKeyLen),
      tlv(SpParam.SALT_KEY_LEN, p.masterSaltLen),
      tlv(SpParam.PRF, 0),
      tlv(SpParam.KDR, kdr, kdrWidth),
      tlv(SpParam.SRTP_ENCR, 1),
      tlv(SpParam.SRTCP_ENCR, 1),
      tlv(SpParam.FEC_ORDER, 0),
      tlv(SpParam.AEAD_TAG_LEN, p.tagLen),
    ];
  }
  return [
    tlv(SpParam.ENCR_ALG, SrtpEncrAlg.AES_CM),
    tlv(SpParam.ENCR_KEY_LEN, p.masterKeyLen),
    tlv(SpParam.AUTH_ALG, SrtpAuthAlg.HMAC_SHA1),
    tlv(SpParam.AUTH_KEY_LEN, p.authKeyLen),
    tlv(SpParam.SALT_KEY_LEN, p.masterSaltLen),
    tlv(SpParam.PRF, 0),
    tlv(SpParam.KDR, kdr, kdrWidth),
    tlv(SpParam.SRTP_ENCR, 1),
    tlv(SpParam.SRTCP_ENCR, 1),
    tlv(SpParam.FEC_ORDER, 0),
    tlv(SpParam.SRTP_AUTH, 1),
    tlv(SpParam.AUTH_TAG_LEN, p.tagLen),
    tlv(SpParam.PREFIX_LEN, 0),
  ];
}
