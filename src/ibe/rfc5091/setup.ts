// BFsetup1 (RFC 5091 §5.1.2): fresh type-1 parameters and a master secret, from the OS CSPRNG.
// q is an n_q-bit Solinas prime 2^a ± 2^b ± 1, p = 12·r·q − 1 an n_p-bit prime, P = [12r]P'
// for a random curve point P', s random in [2, q−1], P_pub = [s]P.
import { checkPrimeSync, randomBytes, randomInt } from 'node:crypto';
import { IbeError } from '../errors.js';
import type { HashName } from '../hashes.js';
import { mul } from './curve.js';
import { mod, powMod } from './field.js';
import type { Rfc5091Params } from './params.js';
import { bytesToBigint } from '../../util/bigint.js';

export type Rfc5091Level = 1024 | 2048 | 3072;

export const LEVELS: Record<Rfc5091Level, { pBits: number; qBits: number; hash: HashName }> = {
  1024: { pBits: 512, qBits: 160, hash: 'sha1' },
  2048: { pBits: 1024, qBits: 224, hash: 'sha224' },
  3072: { pBits: 1536, qBits: 256, hash: 'sha256' },
};

/** Uniform integer in [lo, hi) (bias < 2^-64). */
export function randomBelow(lo: bigint, hi: bigint): bigint {
  const span = hi - lo;
  if (span <= 0n) throw new RangeError('empty range');
  const bytes = Math.ceil(span.toString(2).length / 8) + 8;
  const buf = randomBytes(bytes);
  const v = bytesToBigint(buf);
  buf.fill(0);
  return lo + (v % span);
}

function solinasPrime(bits: number): bigint {
  for (let tries = 0; tries < 100000; tries++) {
    const b = BigInt(randomInt(1, bits - 2));
    const s2 = randomInt(2) ? 1n : -1n;
    const q = randomInt(2) ? (1n << BigInt(bits - 1)) + (1n << b) + s2 : (1n << BigInt(bits)) - (1n << b) + s2;
    if (q.toString(2).length === bits && checkPrimeSync(q)) return q;
  }
  throw new IbeError('IBE_BAD_PARAMS', 'no Solinas prime found');
}

export function bfSetup(level: Rfc5091Level = 2048): { params: Rfc5091Params; s: bigint } {
  const L = LEVELS[level];
  if (!L) throw new IbeError('IBE_BAD_INPUT', `unsupported rfc5091-bf level ${String(level)}`);
  const q = solinasPrime(L.qBits);
  const lo = ((1n << BigInt(L.pBits - 1)) + 1n) / (12n * q) + 1n;
  const hi = (1n << BigInt(L.pBits)) / (12n * q);
  let p = 0n;
  let r = 0n;
  for (;;) {
    r = randomBelow(lo, hi);
    p = 12n * r * q - 1n;
    if (p.toString(2).length === L.pBits && checkPrimeSync(p)) break;
  }
  let P = null as ReturnType<typeof mul>;
  while (P === null) {
    const y = randomBelow(0n, p);
    const x = powMod(mod(y * y - 1n, p), (2n * p - 1n) / 3n, p);
    P = mul({ x, y }, 12n * r, p);
  }
  const s = randomBelow(2n, q);
  const Ppub = mul(P, s, p);
  if (Ppub === null) throw new IbeError('IBE_BAD_PARAMS', 'P_pub is infinity');
  return { params: { p, q, P, Ppub, hash: L.hash }, s };
}
