// MIKEY pseudo-random functions (RFC 3830 §4.1.2 and RFC 6043 §6.1), selected by the HDR's PRF func.
// Both cut the input key into 256-bit chunks, run a TLS-1.0-style P function per chunk and XOR the
// results: MIKEY-1 (func 0) with HMAC-SHA-1, PRF-HMAC-SHA-256 (func 1) with HMAC-SHA-256.
// Also home of MikeyCryptoError, the typed error of the key/MAC/KEMAC-crypto modules, because every
// one of them sits on top of this file. Works on byte strings only (no curves, no codec).
import { createHmac } from 'node:crypto';
import { IbakedError } from '../util/errors.js';
import { HmacSha256Key } from './hmac-sha256.js';

/** Rejected input of the MIKEY crypto modules (prf, keys, mac, kemac-crypto). */
export type MikeyCryptoErrorCode =
  | 'MIKEY_CRYPTO_INPUT' // wrong type, length or range of an argument
  | 'MIKEY_PRF_UNSUPPORTED' // PRF func value we do not implement
  | 'MIKEY_MAC_UNSUPPORTED' // MAC alg value we do not implement
  | 'MIKEY_ENCR_UNSUPPORTED' // KEMAC Encr alg value we do not implement
  | 'MIKEY_MAC_MISMATCH' // a MAC did not verify
  | 'MIKEY_DECRYPT_FAILED'; // AES key unwrap integrity check failed

export class MikeyCryptoError extends IbakedError {
  constructor(code: MikeyCryptoErrorCode, message: string) {
    super(code, message);
  }
}

/** HDR "PRF func" values (mikey-base.md §3.3). */
export const PrfFunc = {
  MIKEY_1: 0,
  HMAC_SHA_256: 1,
} as const;
export type PrfFunc = (typeof PrfFunc)[keyof typeof PrfFunc];

/** Largest output we agree to produce: 2^16 octets is far beyond any MIKEY key. */
export const PRF_MAX_OUT = 0x10000;
const CHUNK = 32; // 256-bit input-key chunks, for both PRFs

/** Throws unless `v` is a Uint8Array (Buffer is one too). */
export function requireBytes(name: string, v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new MikeyCryptoError('MIKEY_CRYPTO_INPUT', `${name} must be a Uint8Array`);
  if (v.length < min || v.length > max) {
    throw new MikeyCryptoError('MIKEY_CRYPTO_INPUT', `${name} has ${v.length} octets, expected ${min === max ? min : `${min}..${max}`}`);
  }
  return v;
}

/** Throws unless `v` is an integer in [min, max]. */
export function requireInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new MikeyCryptoError('MIKEY_CRYPTO_INPUT', `${name} must be an integer in ${min}..${max}`);
  }
  return v;
}

/** Maps a PRF func value to its hash; rejects anything else with MIKEY_PRF_UNSUPPORTED. */
export function prfHash(func: number): { hash: 'sha1' | 'sha256'; blockLen: number } {
  if (func === PrfFunc.MIKEY_1) return { hash: 'sha1', blockLen: 20 };
  if (func === PrfFunc.HMAC_SHA_256) return { hash: 'sha256', blockLen: 32 };
  throw new MikeyCryptoError('MIKEY_PRF_UNSUPPORTED', `PRF func ${String(func)} is not supported`);
}

function hmac(hash: string, key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac(hash, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * The P function for one key chunk, XORed into `acc` (length = m blocks):
 * A_0 = label, A_i = HMAC(s, A_{i-1}), block_i = HMAC(s, A_i || label).
 */
function xorP(hash: string, s: Uint8Array, label: Uint8Array, acc: Uint8Array, blockLen: number): void {
  // SHA-256 (our profile's PRF): the key's pad states once, then about 1 µs per HMAC
  // (hmac-sha256.ts); SHA-1 (MIKEY-1) through node:crypto.
  const fast = hash === 'sha256' ? new HmacSha256Key(s) : undefined;
  let a: Uint8Array | undefined; // A_i; A_0 is the label itself (never wiped here)
  try {
    for (let off = 0; off < acc.length; off += blockLen) {
      const next = fast ? fast.mac2(a ?? label) : hmac(hash, s, a ?? label);
      a?.fill(0);
      a = next;
      const block = fast ? fast.mac2(a, label) : hmac(hash, s, a, label);
      for (let j = 0; j < blockLen; j++) acc[off + j]! ^= block[j]!;
      block.fill(0);
    }
  } finally {
    a?.fill(0);
    fast?.wipe();
  }
}

/** The whole PRF-HMAC-SHA-256 in one call, in place (Engine.mikeyPrfSha256: the native addon's). */
export type PrfSha256Fn = (buf: Uint8Array, inkeyLen: number, labelLen: number, outLen: number) => void;
let prfFn: PrfSha256Fn | undefined;
/** Scratch of the lent PRF: inkey ‖ label ‖ output. Over 64 octets, so it has an ArrayBuffer of
 *  its own from the start (the native side reads and writes it in place); wiped after each use. */
const PRF_SCRATCH = new Uint8Array(1024);

/**
 * Lends this module a PRF-HMAC-SHA-256 (an engine's; undefined: back to the JavaScript one). A
 * warm call runs the PRF 14 times, about 1.9 µs each in JavaScript with the lent compression
 * (1.36 µs in a hot loop, against 0.55 µs in one native call); the bytes are the same
 * (test/mikey-prf.test.ts checks both paths against node:crypto).
 * Inputs that do not fit the scratch run here.
 */
export function usePrfSha256(fn: PrfSha256Fn | undefined): void {
  prfFn = fn;
}

/** Whether a lent PRF-HMAC-SHA-256 is in use. */
export function prfSha256Lent(): boolean {
  return prfFn !== undefined;
}

/** The lent PRF, or undefined when the inputs do not fit its scratch. */
function lentPrf(inkey: Uint8Array, label: Uint8Array, outLen: number): Uint8Array | undefined {
  const end = inkey.length + label.length + outLen;
  if (!prfFn || end > PRF_SCRATCH.length) return undefined;
  const at = inkey.length + label.length;
  PRF_SCRATCH.set(inkey, 0); // set() copies a small on-heap array without moving it out
  PRF_SCRATCH.set(label, inkey.length);
  try {
    prfFn(PRF_SCRATCH, inkey.length, label.length, outLen);
    const out = new Uint8Array(outLen);
    for (let i = 0; i < outLen; i++) out[i] = PRF_SCRATCH[at + i]!;
    return out;
  } finally {
    PRF_SCRATCH.fill(0, 0, end);
  }
}

/**
 * MIKEY PRF(inkey, label) truncated to `outLen` octets.
 * @param func   HDR PRF func: 0 MIKEY-1 (HMAC-SHA-1), 1 PRF-HMAC-SHA-256
 * @param inkey  input key of any length >= 1 octet (cut into 32-octet chunks, the last may be shorter)
 * @param label  the derivation label (constant || ... || RAND)
 * @param outLen output length in OCTETS (1..65536)
 */
export function mikeyPrf(func: number, inkey: Uint8Array, label: Uint8Array, outLen: number): Uint8Array {
  const { hash, blockLen } = prfHash(func);
  requireBytes('inkey', inkey, 1);
  requireBytes('label', label);
  requireInt('outLen', outLen, 1, PRF_MAX_OUT);
  if (hash === 'sha256') {
    const lent = lentPrf(inkey, label, outLen);
    if (lent) return lent;
  }
  const m = Math.ceil(outLen / blockLen);
  const acc = new Uint8Array(m * blockLen);
  // A key of one chunk goes as it is: a subarray of a small array (≤ 64 octets, inside V8's
  // heap) would first move it to a malloc'ed buffer of its own; likewise the output is cut by
  // copying, not by acc.slice, when it is shorter than the blocks.
  if (inkey.length <= CHUNK) xorP(hash, inkey, label, acc, blockLen);
  else for (let off = 0; off < inkey.length; off += CHUNK) xorP(hash, inkey.subarray(off, Math.min(off + CHUNK, inkey.length)), label, acc, blockLen);
  if (acc.length === outLen) return acc;
  const out = new Uint8Array(outLen);
  for (let i = 0; i < outLen; i++) out[i] = acc[i]!;
  acc.fill(0);
  return out;
}
