// What a finished exchange hands to the media layer: per crypto session (cs_id = 1..#CS in
// CS-map order, RFC 3830 §4.1.3) the SRTP master key and salt, the SSRC, the SRTP profile and
// where the key came from (the IBAKE TGK, the deferred-delivery SK used as TGK, or a
// pre-encoded content key carried in R_MESSAGE_2's KEMAC).
import { deriveSrtpMasterKeys } from '../mikey/keys.js';

export type KeySource = 'ibake' | 'deferred-sk' | 'preencoded';

/** SRTP profiles our profile can key, with their master key / salt lengths (RFC 3711/7714). */
export const SRTP_PROFILES: Record<string, { key: number; salt: number }> = {
  AES_CM_128_HMAC_SHA1_80: { key: 16, salt: 14 },
  AES_CM_128_HMAC_SHA1_32: { key: 16, salt: 14 },
  AES_256_CM_HMAC_SHA1_80: { key: 32, salt: 14 },
  AEAD_AES_128_GCM: { key: 16, salt: 12 },
};
export const DEFAULT_PROFILE = 'AES_CM_128_HMAC_SHA1_80';

export interface CryptoSessionKeys {
  csId: number;
  ssrc: number;
  profile: string;
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
  keySource: KeySource;
}

export function deriveCsKeys(
  prf: number,
  tgk: Uint8Array,
  csbId: number,
  rand: Uint8Array,
  ssrcs: number[],
  profile: string,
  keySource: KeySource,
): CryptoSessionKeys[] {
  const lens = SRTP_PROFILES[profile]!;
  return ssrcs.map((ssrc, i) => {
    const k = deriveSrtpMasterKeys(prf, tgk, i + 1, csbId, rand, lens);
    return { csId: i + 1, ssrc, profile, masterKey: k.masterKey, masterSalt: k.masterSalt, keySource };
  });
}

export function wipeCsKeys(keys: CryptoSessionKeys[] | undefined): void {
  for (const k of keys ?? []) {
    k.masterKey.fill(0);
    k.masterSalt.fill(0);
  }
}
