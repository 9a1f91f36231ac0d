// Big-endian octets <-> non-negative bigint, the conversions every layer needs (scalars, DER
// INTEGERs, HashToRange, P-256 coordinates). Done through hex, which costs about a fifth of a
// per-octet shift loop: these run several dozen times per key exchange. Public 32-octet values
// in larger arrays (received P-256 coordinates) go through 64-bit words instead (publicU256At).
import { V8_MAX_IN_HEAP_OCTETS } from './byte-slab.js';

/** The non-negative integer whose big-endian octets are `b` (0n for no octets). */
export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  // A wiped copy in Node's buffer pool (scalars can be secret), not a view of `b.buffer`: asking
  // a small array (≤ 64 octets, inside V8's heap) for its buffer moves it to a malloc'ed one.
  const c = Buffer.from(b);
  try {
    return BigInt('0x' + c.toString('hex'));
  } finally {
    c.fill(0);
  }
}

/**
 * The 32-octet big-endian integer at b[off, off + 32) of a *public* value (received P-256
 * coordinates), read as four 64-bit words through a DataView: no copy to wipe, half the time of
 * the hex route and fewer intermediate bigints than 32-bit words. For arrays of more than 64
 * octets only, which already have a buffer of their own outside V8's heap (a DataView does not
 * move them out). RangeError if b has fewer than off + 32 octets.
 */
export function publicU256At(b: Uint8Array, off: number): bigint {
  if (b.length <= V8_MAX_IN_HEAP_OCTETS) throw new RangeError(`publicU256At reads arrays of more than ${V8_MAX_IN_HEAP_OCTETS} octets`);
  if (!Number.isInteger(off) || off < 0 || off + 32 > b.length) throw new RangeError('publicU256At: 32 octets at off must lie inside the array');
  const v = new DataView(b.buffer, b.byteOffset + off, 32);
  return (v.getBigUint64(0) << 192n) | (v.getBigUint64(8) << 128n) | (v.getBigUint64(16) << 64n) | v.getBigUint64(24);
}

/** `v` as exactly `len` big-endian octets; RangeError if it is negative or does not fit. */
export function bigintToBytes(v: bigint, len: number): Uint8Array {
  if (v < 0n) throw new RangeError('negative value');
  const out = new Uint8Array(len);
  if (v === 0n) return out;
  let hex = v.toString(16);
  if (hex.length & 1) hex = '0' + hex;
  const n = hex.length >> 1;
  if (n > len) throw new RangeError(`value does not fit in ${len} octets`);
  out.set(Buffer.from(hex, 'hex'), len - n);
  return out;
}
