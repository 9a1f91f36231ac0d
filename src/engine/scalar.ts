// Scalars of the BLS12-381 prime-order groups: the 32-octet big-endian form used at the engine
// boundary, its validation, and CSPRNG sampling. Shared by every backend and by src/ibe.
import { randomBytes } from 'node:crypto';
import { EngineError } from './errors.js';
import { SCALAR_BYTES, type Scalar } from './types.js';
import { bigintToBytes, bytesToBigint } from '../util/bigint.js';

export { bigintToBytes, bytesToBigint };

/** r, the order of G1, G2 and GT. */
export const R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

/** Checks the engine's scalar rules (Uint8Array, 32 octets, 1 <= k < r); returns k as bigint. */
export function checkScalar(k: unknown): bigint {
  if (!(k instanceof Uint8Array)) throw new EngineError('type', 'scalar must be a Uint8Array');
  if (k.length !== SCALAR_BYTES) throw new EngineError('length', `scalar must be ${SCALAR_BYTES} octets, got ${k.length}`);
  const v = bytesToBigint(k);
  if (v === 0n || v >= R) throw new EngineError('scalar-range', 'scalar must be in [1, r-1]');
  return v;
}

export function scalarFromBigint(v: bigint): Scalar {
  if (v <= 0n || v >= R) throw new EngineError('scalar-range', 'scalar must be in [1, r-1]');
  return bigintToBytes(v, SCALAR_BYTES);
}

/** Uniform scalar in [1, r-1] from the OS CSPRNG (64 octets reduced: bias < 2^-256). */
export function randomScalar(): Scalar {
  for (;;) {
    const wide = randomBytes(64);
    const v = bytesToBigint(wide) % R;
    wide.fill(0);
    if (v !== 0n) return bigintToBytes(v, SCALAR_BYTES);
  }
}
