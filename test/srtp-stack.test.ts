// stackKeys / gstCapsString (src/srtp/stack.ts): the SRTP-stack forms of a crypto session's keys
// for every profile, checked against the profile table and RFC 4568's inline base64, and input
// validation.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SRTP_PROFILES, gstCapsString, stackKeys, type SrtpProfileName } from '../src/srtp/index.js';

const input = (profile: SrtpProfileName, csId = 1) => {
  const p = SRTP_PROFILES[profile];
  return { csId, ssrc: 0xdeadbeef, roc: 7, profile, masterKey: new Uint8Array(randomBytes(p.masterKeyLen)), masterSalt: new Uint8Array(randomBytes(p.masterSaltLen)) };
};

describe('stackKeys', () => {
  it.each(Object.keys(SRTP_PROFILES) as SrtpProfileName[])('%s: key ‖ salt, inline, SSRC/ROC, libsrtp and GStreamer names', (profile) => {
    const i = input(profile, 2);
    const s = stackKeys(i);
    expect(Buffer.from(s.keySalt)).toEqual(Buffer.concat([i.masterKey, i.masterSalt]));
    expect(s.gst['srtp-key']).toBe(s.keySalt);
    expect(Buffer.from(s.inline, 'base64')).toEqual(Buffer.from(s.keySalt));
    expect([s.ssrc, s.roc, s.gst.ssrc, s.gst.roc, s.sender]).toEqual([0xdeadbeef, 7, 0xdeadbeef, 7, 'responder']);
    const gcm = profile === 'AEAD_AES_128_GCM';
    expect(s.gst['srtp-auth']).toBe(gcm ? 'null' : profile.endsWith('_32') ? 'hmac-sha1-32' : 'hmac-sha1-80');
    expect(s.gst['srtcp-auth']).toBe(gcm ? 'null' : 'hmac-sha1-80'); // SRTCP never uses the 32-bit tag
    expect(s.gst['srtp-cipher']).toBe(gcm ? 'aes-128-gcm' : profile.startsWith('AES_256') ? 'aes-256-icm' : 'aes-128-icm');
    expect(s.libsrtp.rtp).toMatch(/^srtp_crypto_policy_set_/);
    expect(s.libsrtp.profile === null).toBe(profile === 'AES_256_CM_HMAC_SHA1_80');
  });

  it('odd CS IDs are the initiator\'s streams; the inputs are not aliased', () => {
    const i = input('AES_CM_128_HMAC_SHA1_80', 1);
    const s = stackKeys(i);
    expect(s.sender).toBe('initiator');
    s.keySalt.fill(0);
    expect(i.masterKey.some((b) => b !== 0)).toBe(true);
  });

  it('rejects wrong lengths, unknown profiles and out-of-range SSRC/ROC/CS ID', () => {
    const ok = input('AES_CM_128_HMAC_SHA1_80');
    for (const bad of [
      { ...ok, masterKey: new Uint8Array(15) },
      { ...ok, masterSalt: new Uint8Array(12) },
      { ...ok, profile: 'toString' },
      { ...ok, profile: 'AES_CM_128_NULL' },
      { ...ok, ssrc: 2 ** 32 },
      { ...ok, roc: -1 },
      { ...ok, csId: 0 },
      { ...input('AEAD_AES_128_GCM'), masterSalt: new Uint8Array(14) },
    ]) {
      expect(() => stackKeys(bad)).toThrow(expect.objectContaining({ code: 'SRTP_INPUT' }));
    }
  });
});

describe('gstCapsString', () => {
  it('writes srtpdec caps with typed fields', () => {
    const s = stackKeys({ ...input('AES_CM_128_HMAC_SHA1_80'), masterKey: new Uint8Array(16).fill(0xab), masterSalt: new Uint8Array(14).fill(1) });
    expect(gstCapsString('application/x-srtp', s.gst, { payload: 96, 'encoding-name': 'L16' })).toBe(
      'application/x-srtp, payload=(int)96, encoding-name=(string)L16, ssrc=(uint)3735928559, roc=(uint)7, ' +
        `srtp-key=(buffer)${'ab'.repeat(16)}${'01'.repeat(14)}, srtp-cipher=(string)aes-128-icm, srtp-auth=(string)hmac-sha1-80, ` +
        'srtcp-cipher=(string)aes-128-icm, srtcp-auth=(string)hmac-sha1-80',
    );
    expect(() => gstCapsString('application/x-rtp' as never, s.gst)).toThrow(/media/);
    expect(() => gstCapsString('application/x-srtp', s.gst, { 'a,b': 1 })).toThrow(/name/);
    expect(() => gstCapsString('application/x-srtp', s.gst, { x: 'a, srtp-key=(buffer)00' })).toThrow(/token/);
    expect(() => gstCapsString('application/x-srtp', s.gst, { x: -1 })).toThrow(/integer/);
    expect(() => gstCapsString('application/x-srtp', s.gst, { x: 2 ** 31 })).toThrow(/integer/);
  });
});
