// The Frobenius split of a GT exponent shared by the ts and wasm backends (the native addon has
// its own in C++): on GT, f^p = f^z with z the BLS12-381 curve parameter (negative, |z| =
// 0xd201000000010000), so k = d0 + d1|z| + d2|z|^2 + d3|z|^3 with digits < 2^64 lets four 64-bit
// exponentiations of frob_i(f) (signs folded in) replace one 255-bit one.

/** |z|, the absolute value of the BLS12-381 parameter. */
export const Z_ABS = 0xd201000000010000n;

/** k (0 < k < r) as four base-|z| digits, each < 2^64. */
export function splitScalar(k: bigint): bigint[] {
  const d: bigint[] = [];
  for (let i = 0; i < 4; i++) {
    d.push(k % Z_ABS);
    k /= Z_ABS;
  }
  return d;
}
