// NTP-UTC timestamps (RFC 3830 T payload, TS type 0) as the 64-bit unsigned integer the codec
// carries: seconds since 1900-01-01 UTC (mod 2^32) in the high word, binary fraction in the
// low word; and the 8-octet big-endian form the T payload and KEY key-validity intervals hold.
// Conversion back is era-aware (closest era to a reference time), so values on both sides of
// the 2036-02-07 wrap decode correctly. Shared by the builders, the KMS and the IBAKE layer.
const NTP_UNIX_OFFSET = 2_208_988_800n;
const ERA = 1n << 32n;

/** Unix milliseconds -> 64-bit NTP value. */
export function msToNtp64(ms: number): bigint {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError('time must be a non-negative number of ms');
  const total = BigInt(Math.floor(ms));
  const secs = (total / 1000n + NTP_UNIX_OFFSET) % ERA;
  const frac = ((total % 1000n) << 32n) / 1000n;
  return (secs << 32n) | frac;
}

/** 64-bit NTP value -> Unix milliseconds (rounded), choosing the era closest to referenceMs. */
export function ntp64ToMs(v: bigint, referenceMs: number): number {
  if (v < 0n || v >= 1n << 64n) throw new RangeError('NTP value must be a 64-bit unsigned integer');
  const secs = v >> 32n;
  const frac = v & 0xffffffffn;
  const ref = BigInt(Math.floor(referenceMs / 1000)) + NTP_UNIX_OFFSET;
  const refEra = ref / ERA;
  let best = secs;
  let bestDist = -1n;
  for (const era of [refEra - 1n, refEra, refEra + 1n]) {
    if (era < 0n) continue;
    const cand = era * ERA + secs;
    const d = cand > ref ? cand - ref : ref - cand;
    if (bestDist < 0n || d < bestDist) {
      best = cand;
      bestDist = d;
    }
  }
  return Number((best - NTP_UNIX_OFFSET) * 1000n + (frac * 1000n + ERA / 2n) / ERA);
}

/** 64-bit value as 8 big-endian octets (T payload value, KV interval bounds). */
export function u64Bytes(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  // Byte by byte, not through a DataView of out.buffer (which would move this small array out
  // of V8's heap into a malloc'ed buffer; this runs for every T payload).
  const hi = Number((v >> 32n) & 0xffffffffn);
  const lo = Number(v & 0xffffffffn);
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError('value does not fit in 64 bits');
  out[0] = hi >>> 24;
  out[1] = hi >>> 16;
  out[2] = hi >>> 8;
  out[3] = hi;
  out[4] = lo >>> 24;
  out[5] = lo >>> 16;
  out[6] = lo >>> 8;
  out[7] = lo;
  return out;
}

/** 8 big-endian octets as a 64-bit value. */
export function bytesU64(b: Uint8Array): bigint {
  if (b.length !== 8) throw new RangeError('expected 8 octets');
  const hi = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const lo = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}
