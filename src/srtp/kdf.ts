// SRTP key derivation (RFC 3711 §4.3): session keys from a master key and master salt with the
// AES-CM PRF. key_id = label(8) || r(48), r = index DIV key_derivation_rate; x = key_id XOR
// master_salt (right-aligned in 112 bits); output = AES-CM keystream under the master key from the
// counter block x·2^16. SRTCP (labels 3–5) uses r = SRTCP index DIV kdr in the same 48-bit field,
// which is what libsrtp and the published SRTCP values do. A master salt shorter than 112 bits
// (RFC 7714 GCM: 96) is left-aligned and zero-padded to 112 bits, again as libsrtp does.
import { createCipheriv } from 'node:crypto';
import { SrtpError } from './errors.js';

export const SrtpLabel = {
  RTP_ENCRYPTION: 0x00,
  RTP_AUTH: 0x01,
  RTP_SALT: 0x02,
  RTCP_ENCRYPTION: 0x03,
  RTCP_AUTH: 0x04,
  RTCP_SALT: 0x05,
} as const;

const SALT_FIELD = 14; // 112 bits
const MAX_INDEX = (1n << 48n) - 1n;
const MAX_OUT = 1 << 20; // 2^23 bits, the AES-CM PRF limit

function fail(msg: string): never {
  throw new SrtpError('SRTP_INPUT', msg);
}

function bytes(name: string, v: unknown, lens: readonly number[]): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${name} must be a Uint8Array`);
  if (!lens.includes(v.length)) fail(`${name} has ${v.length} octets, expected one of ${lens.join(', ')}`);
  return v;
}

/** True for 0 and for the powers of two 1 .. 2^24 (RFC 3711 §4.3.1). */
export function isValidKdr(kdr: number): boolean {
  return Number.isInteger(kdr) && kdr >= 0 && kdr <= 1 << 24 && (kdr & (kdr - 1)) === 0;
}

function toIndex(index: number | bigint): bigint {
  const i = typeof index === 'bigint' ? index : Number.isSafeInteger(index) ? BigInt(index) : fail('index must be an integer');
  if (i < 0n || i > MAX_INDEX) fail('index must fit in 48 bits');
  return i;
}

/** r = index DIV kdr (0 when kdr = 0). */
export function kdfR(index: number | bigint, kdr: number): bigint {
  if (!isValidKdr(kdr)) fail('key_derivation_rate must be 0 or a power of two up to 2^24');
  const i = toIndex(index);
  return kdr === 0 ? 0n : i / BigInt(kdr);
}

/** True when a new derivation is due before the packet with this index (i mod kdr = 0, kdr > 0). */
export function rekeyDue(index: number | bigint, kdr: number): boolean {
  if (!isValidKdr(kdr)) fail('key_derivation_rate must be 0 or a power of two up to 2^24');
  return kdr !== 0 && toIndex(index) % BigInt(kdr) === 0n;
}

/**
 * One session key/salt: the first `outLen` octets of PRF(master_key, x).
 * @param masterKey  16, 24 or 32 octets (AES-128/192/256)
 * @param masterSalt 14 octets (or 12 for RFC 7714 profiles; zero-padded on the right to 14)
 * @param label      0..255 (0x00–0x05 defined, see SrtpLabel)
 * @param index      SRTP packet index (48 bits) or SRTCP index (31 bits)
 * @param kdr        key_derivation_rate: 0 or 2^0..2^24
 */
export function srtpKdf(
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
  label: number,
  index: number | bigint,
  kdr: number,
  outLen: number,
): Uint8Array {
  bytes('master key', masterKey, [16, 24, 32]);
  bytes('master salt', masterSalt, [12, 14]);
  if (!Number.isInteger(label) || label < 0 || label > 255) fail('label must be an octet');
  if (!Number.isInteger(outLen) || outLen < 1 || outLen > MAX_OUT) fail('outLen must be 1..2^20 octets');
  const r = kdfR(index, kdr);
  const iv = new Uint8Array(16);
  iv.set(masterSalt, 0); // left-aligned in the 112-bit field (a 14-octet salt fills it exactly)
  // key_id = label || r(48) occupies octets 7..13 of the 14-octet x (right-aligned).
  iv[7]! ^= label;
  for (let k = 0; k < 6; k++) iv[13 - k]! ^= Number((r >> BigInt(8 * k)) & 0xffn);
  const c = createCipheriv(`aes-${masterKey.length * 8}-ctr`, masterKey, iv);
  const out = c.update(new Uint8Array(outLen)); // CTR: final() adds nothing, so no intermediate copy
  c.final();
  iv.fill(0);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export interface SessionKeyLengths {
  /** n_e: session encryption key (default 16) */
  encKey: number;
  /** n_a: session authentication key (default 20; 0 for AEAD profiles, which derive none) */
  authKey: number;
  /** n_s: session salt (default 14; 12 for RFC 7714 GCM) */
  salt: number;
}

export interface SessionKeys {
  encKey: Uint8Array;
  /** empty when authKey length is 0 */
  authKey: Uint8Array;
  salt: Uint8Array;
}

export const DEFAULT_SESSION_KEY_LENGTHS: SessionKeyLengths = { encKey: 16, authKey: 20, salt: 14 };

function deriveSet(
  mk: Uint8Array,
  ms: Uint8Array,
  labels: readonly [number, number, number],
  index: number | bigint,
  kdr: number,
  lens: SessionKeyLengths,
): SessionKeys {
  return {
    encKey: srtpKdf(mk, ms, labels[0], index, kdr, lens.encKey),
    authKey: lens.authKey === 0 ? new Uint8Array(0) : srtpKdf(mk, ms, labels[1], index, kdr, lens.authKey),
    salt: srtpKdf(mk, ms, labels[2], index, kdr, lens.salt),
  };
}

/** SRTP session keys (labels 0, 1, 2) for the packet index `index` (48-bit ROC||SEQ). */
export function deriveSrtpSessionKeys(
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
  opts: { index?: number | bigint; kdr?: number; lengths?: SessionKeyLengths } = {},
): SessionKeys {
  const labels = [SrtpLabel.RTP_ENCRYPTION, SrtpLabel.RTP_AUTH, SrtpLabel.RTP_SALT] as const;
  return deriveSet(masterKey, masterSalt, labels, opts.index ?? 0, opts.kdr ?? 0, opts.lengths ?? DEFAULT_SESSION_KEY_LENGTHS);
}

/** SRTCP session keys (labels 3, 4, 5) for the 31-bit SRTCP index. */
export function deriveSrtcpSessionKeys(
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
  opts: { index?: number; kdr?: number; lengths?: SessionKeyLengths } = {},
): SessionKeys {
  const index = opts.index ?? 0;
  if (!Number.isInteger(index) || index < 0 || index > 0x7fffffff) fail('SRTCP index must be 31 bits');
  const labels = [SrtpLabel.RTCP_ENCRYPTION, SrtpLabel.RTCP_AUTH, SrtpLabel.RTCP_SALT] as const;
  return deriveSet(masterKey, masterSalt, labels, index, opts.kdr ?? 0, opts.lengths ?? DEFAULT_SESSION_KEY_LENGTHS);
}
