// RFC 5091 §4.1.1 HashToRange and §4.2.1 HashBytes, generic over the hash function, plus the
// hash functions RFC 5091 names (with their OIDs). Shared by both suites: rfc5091-bf uses the
// hash its parameters name; bls12381-bf uses SHA-256 (spec/ibe-bf.md §8.2).
import { hash as oneShotHash } from 'node:crypto';
import { bytesToBigint as value } from '../util/bigint.js';
import { IbeError } from './errors.js';

export type HashName = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export interface HashFcn {
  readonly name: HashName;
  readonly oid: string;
  /** hashlen in octets */
  readonly len: number;
  hash(...parts: Uint8Array[]): Uint8Array;
}

const TABLE: Record<HashName, { oid: string; len: number }> = {
  sha1: { oid: '1.3.14.3.2.26', len: 20 },
  sha224: { oid: '2.16.840.1.101.3.4.2.4', len: 28 },
  sha256: { oid: '2.16.840.1.101.3.4.2.1', len: 32 },
  sha384: { oid: '2.16.840.1.101.3.4.2.2', len: 48 },
  sha512: { oid: '2.16.840.1.101.3.4.2.3', len: 64 },
};

export function hashFcn(name: HashName): HashFcn {
  const t = TABLE[name];
  if (!t) throw new IbeError('IBE_BAD_PARAMS', `unknown hash function '${String(name)}'`);
  return {
    name,
    oid: t.oid,
    len: t.len,
    hash(...parts) {
      // One-shot hashing (node:crypto.hash) costs about half of createHash/update/digest, and
      // HashBytes calls this twice per output block.
      const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      const out = new Uint8Array(oneShotHash(name, data, 'buffer') as Buffer);
      if (parts.length > 1) data.fill(0);
      return out;
    },
  };
}

export function isHashName(s: unknown): s is HashName {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(TABLE, s);
}

/** HashToRange(s, n, hashfcn): two chained hash blocks as one integer, reduced mod n. */
export function hashToRange(s: Uint8Array, n: bigint, h: HashFcn): bigint {
  if (n < 2n) throw new IbeError('IBE_BAD_INPUT', 'HashToRange: n must be >= 2');
  let hPrev: Uint8Array = new Uint8Array(h.len);
  let v = 0n;
  const shift = BigInt(8 * h.len);
  for (let i = 0; i < 2; i++) {
    const hi = h.hash(hPrev, s);
    v = (v << shift) + value(hi);
    hPrev = hi;
  }
  return v % n;
}

/** HashBytes(b, p, hashfcn): b pseudo-random octets keyed by the octet string p. */
export function hashBytes(b: number, p: Uint8Array, h: HashFcn): Uint8Array {
  if (!Number.isSafeInteger(b) || b < 0) throw new IbeError('IBE_BAD_INPUT', 'HashBytes: bad length');
  const K = h.hash(p);
  const out = new Uint8Array(b);
  let hi: Uint8Array = new Uint8Array(h.len);
  for (let off = 0; off < b; off += h.len) {
    hi = h.hash(hi);
    const ri = h.hash(hi, K);
    out.set(ri.subarray(0, Math.min(h.len, b - off)), off);
  }
  return out;
}

export function xorInto(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new IbeError('IBE_BAD_INPUT', 'xor of unequal lengths');
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}
