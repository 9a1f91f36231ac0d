// Short random octet strings (IBE rho, MIKEY RAND) from node:crypto's CSPRNG — OpenSSL's DRBG,
// seeded by the OS — drawn 4 KiB at a time: one randomFillSync per few dozen exchanges instead
// of one per value (each call costs several µs, tens right after the thread slept). Octets are
// handed out once and zeroed in the pool as they go; longer requests go straight to the CSPRNG.
import { randomBytes, randomFillSync } from 'node:crypto';

const POOL_OCTETS = 4096;
const MAX_POOLED = 64;
const pool = new Uint8Array(POOL_OCTETS);
let next = POOL_OCTETS;

/** n fresh random octets (a new array the caller owns). */
export function randomOctets(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError('random length must be a non-negative integer');
  if (n > MAX_POOLED) return new Uint8Array(randomBytes(n));
  if (next + n > POOL_OCTETS) {
    randomFillSync(pool);
    next = 0;
  }
  const out = pool.slice(next, next + n);
  pool.fill(0, next, next + n);
  next += n;
  return out;
}

/**
 * A uniform random integer in [1, 2^32 − 2] (node:crypto's randomInt(1, 0xffffffff)) from the
 * pool: CSB IDs and SSRCs, several per call. Four octets at a time; 0 and 2^32 − 1 are redrawn.
 */
export function randomNonZeroU32(): number {
  for (;;) {
    const b = randomOctets(4);
    const v = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    b.fill(0);
    if (v !== 0 && v !== 0xffffffff) return v;
  }
}
