// Bit-identity check of the parallel native paths against blst's serial ones (run by
// scripts/par-check, and by test/engine-native-par.test.ts when a C++ compiler is present):
//  * our Miller loop over precomputed lines, cut at every point 1..68, serially, equals
//    blst_miller_loop_lines byte for byte, for random G2 keys and random U;
//  * miller_lines_checked (subgroup check + tail on the helper) equals blst_miller_loop_lines,
//    and after blst_final_exp equals blst's prepared pairing, for many random U at the
//    operations' cut and at other cuts; it rejects on-curve points outside G1;
//  * GtTable::pow (digits 2, 3 on the helper) equals the serial variable-base gt_pow_ct;
//  * the same from 3 threads at once (the helper busy: inline fallback and take-back paths),
//    and with the helper disabled.
// Prints the par:: counters; exit status != 0 on any mismatch.
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "../src/codec.h"
#include "../src/gt_exp.h"
#include "../src/miller.h"
#include "../src/par.h"
#include "random_scalar.h"

using namespace ibaked;

static int failures = 0;

static bool same(const blst_fp12 &a, const blst_fp12 &b) {
  uint8_t x[kGtBytes], y[kGtBytes];
  encode_fp12(x, &a);
  encode_fp12(y, &b);
  return std::memcmp(x, y, sizeof x) == 0 && std::memcmp(&a, &b, sizeof a) == 0;
}

static void check(bool ok, const char *what, int iter) {
  if (!ok) {
    failures++;
    if (failures < 20) std::printf("MISMATCH: %s (iteration %d)\n", what, iter);
  }
}

static void random_g1(blst_p1_affine *out, std::mt19937_64 &rng) {
  uint8_t k[32];
  for (auto &b : k) b = (uint8_t)rng();
  k[31] &= 0x3f;
  blst_p1 p;
  blst_p1_mult(&p, blst_p1_generator(), k, 255);
  blst_p1_to_affine(out, &p);
}

static void random_g2(blst_p2_affine *out, std::mt19937_64 &rng) {
  uint8_t m[32];
  for (auto &b : m) b = (uint8_t)rng();
  blst_p2 q;
  blst_hash_to_g2(&q, m, sizeof m, (const uint8_t *)"PARCHECK", 8, nullptr, 0);
  blst_p2_to_affine(out, &q);
}

/** An on-curve G1 point outside the subgroup (from a random compressed x), or false. */
static bool random_non_g1(blst_p1_affine *out, std::mt19937_64 &rng) {
  for (int tries = 0; tries < 100; tries++) {
    uint8_t c[48];
    for (auto &b : c) b = (uint8_t)rng();
    c[0] = (uint8_t)(0x80 | (c[0] & 0x0f));
    if (decode_g1_on_curve(out, c, 48) == Reason::Ok && !blst_p1_affine_in_g1(out)) return true;
  }
  return false;
}

static void pairing_rounds(int iters, uint64_t seed, const blst_fp6 *lines, bool all_cuts) {
  std::mt19937_64 rng(seed);
  for (int it = 0; it < iters; it++) {
    blst_p1_affine P;
    random_g1(&P, rng);
    blst_fp12 ref, ml, pr, fe;
    blst_miller_loop_lines(&ref, lines, &P);
    if (all_cuts) {
      for (unsigned s = 1; s <= kMillerLines; s++) {
        miller_lines_split(&ml, lines, &P, s);
        check(same(ml, ref), "miller_lines_split", it);
      }
    }
    unsigned cut = it % 3 == 0 ? 0 : 1 + (unsigned)(rng() % kMillerLines);  // 0: adaptive
    check(miller_lines_checked(&ml, lines, &P, cut), "miller_lines_checked accepts G1", it);
    check(same(ml, ref), "miller_lines_checked == blst_miller_loop_lines", it);
    blst_final_exp(&pr, &ref);
    blst_final_exp(&fe, &ml);
    check(same(fe, pr), "prepared pairing == blst", it);
    blst_p1_affine bad;
    if (it % 4 == 0 && random_non_g1(&bad, rng))
      check(!miller_lines_checked(&ml, lines, &bad), "miller_lines_checked rejects non-G1", it);
  }
}

static void gt_rounds(int iters, uint64_t seed, const GtTable &tab, const blst_fp12 &g) {
  std::mt19937_64 rng(seed);
  for (int it = 0; it < iters; it++) {
    uint64_t k[4];
    random_scalar(k, rng);
    if (it == 0) k[0] = 1, k[1] = k[2] = k[3] = 0;
    blst_fp12 a, b;
    gt_pow_ct(&a, &g, k);
    tab.pow(&b, k);
    check(same(a, b), "GtTable::pow == gt_pow_ct", it);
  }
}

int main(int argc, char **argv) {
  int iters = argc > 1 ? std::atoi(argv[1]) : 200;
  std::mt19937_64 rng(2026);
  std::vector<blst_fp6> lines(kMillerLines * 3);
  for (int q = 0; q < 3; q++) {
    blst_p2_affine Q;
    random_g2(&Q, rng);
    blst_precompute_lines(&lines[q * kMillerLines], &Q);
  }
  blst_p1_affine P;
  random_g1(&P, rng);
  blst_p2_affine Q0;
  random_g2(&Q0, rng);
  blst_fp12 ml, g;
  blst_miller_loop(&ml, &Q0, &P);
  blst_final_exp(&g, &ml);
  GtTable tab(&g);

  // Serial cuts (every cut point) and the parallel path, one thread.
  for (int q = 0; q < 3; q++) pairing_rounds(q == 0 ? iters : iters / 4, 10 + q, &lines[q * kMillerLines], q == 0);
  gt_rounds(iters, 20, tab, g);
  // Helper disabled: same results inline.
  par::set_enabled(false);
  pairing_rounds(iters / 8, 30, &lines[0], false);
  gt_rounds(iters / 8, 31, tab, g);
  par::set_enabled(true);
  // Three threads at once: the helper is often busy (inline) or late (taken back).
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; t++)
    ts.emplace_back([&, t] {
      pairing_rounds(iters / 4, 40 + t, &lines[t * kMillerLines], false);
      gt_rounds(iters / 4, 50 + t, tab, g);
    });
  for (auto &t : ts) t.join();

  par::Stats st = par::stats();
  std::printf("par-check: %d mismatches; helper %s; parallel %llu, inline %llu (taken back %llu)\n", failures,
              st.available ? "available" : "unavailable", (unsigned long long)st.parallel,
              (unsigned long long)st.inline_, (unsigned long long)st.stolen);
  return failures ? 1 : 0;
}
