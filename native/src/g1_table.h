// Fixed-base scalar multiplication in G1 for a long-lived base point B (e.g. the generator P
// or a KMS public key): rows of affine points m·2^(w·j)·B, m = 1..2^(w-1), and a comb that
// adds one constant-time-selected, conditionally negated entry per signed Booth window. No
// doublings at run time; the operation sequence never depends on the secret scalar.
#pragma once
#include <cstddef>
#include <cstdint>

#include "blst.h"

namespace ibaked {

class G1Table {
 public:
  explicit G1Table(const blst_p1_affine *base);
  ~G1Table();
  G1Table(const G1Table &) = delete;
  G1Table &operator=(const G1Table &) = delete;
  /** out = [k]B, k as little-endian limbs with 1 <= k < r. */
  void mul(blst_p1 *out, const uint64_t k[4]) const;
  size_t bytes() const { return entries_ * sizeof(blst_p1_affine); }

 private:
  blst_p1_affine *rows_;
  size_t entries_;
};

}  // namespace ibaked
