// Big-endian octets <-> non-negative bigint, the conversions every layer needs (scalars, DER
// INTEGERs, HashToRange, P-256 coordinates). Done through hex, which costs about a fifth of a
// per-octet shift loop: these run several dozen times per key exchange.

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
