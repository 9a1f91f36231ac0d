// Constant-time GT exponentiation, variable and fixed base; see gt_exp.h for the method.
#include "gt_exp.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "par.h"

namespace ibaked {
namespace {

constexpr uint64_t kZ = 0xd201000000010000ULL;  // |z|

// Variable base: window 5 -> 13 Booth digits per 64-bit digit, one table g^0..g^16.
constexpr unsigned kW = 5;
constexpr unsigned kDigits = (65 + kW - 1) / kW;
constexpr unsigned kEntries = (1u << (kW - 1)) + 1;

// Fixed base: window 6 -> 11 positions of 33 entries (209 KB per table).
constexpr unsigned kFW = 6;
constexpr unsigned kFDigits = (65 + kFW - 1) / kFW;
constexpr unsigned kFEntries = (1u << (kFW - 1)) + 1;

constexpr size_t kWords = sizeof(blst_fp12) / sizeof(uint64_t);

/** Signed Booth digit j (window w) of a 64-bit value: |d| and a sign mask, branch-free. */
inline void booth_digit(uint64_t a, unsigned w, unsigned j, uint64_t *abs, uint64_t *neg) {
  unsigned __int128 x = (unsigned __int128)a << 1;  // bit -1 = 0 sits at position 0
  uint64_t v = (uint64_t)(x >> (w * j)) & ((1ULL << (w + 1)) - 1);
  uint64_t sign = v >> w;
  int64_t d = (int64_t)((v >> 1) + (v & 1)) - (int64_t)(sign << w);
  uint64_t m = (uint64_t)(d >> 63);  // all-ones when negative
  *abs = ((uint64_t)d ^ m) - m;
  *neg = launder(m);
}

/** out = table[idx] by scanning every entry (72 words per Fp12). */
inline void ct_select(blst_fp12 *out, const blst_fp12 *table, size_t n, uint64_t idx) {
  static_assert(kWords % 8 == 0, "Fp12 must be a multiple of 8 words");
  ct_select_words(reinterpret_cast<uint64_t *>(out), reinterpret_cast<const uint64_t *>(table), n, kWords, idx);
}

/** f <- conj(f) when neg is all-ones (the inverse, for f in the cyclotomic subgroup):
 *  blst's branch-free conditional negation of the six Fp coefficients of f's w-part. */
inline void ct_conjugate(blst_fp12 *f, uint64_t neg) {
  bool flag = (bool)(neg & 1);
  for (auto &c2 : f->fp6[1].fp2)
    for (auto &c : c2.fp) blst_fp_cneg(&c, &c, flag);
}

/** sigma_i(f) = f^(|z|^i) = Frobenius^i(f), conjugated for odd i (z < 0). */
void sigma(blst_fp12 *out, const blst_fp12 *f, unsigned i) {
  if (i == 0) {
    *out = *f;
    return;
  }
  blst_fp12_frobenius_map(out, f, i);
  if (i & 1) blst_fp12_conjugate(out);
}

}  // namespace

void split_scalar_z(uint64_t d[4], const uint64_t k[4]) {
  uint64_t n[4] = {k[0], k[1], k[2], k[3]};
  for (unsigned digit = 0; digit < 3; digit++) {
    // Restoring division by the public |z|, one bit at a time, with masks only.
    unsigned __int128 rem = 0;
    uint64_t q[4] = {0, 0, 0, 0};
    for (int bit = 255; bit >= 0; bit--) {
      rem = (rem << 1) | ((n[bit >> 6] >> (bit & 63)) & 1);
      unsigned __int128 t = rem - kZ;
      uint64_t borrow = launder((uint64_t)(t >> 127));  // 1 when rem < |z|
      uint64_t keep = borrow - 1;                       // all-ones when rem >= |z|
      unsigned __int128 m = ((unsigned __int128)keep << 64) | keep;
      rem = (t & m) | (rem & ~m);
      q[bit >> 6] |= (keep & 1) << (bit & 63);
    }
    d[digit] = (uint64_t)rem;
    for (int i = 0; i < 4; i++) n[i] = q[i];
    wipe(q, sizeof q);
  }
  d[3] = n[0];  // k < r < |z|^4, so the last quotient fits one limb
  wipe(n, sizeof n);
}

void gt_pow_ct(blst_fp12 *out, const blst_fp12 *g, const uint64_t k[4]) {
  uint64_t d[4];
  split_scalar_z(d, k);
  // tab[m] = g^m, m = 0..16; the bases sigma_i(g) are handled by mapping the selected entry
  // (sigma_i(g)^m = sigma_i(g^m)): 3 Frobenius maps per window instead of 3 whole tables.
  blst_fp12 tab[kEntries];
  tab[0] = *blst_fp12_one();
  tab[1] = *g;
  // Even powers by cyclotomic squaring (about half the cost of a multiplication).
  for (unsigned m = 2; m < kEntries; m++) {
    if (m & 1) blst_fp12_mul(&tab[m], &tab[m - 1], g);
    else blst_fp12_cyclotomic_sqr(&tab[m], &tab[m / 2]);
  }

  blst_fp12 acc, t, u;
  for (int j = kDigits - 1; j >= 0; j--) {
    if (j != (int)kDigits - 1)
      for (unsigned s = 0; s < kW; s++) blst_fp12_cyclotomic_sqr(&acc, &acc);
    for (unsigned i = 0; i < 4; i++) {
      uint64_t abs, neg;
      booth_digit(d[i], kW, (unsigned)j, &abs, &neg);
      ct_select(&t, tab, kEntries, abs);
      blst_fp12 *x = &t;
      if (i) {
        sigma(&u, &t, i);
        x = &u;
      }
      ct_conjugate(x, neg);
      if (j == (int)kDigits - 1 && i == 0) acc = *x;
      else blst_fp12_mul(&acc, &acc, x);
    }
  }
  *out = acc;
  wipe(&acc, sizeof acc);
  wipe(&t, sizeof t);
  wipe(&u, sizeof u);
  wipe(d, sizeof d);
  wipe(tab, sizeof tab);
}

GtTable::GtTable(const blst_fp12 *g) : rows_(nullptr), entries_(kFDigits * kFEntries) {
  rows_ = static_cast<blst_fp12 *>(std::malloc(entries_ * sizeof(blst_fp12)));
  if (!rows_) throw std::bad_alloc();
  blst_fp12 base = *g;
  for (unsigned j = 0; j < kFDigits; j++) {
    blst_fp12 *row = &rows_[j * kFEntries];
    row[0] = *blst_fp12_one();
    row[1] = base;
    for (unsigned m = 2; m < kFEntries; m++) {
      if (m & 1) blst_fp12_mul(&row[m], &row[m - 1], &base);
      else blst_fp12_cyclotomic_sqr(&row[m], &row[m / 2]);
    }
    for (unsigned s = 0; s < kFW; s++) blst_fp12_cyclotomic_sqr(&base, &base);
  }
  wipe(&base, sizeof base);
}

GtTable::~GtTable() {
  wipe(rows_, entries_ * sizeof(blst_fp12));
  std::free(rows_);
}

namespace {

/** acc = prod_j rows[j][|b_j|]^(sign b_j) over the Booth digits b_j of one 64-bit digit d
 *  (window kFW), every row scanned in full, signs by conditional conjugation. */
void table_digit_product(blst_fp12 *acc, const blst_fp12 *rows, uint64_t d) {
  blst_fp12 t;
  for (unsigned j = 0; j < kFDigits; j++) {
    uint64_t abs, neg;
    booth_digit(d, kFW, j, &abs, &neg);
    ct_select(&t, &rows[j * kFEntries], kFEntries, abs);
    ct_conjugate(&t, neg);
    if (j == 0) *acc = t;
    else blst_fp12_mul(acc, acc, &t);
  }
  wipe(&t, sizeof t);
}

/**
 * Shared state of one parallel GtTable::pow: the caller and the helper each take the next
 * digit (an atomic counter) until the four are done, so a helper that starts late simply
 * takes fewer. Who computes which digit depends on timing only, never on k; every digit's
 * product is the same sequence of scans and multiplications. Each slot has its own cache
 * lines and is written once (no false sharing); the caller wipes everything.
 */
struct alignas(64) DigitWork {
  std::atomic<unsigned> next{0};
  alignas(64) const blst_fp12 *rows;
  uint64_t d[4];
  struct alignas(64) Slot {
    blst_fp12 acc;
  } slot[4];
};

void take_digits(DigitWork *w) {
  blst_fp12 acc;
  for (unsigned i; (i = w->next.fetch_add(1, std::memory_order_relaxed)) < 4;) {
    table_digit_product(&acc, w->rows, w->d[i]);
    w->slot[i].acc = acc;
  }
  wipe(&acc, sizeof acc);
}

}  // namespace

void GtTable::pow_raw(blst_fp12 *out, const uint64_t k[4], void (*side)(void *), void *side_ctx) const {
  DigitWork w;
  w.rows = rows_;
  split_scalar_z(w.d, k);
  // The four digit products: some on the par:: helper (after the side task), the rest here
  // (see DigitWork).
  par::run2(
      [&] {
        if (side) side(side_ctx);
        take_digits(&w);
      },
      [&w] { take_digits(&w); });
  // g^k = acc0 · sigma1(acc1) · sigma2(acc2) · sigma3(acc3).
  blst_fp12 r = w.slot[0].acc, s;
  for (unsigned i = 1; i < 4; i++) {
    sigma(&s, &w.slot[i].acc, i);
    blst_fp12_mul(&r, &r, &s);
  }
  *out = r;
  wipe(&r, sizeof r);
  wipe(&s, sizeof s);
  wipe(w.d, sizeof w.d);
  wipe(w.slot, sizeof w.slot);
}

}  // namespace ibaked
