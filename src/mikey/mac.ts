// MIKEY MACs (KEMAC MAC alg / V payload Auth alg, mikey-base.md §4.1, §4.9): HMAC-SHA-1-160 and
// HMAC-SHA-256-256, constant-time verification, and the RFC 6267 V-MAC input assembled from byte
// ranges the codec supplies (mikey-ibake.md §9.3, suggested profile of OPEN-10: the message minus
// its ESK payloads, up to and including the V payload's Next payload + Auth alg octets, followed by
// the identities' ID Data — no timestamp). This module never parses MIKEY messages itself.
import { createHmac } from 'node:crypto';
import { freshBytes } from '../util/byte-slab.js';
import { ctEqual } from '../util/ct-equal.js';
import { hmacSha256 } from './hmac-sha256.js';
import { MikeyCryptoError, requireBytes, requireInt } from './prf.js';
import { MAC_LENGTHS, MacAlg } from './registry.js';

/** MAC alg / Auth alg values (RFC 3830 §6.2, RFC 6043): defined in registry.ts with the other code points. */
export { MacAlg };

const HMACS: Record<number, { hash: 'sha1' | 'sha256'; len: number }> = {
  [MacAlg.HMAC_SHA1_160]: { hash: 'sha1', len: MAC_LENGTHS[MacAlg.HMAC_SHA1_160]! },
  [MacAlg.HMAC_SHA256_256]: { hash: 'sha256', len: MAC_LENGTHS[MacAlg.HMAC_SHA256_256]! },
};

/** Tag length in octets of a MAC alg (0 for NULL); throws MIKEY_MAC_UNSUPPORTED for unknown values. */
export function macLength(alg: number): number {
  if (alg === MacAlg.NULL) return 0;
  const h = HMACS[alg];
  if (!h) throw new MikeyCryptoError('MIKEY_MAC_UNSUPPORTED', `MAC alg ${String(alg)} is not supported`);
  return h.len;
}

/** Recommended auth_key length for a MAC alg (= hash output size, RFC 3830 §4.1.4). */
export function macKeyLength(alg: number): number {
  return macLength(alg);
}

function hmacSpec(alg: number): { hash: 'sha1' | 'sha256'; len: number } {
  const h = HMACS[alg];
  if (!h) throw new MikeyCryptoError('MIKEY_MAC_UNSUPPORTED', `MAC alg ${String(alg)} cannot compute a MAC`);
  return h;
}

/** HMAC tag truncated to `tagLen` octets (the leftmost ones); also serves truncated uses such as SRTP. */
export function hmacTruncated(hash: 'sha1' | 'sha256', key: Uint8Array, data: Uint8Array | readonly Uint8Array[], tagLen: number): Uint8Array {
  requireBytes('MAC key', key);
  const full = hash === 'sha1' ? 20 : 32;
  requireInt('tagLen', tagLen, 1, full);
  const parts: readonly Uint8Array[] = data instanceof Uint8Array ? [data] : data;
  for (const p of parts) requireBytes('MAC input', p);
  let d: Uint8Array;
  if (hash === 'sha256') {
    d = hmacSha256(key, ...parts); // pure JS: cheaper than createHmac's setup for short inputs
  } else {
    const h = createHmac(hash, key);
    for (const p of parts) h.update(p);
    d = h.digest();
  }
  const out = new Uint8Array(tagLen);
  for (let i = 0; i < tagLen; i++) out[i] = d[i]!; // not d.subarray: it would move d out of V8's heap
  d.fill(0);
  return out;
}

/** Constant-time comparison of a received tag with the expected one (length is not secret). */
export function tagsEqual(expected: Uint8Array, received: Uint8Array): boolean {
  if (!(received instanceof Uint8Array) || expected.length !== received.length) return false;
  return ctEqual(expected, received);
}

/** Verifies a (possibly truncated) HMAC tag in constant time; returns false on any mismatch. */
export function hmacVerifyTruncated(hash: 'sha1' | 'sha256', key: Uint8Array, data: Uint8Array | readonly Uint8Array[], tag: Uint8Array): boolean {
  requireBytes('tag', tag, 1, hash === 'sha1' ? 20 : 32);
  const exp = hmacTruncated(hash, key, data, tag.length);
  const ok = tagsEqual(exp, tag);
  exp.fill(0);
  return ok;
}

/**
 * MAC over `data` (one buffer or several concatenated) with the full-length tag of `alg`.
 * NULL is rejected: a caller that accepts MAC alg NULL handles that case itself.
 */
export function macCompute(alg: number, key: Uint8Array, data: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const { hash, len } = hmacSpec(alg);
  return hmacTruncated(hash, key, data, len);
}

/**
 * Constant-time verification. Returns false if the tag is wrong or has the wrong length;
 * throws MIKEY_MAC_UNSUPPORTED for NULL or unknown algorithms (never "verifies" a NULL MAC).
 */
export function macVerify(alg: number, key: Uint8Array, data: Uint8Array | readonly Uint8Array[], tag: Uint8Array): boolean {
  const { hash, len } = hmacSpec(alg);
  requireBytes('MAC key', key);
  if (!(tag instanceof Uint8Array) || tag.length !== len) return false;
  return hmacVerifyTruncated(hash, key, data, tag);
}

/** Half-open byte range [start, end) inside a message. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface VMacInputParts {
  /** The MIKEY message as sent/received (with or without the Ver data at its end). */
  message: Uint8Array;
  /** Offset of the first Ver data octet of the V payload (= V payload start + 2). */
  macOffset: number;
  /** Byte ranges of every ESK payload (whole payload: Next payload .. end of Encr data). */
  eskRanges?: readonly ByteRange[];
  /**
   * ID Data of the identities, in order: Initiator's then Responder's (for R_MESSAGE_2 the
   * Responder identity R used in R_MESSAGE_1); for the KMS exchange the user's identity(ies)
   * then the KMS identity.
   */
  identities: readonly Uint8Array[];
}

/**
 * Builds the V-MAC input: message[0 .. macOffset) with the ESK ranges left out, then the ID Data
 * of each identity. ESK ranges must be sorted, non-overlapping and end before macOffset.
 */
export function buildVMacInput(parts: VMacInputParts): Uint8Array {
  const msg = requireBytes('message', parts.message, 1);
  const macOffset = requireInt('macOffset', parts.macOffset, 2, msg.length);
  const esk = parts.eskRanges ?? [];
  if (!Array.isArray(parts.identities) || parts.identities.length === 0) {
    throw new MikeyCryptoError('MIKEY_CRYPTO_INPUT', 'at least one identity is required in the V-MAC input');
  }
  const ids = parts.identities.map((id, i) => requireBytes(`identity ${i}`, id, 1, 0xffff));
  const keep: Uint8Array[] = [];
  let pos = 0;
  for (const r of esk) {
    requireInt('ESK range start', r.start, pos, macOffset);
    requireInt('ESK range end', r.end, r.start + 1, macOffset);
    keep.push(msg.subarray(pos, r.start));
    pos = r.end;
  }
  keep.push(msg.subarray(pos, macOffset));
  const total = keep.reduce((n, b) => n + b.length, 0) + ids.reduce((n, b) => n + b.length, 0);
  const out = freshBytes(total);
  let o = 0;
  for (const b of [...keep, ...ids]) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** V payload MAC of a message (see buildVMacInput for the input rules). */
export function computeVMac(alg: number, authKey: Uint8Array, parts: VMacInputParts): Uint8Array {
  return macCompute(alg, authKey, buildVMacInput(parts));
}

/** Constant-time check of the V payload MAC; false on mismatch. */
export function verifyVMac(alg: number, authKey: Uint8Array, parts: VMacInputParts, tag: Uint8Array): boolean {
  return macVerify(alg, authKey, buildVMacInput(parts), tag);
}
