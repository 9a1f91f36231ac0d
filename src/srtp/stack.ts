// One crypto session's keys in the forms SRTP stacks take them: master key ‖ master salt in one
// piece (libsrtp's srtp_policy_t.key, GStreamer's srtp-key), the RFC 4568 `inline:` base64, the
// SSRC and initial ROC of the MIKEY SRTP-ID map, the libsrtp2 profile / crypto-policy setters and
// the GStreamer srtpenc/srtpdec caps fields. Which party sends the stream follows the CS ID
// parity (odd: the Initiator, even: the Responder; our profile for OPEN-S1, docs/keys.md §7).
// Pure formatting: no key is derived here, only laid out.
import { SrtpError } from './errors.js';
import { SRTP_PROFILES, type SrtpProfileName } from './policy.js';
import { encodeBase64 } from '../util/base64.js';

/** libsrtp2 names for a profile: the srtp_profile_t (null: libsrtp2 has none) and the setters. */
export interface LibsrtpNames {
  /** srtp_profile_t value name, for srtp_crypto_policy_set_from_profile_for_rtp/rtcp; null when libsrtp has none */
  profile: string | null;
  /** srtp_crypto_policy_set_* function for policy.rtp */
  rtp: string;
  /** srtp_crypto_policy_set_* function for policy.rtcp */
  rtcp: string;
}

/** The GStreamer `application/x-srtp` / `application/x-srtcp` caps fields srtpdec reads (and srtpenc's properties). */
export interface GstSrtpFields {
  /** master key ‖ master salt (GstBuffer) */
  'srtp-key': Uint8Array;
  'srtp-cipher': string;
  'srtp-auth': string;
  'srtcp-cipher': string;
  'srtcp-auth': string;
  roc: number;
  ssrc: number;
}

export interface StackKeys {
  /** master key ‖ master salt (the same bytes as gst['srtp-key']) */
  keySalt: Uint8Array;
  /** RFC 4568 key-params value without the "inline:" prefix: base64(master key ‖ master salt) */
  inline: string;
  /** SSRC of the stream (uint32) as the SRTP stack sees it in packets */
  ssrc: number;
  /** initial rollover counter from the SRTP-ID map */
  roc: number;
  /** who sends this stream: odd CS ID the Initiator, even the Responder */
  sender: 'initiator' | 'responder';
  libsrtp: LibsrtpNames;
  gst: GstSrtpFields;
}

interface StackProfile {
  libsrtp: LibsrtpNames;
  gst: { rtpCipher: string; rtpAuth: string; rtcpCipher: string; rtcpAuth: string };
}

/** Per profile: libsrtp2 2.x (srtp.h) and GStreamer 1.22 srtp element enum nicks. */
export const STACK_PROFILES: Readonly<Record<SrtpProfileName, StackProfile>> = {
  AES_CM_128_HMAC_SHA1_80: {
    libsrtp: { profile: 'srtp_profile_aes128_cm_sha1_80', rtp: 'srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80', rtcp: 'srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80' },
    gst: { rtpCipher: 'aes-128-icm', rtpAuth: 'hmac-sha1-80', rtcpCipher: 'aes-128-icm', rtcpAuth: 'hmac-sha1-80' },
  },
  // SRTCP never takes the short tag (RFC 3711 §5.2): libsrtp's profile and GStreamer agree on 80 for RTCP.
  AES_CM_128_HMAC_SHA1_32: {
    libsrtp: { profile: 'srtp_profile_aes128_cm_sha1_32', rtp: 'srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32', rtcp: 'srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80' },
    gst: { rtpCipher: 'aes-128-icm', rtpAuth: 'hmac-sha1-32', rtcpCipher: 'aes-128-icm', rtcpAuth: 'hmac-sha1-80' },
  },
  AES_256_CM_HMAC_SHA1_80: {
    libsrtp: { profile: null, rtp: 'srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80', rtcp: 'srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80' },
    gst: { rtpCipher: 'aes-256-icm', rtpAuth: 'hmac-sha1-80', rtcpCipher: 'aes-256-icm', rtcpAuth: 'hmac-sha1-80' },
  },
  AEAD_AES_128_GCM: {
    libsrtp: { profile: 'srtp_profile_aead_aes_128_gcm', rtp: 'srtp_crypto_policy_set_aes_gcm_128_16_auth', rtcp: 'srtp_crypto_policy_set_aes_gcm_128_16_auth' },
    gst: { rtpCipher: 'aes-128-gcm', rtpAuth: 'null', rtcpCipher: 'aes-128-gcm', rtcpAuth: 'null' },
  },
};

/** What a crypto session's keys are made of (src/ibake/output.ts CryptoSessionKeys extends it). */
export interface StackKeyInput {
  csId: number;
  ssrc: number;
  /** initial rollover counter of the stream (the SRTP-ID map's ROC) */
  roc: number;
  profile: string;
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
}

function bad(msg: string): never {
  throw new SrtpError('SRTP_INPUT', msg);
}
const u32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;

/**
 * The stack forms of one crypto session's keys. `keySalt` is a fresh buffer (the caller wipes it
 * with the master key); gst['srtp-key'] is that same buffer, not a second copy.
 */
export function stackKeys(k: StackKeyInput): StackKeys {
  const p = Object.hasOwn(SRTP_PROFILES, k.profile) ? SRTP_PROFILES[k.profile as SrtpProfileName] : undefined;
  if (!p) bad(`unknown SRTP profile ${String(k.profile).slice(0, 40)}`);
  if (!Number.isInteger(k.csId) || k.csId < 1 || k.csId > 255) bad('csId must be 1..255');
  if (!u32(k.ssrc) || !u32(k.roc)) bad('ssrc and roc must be 32-bit unsigned integers');
  if (!(k.masterKey instanceof Uint8Array) || k.masterKey.length !== p.masterKeyLen) bad(`${p.name} needs a ${p.masterKeyLen}-octet master key`);
  if (!(k.masterSalt instanceof Uint8Array) || k.masterSalt.length !== p.masterSaltLen) bad(`${p.name} needs a ${p.masterSaltLen}-octet master salt`);
  const keySalt = new Uint8Array(p.masterKeyLen + p.masterSaltLen);
  keySalt.set(k.masterKey, 0);
  keySalt.set(k.masterSalt, p.masterKeyLen);
  const s = STACK_PROFILES[p.name];
  return {
    keySalt,
    inline: encodeBase64(keySalt),
    ssrc: k.ssrc,
    roc: k.roc,
    sender: k.csId % 2 === 1 ? 'initiator' : 'responder',
    libsrtp: { ...s.libsrtp },
    gst: {
      'srtp-key': keySalt,
      'srtp-cipher': s.gst.rtpCipher,
      'srtp-auth': s.gst.rtpAuth,
      'srtcp-cipher': s.gst.rtcpCipher,
      'srtcp-auth': s.gst.rtcpAuth,
      roc: k.roc,
      ssrc: k.ssrc,
    },
  };
}

/**
 * A GStreamer caps string for srtpdec's sink (`application/x-srtp`) or RTCP sink
 * (`application/x-srtcp`), e.g. for a udpsrc `caps=` property. Contains the key: never log it.
 * `extra` adds fields such as payload / clock-rate / encoding-name (tokens, or integers written as
 * (int) as RTP caps have them).
 */
export function gstCapsString(media: 'application/x-srtp' | 'application/x-srtcp', g: GstSrtpFields, extra: Record<string, string | number> = {}): string {
  if (media !== 'application/x-srtp' && media !== 'application/x-srtcp') bad('media must be application/x-srtp or application/x-srtcp');
  const parts: string[] = [media];
  for (const [name, v] of Object.entries(extra)) {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) bad(`bad caps field name ${name.slice(0, 40)}`);
    if (typeof v === 'number') {
      // RTP caps fields (payload, clock-rate, ...) are gint in GStreamer; only ssrc/roc are guint
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) bad(`caps field ${name} must be an integer 0..2^31-1`);
      parts.push(`${name}=(int)${v}`);
    } else if (typeof v === 'string' && /^[A-Za-z0-9_.-]+$/.test(v)) parts.push(`${name}=(string)${v}`);
    else bad(`caps field ${name} must be a token or an unsigned integer`);
  }
  parts.push(
    `ssrc=(uint)${g.ssrc}`,
    `roc=(uint)${g.roc}`,
    `srtp-key=(buffer)${Buffer.from(g['srtp-key']).toString('hex')}`,
    `srtp-cipher=(string)${g['srtp-cipher']}`,
    `srtp-auth=(string)${g['srtp-auth']}`,
    `srtcp-cipher=(string)${g['srtcp-cipher']}`,
    `srtcp-auth=(string)${g['srtcp-auth']}`,
  );
  return parts.join(', ');
}
