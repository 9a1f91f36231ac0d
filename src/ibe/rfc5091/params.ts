// Public parameters of the rfc5091-bf suite (RFC 5091 §5.1: version, E, p, q, P, P_pub,
// hashfcn) and their validation, plus Canonical(p, k, o, v) (§4.3) which depends only on p.
import { checkPrimeSync } from 'node:crypto';
import { IbeError } from '../errors.js';
import { hashFcn, type HashName } from '../hashes.js';
import { eqPoint, inSubgroup, type Point } from './curve.js';
import type { Fp2 } from './field.js';

export interface Rfc5091Params {
  readonly p: bigint;
  readonly q: bigint;
  readonly P: NonNullable<Point>;
  readonly Ppub: NonNullable<Point>;
  readonly hash: HashName;
}

/** Octets per F_p element: ceil(lg(p)/8). */
export function fieldBytes(p: bigint): number {
  return Math.ceil(p.toString(2).length / 8);
}

function be(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Canonical(p, k=2, o, v): o = 0 → a0 ‖ a1 (BF); o = 1 → a1 ‖ a0 (BB1). */
export function canonical(p: bigint, o: 0 | 1, v: Fp2): Uint8Array {
  const l = fieldBytes(p);
  const a = be(v.a0, l);
  const b = be(v.a1, l);
  const out = new Uint8Array(2 * l);
  out.set(o === 0 ? a : b, 0);
  out.set(o === 0 ? b : a, l);
  return out;
}

export function fpBytes(v: bigint, p: bigint): Uint8Array {
  return be(v, fieldBytes(p));
}

/**
 * Full validation: p, q prime; p ≡ 11 (mod 12); q | p + 1; sizes within RFC 5091's table
 * (test-vector sizes allowed with allowSmall); P and P_pub in the order-q subgroup.
 */
export function validateRfc5091Params(x: Rfc5091Params, opts: { allowSmall?: boolean } = {}): void {
  const bad = (m: string): never => {
    throw new IbeError('IBE_BAD_PARAMS', `rfc5091-bf parameters: ${m}`);
  };
  hashFcn(x.hash);
  const pBits = x.p.toString(2).length;
  const qBits = x.q.toString(2).length;
  if (!opts.allowSmall && (pBits < 512 || qBits < 160)) bad('p must be >= 512 bits and q >= 160 bits');
  if (pBits > 7680 || qBits > 512) bad('p or q too large');
  if (x.p % 12n !== 11n) bad('p must be 11 mod 12');
  if ((x.p + 1n) % x.q !== 0n) bad('q must divide p + 1');
  if (!checkPrimeSync(x.q)) bad('q is not prime');
  if (!checkPrimeSync(x.p)) bad('p is not prime');
  if (!inSubgroup(x.P, x.p, x.q)) bad('P is not a point of order q');
  if (!inSubgroup(x.Ppub, x.p, x.q)) bad('P_pub is not a point of order q');
  if (eqPoint(x.P, x.Ppub)) bad('P_pub equals P');
}
