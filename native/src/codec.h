// Decoding and encoding at the engine boundary: G1/G2 (ZCash serialisation, either form),
// GT/Fp12 (576 octets, tower order c0.c0.c0 … c1.c2.c1, big-endian, out of Montgomery form)
// and secret scalars (32 octets big-endian in [1, r-1]). Checks run in the contract's order
// (length, flags, coordinates < p, on curve, subgroup, identity) and report the same reasons
// as src/engine/encoding.ts and the ts backend.
#pragma once
#include <cstddef>
#include <cstdint>

#include "blst.h"
#include "reason.h"

namespace ibaked {

constexpr size_t kG1Compressed = 48, kG1Uncompressed = 96;
constexpr size_t kG2Compressed = 96, kG2Uncompressed = 192;
constexpr size_t kGtBytes = 576, kScalarBytes = 32, kFpBytes = 48;

/** Fully validated G1 element (never the identity). */
Reason decode_g1(blst_p1_affine *out, const uint8_t *in, size_t len);
/** decode_g1's checks up to and including on-curve; then decode_g1 = this + subgroup check
 *  (blst_p1_affine_in_g1 -> NotInSubgroup) + identity check (-> Identity), in that order. */
Reason decode_g1_on_curve(blst_p1_affine *out, const uint8_t *in, size_t len);
Reason decode_g2(blst_p2_affine *out, const uint8_t *in, size_t len);
void encode_g1(uint8_t *out, const blst_p1 *p, bool compressed);
void encode_g2(uint8_t *out, const blst_p2 *p, bool compressed);

/** Canonical (< p) Fp12 value in tower order; non-zero unless allow_zero. */
Reason decode_fp12(blst_fp12 *out, const uint8_t *in, size_t len, bool allow_zero);
/** decode_fp12 + membership of the cyclotomic subgroup (what GT operations accept). */
Reason decode_gt_cyclotomic(blst_fp12 *out, const uint8_t *in, size_t len);
/** Full check: cyclotomic, order r, not the identity. */
Reason decode_gt_full(blst_fp12 *out, const uint8_t *in, size_t len);
void encode_fp12(uint8_t out[kGtBytes], const blst_fp12 *f);
bool fp12_is_cyclotomic(const blst_fp12 *f);

/** Secret scalar as 4 little-endian 64-bit limbs; range check in constant time. */
Reason decode_scalar(uint64_t out[4], const uint8_t *in, size_t len);

}  // namespace ibaked
