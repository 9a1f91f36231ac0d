// Fixed-base G1 comb; see g1_table.h.
#include "g1_table.h"

#include <cstdlib>
#include <new>
#include <vector>

#include "ct.h"

namespace ibaked {
namespace {

constexpr unsigned kW = 6;                         // window
constexpr unsigned kDigits = (256 + kW - 1) / kW;  // k < 2^255: bit 255 is the final carry slot
constexpr unsigned kRow = 1u << (kW - 1);          // entries m = 1..32 (m = 0 is infinity)
constexpr size_t kWords = sizeof(blst_p1_affine) / sizeof(uint64_t);

inline uint64_t bits_at(const uint64_t k[4], int pos, unsigned n) {
  // n+1 <= 8 bits starting at pos (pos may be -1: bit -1 is 0).
  uint64_t v = 0;
  for (unsigned b = 0; b < n; b++) {
    int q = pos + (int)b;
    uint64_t bit = (q < 0 || q > 255) ? 0 : (k[q >> 6] >> (q & 63)) & 1;
    v |= bit << b;
  }
  return v;
}

}  // namespace

G1Table::G1Table(const blst_p1_affine *base) : rows_(nullptr), entries_((size_t)kDigits * kRow) {
  rows_ = static_cast<blst_p1_affine *>(std::malloc(entries_ * sizeof(blst_p1_affine)));
  if (!rows_) throw std::bad_alloc();
  std::vector<blst_p1> proj(entries_);
  blst_p1 b;
  blst_p1_from_affine(&b, base);
  for (unsigned j = 0; j < kDigits; j++) {
    blst_p1 *row = &proj[(size_t)j * kRow];
    row[0] = b;
    for (unsigned m = 1; m < kRow; m++) blst_p1_add_or_double(&row[m], &row[m - 1], &b);
    for (unsigned s = 0; s < kW; s++) blst_p1_double(&b, &b);
  }
  std::vector<const blst_p1 *> ptrs(entries_);
  for (size_t i = 0; i < entries_; i++) ptrs[i] = &proj[i];
  blst_p1s_to_affine(rows_, ptrs.data(), entries_);
  wipe(proj.data(), proj.size() * sizeof(blst_p1));
}

G1Table::~G1Table() {
  wipe(rows_, entries_ * sizeof(blst_p1_affine));
  std::free(rows_);
}

void G1Table::mul(blst_p1 *out, const uint64_t k[4]) const {
  blst_p1 acc;
  blst_p1_affine t, neg_t;
  // Start from infinity (all-zero in blst's projective form).
  wipe(&acc, sizeof acc);
  for (unsigned j = 0; j < kDigits; j++) {
    uint64_t v = bits_at(k, (int)(kW * j) - 1, kW + 1);
    uint64_t sign = v >> kW;
    int64_t d = (int64_t)((v >> 1) + (v & 1)) - (int64_t)(sign << kW);
    uint64_t m = launder((uint64_t)(d >> 63));
    uint64_t abs = ((uint64_t)d ^ m) - m;
    // t = row[abs - 1], or the all-zero affine infinity when abs = 0.
    uint64_t *tw = reinterpret_cast<uint64_t *>(&t);
    for (size_t i = 0; i < kWords; i++) tw[i] = 0;
    const blst_p1_affine *row = &rows_[(size_t)j * kRow];
    for (unsigned e = 0; e < kRow; e++) {
      uint64_t mask = ct_eq_mask(e + 1, abs);
      const uint64_t *src = reinterpret_cast<const uint64_t *>(&row[e]);
      for (size_t i = 0; i < kWords; i++) tw[i] |= src[i] & mask;
    }
    neg_t = t;
    blst_fp_cneg(&neg_t.y, &t.y, true);
    ct_cmov_words(tw, reinterpret_cast<const uint64_t *>(&neg_t), kWords, m);
    blst_p1_add_or_double_affine(&acc, &acc, &t);
  }
  *out = acc;
  wipe(&acc, sizeof acc);
  wipe(&t, sizeof t);
  wipe(&neg_t, sizeof neg_t);
}

}  // namespace ibaked
