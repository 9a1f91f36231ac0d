// SP SRTP policy TLVs <-> profiles (src/srtp/policy.ts). Checks: RFC 3711 defaults for an empty
// policy (the RFC 4567 example's SP payload has no parameters), profile -> TLVs -> profile round
// trips, the kdr encoding, and typed rejection of malformed, contradictory and unsupported policies.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE, policyFromTlvs, sessionKeyLengths, SpParam, SRTP_PROFILES, tlvsFromPolicy, type SpTlv, type SrtpProfileName } from '../src/srtp/policy.js';
import { SrtpError } from '../src/srtp/errors.js';

const t = (type: number, ...value: number[]): SpTlv => ({ type, value: new Uint8Array(value) });
const code = (c: string) => expect.objectContaining({ code: c });

describe('policy -> profile', () => {
  it('an empty policy is the RFC 3711 default, AES_CM_128_HMAC_SHA1_80, kdr 0', () => {
    const p = policyFromTlvs([]);
    expect(p.profile).toBe(DEFAULT_PROFILE);
    expect(p.profile.name).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(p.kdr).toBe(0);
    expect(sessionKeyLengths(p.profile)).toEqual({ encKey: 16, authKey: 20, salt: 14 });
  });

  it('recognises each profile from sparse TLVs', () => {
    expect(policyFromTlvs([t(SpParam.AUTH_TAG_LEN, 4)]).profile.name).toBe('AES_CM_128_HMAC_SHA1_32');
    expect(policyFromTlvs([t(SpParam.ENCR_KEY_LEN, 32)]).profile.name).toBe('AES_256_CM_HMAC_SHA1_80');
    expect(policyFromTlvs([t(SpParam.ENCR_ALG, 6)]).profile.name).toBe('AEAD_AES_128_GCM');
    expect(policyFromTlvs([t(SpParam.ENCR_ALG, 6), t(SpParam.AUTH_ALG, 0), t(SpParam.SALT_KEY_LEN, 12), t(SpParam.AEAD_TAG_LEN, 16)]).profile.name).toBe(
      'AEAD_AES_128_GCM',
    );
    expect(sessionKeyLengths(SRTP_PROFILES.AEAD_AES_128_GCM)).toEqual({ encKey: 16, authKey: 0, salt: 12 });
  });

  it('kdr is a big-endian integer of 1..4 octets', () => {
    expect(policyFromTlvs([t(SpParam.KDR, 0x01, 0x00, 0x00)]).kdr).toBe(65536);
    expect(policyFromTlvs([t(SpParam.KDR, 0x01, 0x00, 0x00, 0x00)]).kdr).toBe(1 << 24);
    expect(() => policyFromTlvs([t(SpParam.KDR, 3)])).toThrow(code('SRTP_POLICY_INVALID'));
    expect(() => policyFromTlvs([t(SpParam.KDR, 2, 0, 0, 0)])).toThrow(code('SRTP_POLICY_INVALID'));
    expect(() => policyFromTlvs([t(SpParam.KDR, 0, 0, 0, 0, 1)])).toThrow(code('SRTP_POLICY_INVALID'));
    expect(() => policyFromTlvs([t(SpParam.KDR)])).toThrow(code('SRTP_POLICY_INVALID'));
  });
});

describe('profile -> TLVs -> profile', () => {
  for (const name of Object.keys(SRTP_PROFILES) as SrtpProfileName[]) {
    for (const kdr of [0, 1, 256, 1 << 24]) {
      it(`${name}, kdr ${kdr}`, () => {
        const tlvs = tlvsFromPolicy(name, kdr);
        const types = tlvs.map((x) => x.type);
        expect(types).toEqual([...types].sort((a, b) => a - b));
        const back = policyFromTlvs(tlvs);
        expect(back.profile).toBe(SRTP_PROFILES[name]);
        expect(back.kdr).toBe(kdr);
      });
    }
  }
  it('exact TLV bytes of the default profile', () => {
    const flat = tlvsFromPolicy('AES_CM_128_HMAC_SHA1_80').map((x) => [x.type, x.value.length, ...x.value]);
    expect(flat).toEqual([
      [0, 1, 1], [1, 1, 16], [2, 1, 1], [3, 1, 20], [4, 1, 14], [5, 1, 0], [6, 1, 0], [7, 1, 1], [8, 1, 1], [9, 1, 0], [10, 1, 1], [11, 1, 10], [12, 1, 0],
    ]);
  });
  it('rejects unknown profiles and bad kdr', () => {
    expect(() => tlvsFromPolicy('AES_CM_192' as SrtpProfileName)).toThrow(code('SRTP_INPUT'));
    expect(() => tlvsFromPolicy('AES_CM_128_HMAC_SHA1_80', 3)).toThrow(code('SRTP_INPUT'));
    expect(() => tlvsFromPolicy({ ...SRTP_PROFILES.AEAD_AES_128_GCM })).toThrow(code('SRTP_INPUT'));
  });
});

describe('inconsistent or malformed policies are rejected with typed errors', () => {
  const invalid: [string, SpTlv[]][] = [
    ['duplicate type', [t(0, 1), t(0, 1)]],
    ['two-octet algorithm', [t(SpParam.ENCR_ALG, 0, 1)]],
    ['empty value', [t(SpParam.ENCR_KEY_LEN)]],
    ['AES-CM with a 17-octet key', [t(SpParam.ENCR_KEY_LEN, 17)]],
    ['AES-CM with a 12-octet salt', [t(SpParam.SALT_KEY_LEN, 12)]],
    ['HMAC tag of 0', [t(SpParam.AUTH_TAG_LEN, 0)]],
    ['HMAC tag longer than SHA-1', [t(SpParam.AUTH_TAG_LEN, 21)]],
    ['NULL auth with a tag length', [t(SpParam.AUTH_ALG, 0), t(SpParam.AUTH_TAG_LEN, 10)]],
    ['GCM with HMAC-SHA1', [t(SpParam.ENCR_ALG, 6), t(SpParam.AUTH_ALG, 1)]],
    ['GCM with an auth tag length', [t(SpParam.ENCR_ALG, 6), t(SpParam.AUTH_TAG_LEN, 10)]],
    ['GCM with a 14-octet salt', [t(SpParam.ENCR_ALG, 6), t(SpParam.SALT_KEY_LEN, 14)]],
    ['GCM with authentication off', [t(SpParam.ENCR_ALG, 6), t(SpParam.SRTP_AUTH, 0)]],
    ['AEAD tag for AES-CM', [t(SpParam.AEAD_TAG_LEN, 16)]],
    ['flag value 2', [t(SpParam.SRTP_ENCR, 2)]],
    ['bad TLV object', [{ type: 300, value: new Uint8Array(1) }]],
  ];
  for (const [name, tlvs] of invalid) {
    it(`invalid: ${name}`, () => expect(() => policyFromTlvs(tlvs)).toThrow(code('SRTP_POLICY_INVALID')));
  }
  const unsupported: [string, SpTlv[]][] = [
    ['NULL cipher', [t(SpParam.ENCR_ALG, 0)]],
    ['AES-f8', [t(SpParam.ENCR_ALG, 2)]],
    ['AES-192-CM', [t(SpParam.ENCR_KEY_LEN, 24)]],
    ['AES-256 with a 32-bit tag', [t(SpParam.ENCR_KEY_LEN, 32), t(SpParam.AUTH_TAG_LEN, 4)]],
    ['unauthenticated SRTP', [t(SpParam.AUTH_ALG, 0)]],
    ['SRTP encryption off', [t(SpParam.SRTP_ENCR, 0)]],
    ['non-zero prefix', [t(SpParam.PREFIX_LEN, 4)]],
    ['other PRF', [t(SpParam.PRF, 1)]],
    ['unknown TLV type 13', [t(13, 0)]],
    ['AEAD_AES_256_GCM', [t(SpParam.ENCR_ALG, 6), t(SpParam.ENCR_KEY_LEN, 32)]],
    ['80-bit tag with a 16-octet auth key', [t(SpParam.AUTH_KEY_LEN, 16)]],
  ];
  for (const [name, tlvs] of unsupported) {
    it(`unsupported: ${name}`, () => expect(() => policyFromTlvs(tlvs)).toThrow(code('SRTP_POLICY_UNSUPPORTED')));
  }
  it('errors are SrtpError instances', () => {
    expect(() => policyFromTlvs([t(0, 9)])).toThrow(SrtpError);
    expect(() => policyFromTlvs('x' as unknown as SpTlv[])).toThrow(SrtpError);
  });
});
