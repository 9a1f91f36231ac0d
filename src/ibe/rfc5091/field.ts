// Arithmetic in F_p and F_p² = F_p[i], i² = −1 (RFC 5091 §2.1, with the standard
// multiplication formula: the RFC prints the real part with the wrong sign). Plain bigint;
// the type-1 suite is the standards-compatibility path, not the fast path.

export function mod(a: bigint, p: bigint): bigint {
  const r = a % p;
  return r < 0n ? r + p : r;
}

export function powMod(b: bigint, e: bigint, p: bigint): bigint {
  let r = 1n;
  b = mod(b, p);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % p;
    b = (b * b) % p;
    e >>= 1n;
  }
  return r;
}

/** Inverse mod p by the extended Euclidean algorithm; throws on 0. */
export function invMod(a: bigint, p: bigint): bigint {
  let r0 = mod(a, p);
  if (r0 === 0n) throw new RangeError('inverse of zero');
  let r1 = p;
  let s0 = 1n;
  let s1 = 0n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, p);
}

/** a0 + a1·i */
export interface Fp2 {
  readonly a0: bigint;
  readonly a1: bigint;
}

export const fp2 = {
  of(a0: bigint, a1: bigint): Fp2 {
    return { a0, a1 };
  },
  one(): Fp2 {
    return { a0: 1n, a1: 0n };
  },
  eq(a: Fp2, b: Fp2): boolean {
    return a.a0 === b.a0 && a.a1 === b.a1;
  },
  add(a: Fp2, b: Fp2, p: bigint): Fp2 {
    return { a0: mod(a.a0 + b.a0, p), a1: mod(a.a1 + b.a1, p) };
  },
  sub(a: Fp2, b: Fp2, p: bigint): Fp2 {
    return { a0: mod(a.a0 - b.a0, p), a1: mod(a.a1 - b.a1, p) };
  },
  mul(a: Fp2, b: Fp2, p: bigint): Fp2 {
    return { a0: mod(a.a0 * b.a0 - a.a1 * b.a1, p), a1: mod(a.a0 * b.a1 + a.a1 * b.a0, p) };
  },
  sqr(a: Fp2, p: bigint): Fp2 {
    return { a0: mod((a.a0 + a.a1) * (a.a0 - a.a1), p), a1: mod(2n * a.a0 * a.a1, p) };
  },
  conj(a: Fp2, p: bigint): Fp2 {
    return { a0: a.a0, a1: mod(-a.a1, p) };
  },
  inv(a: Fp2, p: bigint): Fp2 {
    const n = invMod(a.a0 * a.a0 + a.a1 * a.a1, p);
    return { a0: mod(a.a0 * n, p), a1: mod(-a.a1 * n, p) };
  },
  pow(a: Fp2, e: bigint, p: bigint): Fp2 {
    let r = fp2.one();
    let b = a;
    while (e > 0n) {
      if (e & 1n) r = fp2.mul(r, b, p);
      b = fp2.sqr(b, p);
      e >>= 1n;
    }
    return r;
  },
};
