// Constant-time exponentiation in GT (the order-r subgroup of Fp12*), which blst does not
// provide. Both variants split the secret exponent k < r into four 64-bit digits in base |z|
// (z = -0xd201000000010000, the BLS parameter; p ≡ z mod r, so the Frobenius map acts on GT
// as raising to z) and recode each digit into signed Booth windows. Table entries are chosen
// by a full constant-time scan, signs applied by a constant-time conjugation (the inverse in
// the cyclotomic subgroup); the sequence of field operations never depends on k.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "blst.h"
#include "ct.h"

namespace ibaked {

/** k (little-endian limbs, k < r) = d[0] + d[1]|z| + d[2]|z|^2 + d[3]|z|^3, 0 <= d[i] < |z|. */
void split_scalar_z(uint64_t d[4], const uint64_t k[4]);

/** out = g^k for g in the cyclotomic subgroup (so cyclotomic squaring applies); constant time in k. */
void gt_pow_ct(blst_fp12 *out, const blst_fp12 *g, const uint64_t k[4]);


/** Fixed-base table for g^k: rows g^(m·2^(w·j)) for m = 0..2^(w-1), shared by the 4 digits. */
class GtTable {
 public:
  explicit GtTable(const blst_fp12 *g);
  ~GtTable();
  GtTable(const GtTable &) = delete;
  GtTable &operator=(const GtTable &) = delete;
  void pow(blst_fp12 *out, const uint64_t k[4]) const { pow_raw(out, k, nullptr, nullptr); }
  /** pow, with side(ctx) run first by whichever thread takes the helper's share (the helper,
   *  or this thread when the helper is unavailable); the digits are balanced around it. */
  template <class F>
  void pow_with(blst_fp12 *out, const uint64_t k[4], F &&side) const {
    using FT = typename std::remove_reference<F>::type;
    pow_raw(out, k, [](void *p) { (*static_cast<FT *>(p))(); }, (void *)&side);
  }
  void pow_raw(blst_fp12 *out, const uint64_t k[4], void (*side)(void *), void *side_ctx) const;
  size_t bytes() const { return entries_ * sizeof(blst_fp12); }

 private:
  blst_fp12 *rows_;
  size_t entries_;
};

}  // namespace ibaked
