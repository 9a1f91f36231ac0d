// What a finished exchange hands to the media layer: per crypto session (cs_id = 1..#CS in
// CS-map order, RFC 3830 §4.1.3) the SRTP master key and salt, the SSRC, the SRTP profile and
// where the key came from (the IBAKE TGK, the deferred-delivery SK used as TGK, or a
// pre-encoded content key carried in R_MESSAGE_2's KEMAC). SSRC and ROC are the CS map's.
import { deriveSrtpMasterKeys } from '../mikey/keys.js';
import type { StackKeyInput } from '../srtp/stack.js';
import { DEFAULT_PROFILE as SRTP_DEFAULT_PROFILE, SRTP_PROFILES as SRTP_PROFILE_TABLE, type SrtpProfileName } from '../srtp/policy.js';

export type KeySource = 'ibake' | 'deferred-sk' | 'preencoded';

/**
 * Master key / salt lengths of the SRTP profiles our profile can key, by name: a view of
 * src/srtp/policy.ts's SRTP_PROFILES (the one table), in the shape the endpoints check against.
 * Null prototype, so only real profile names are found.
 */
export const SRTP_PROFILES: Readonly<Record<string, { readonly key: number; readonly salt: number }>> = Object.freeze(
  Object.assign(
    Object.create(null) as Record<string, { key: number; salt: number }>,
    Object.fromEntries(Object.values(SRTP_PROFILE_TABLE).map((p) => [p.name, Object.freeze({ key: p.masterKeyLen, salt: p.masterSaltLen })])),
  ),
);
export const DEFAULT_PROFILE: SrtpProfileName = SRTP_DEFAULT_PROFILE.name;

/** One crypto session's keys: csId, ssrc, roc (the SRTP-ID map's), profile, master key and salt, and their source. */
export interface CryptoSessionKeys extends StackKeyInput {
  keySource: KeySource;
}

export function deriveCsKeys(
  prf: number,
  tgk: Uint8Array,
  csbId: number,
  rand: Uint8Array,
  map: ReadonlyArray<{ ssrc: number; roc: number }>,
  profile: string,
  keySource: KeySource,
): CryptoSessionKeys[] {
  const lens = SRTP_PROFILES[profile]!;
  return map.map(({ ssrc, roc }, i) => {
    const k = deriveSrtpMasterKeys(prf, tgk, i + 1, csbId, rand, lens);
    return { csId: i + 1, ssrc, roc, profile, masterKey: k.masterKey, masterSalt: k.masterSalt, keySource };
  });
}

export function wipeCsKeys(keys: CryptoSessionKeys[] | undefined): void {
  for (const k of keys ?? []) {
    k.masterKey.fill(0);
    k.masterSalt.fill(0);
  }
}
