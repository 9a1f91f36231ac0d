// Micro-benchmark of the native engine's C++ core without Node: raw blst pairing pieces vs our
// constant-time GT exponentiation, fixed-base tables and input validation. Rounds interleave
// every op so machine noise hits them alike; medians (thread CPU time) over rounds are printed with ratios to
// the raw pairing (Miller loop + final exponentiation, no validation).
// Build + run: native/bench/run-micro.sh
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "../src/codec.h"
#include "../src/g1_table.h"
#include "../src/gt_exp.h"

using namespace ibaked;
#include <time.h>
// Thread CPU time: on a shared, overloaded machine wall time mostly measures the scheduler.
static double now_us() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void rand_scalar(uint64_t k[4], std::mt19937_64 &rng) {
  for (;;) {
    for (int i = 0; i < 4; i++) k[i] = rng();
    k[3] &= 0x7fffffffffffffffULL;
    uint8_t be[32];
    for (int i = 0; i < 32; i++) be[i] = (uint8_t)(k[3 - i / 8] >> (56 - 8 * (i % 8)));
    if (decode_scalar(k, be, 32) == Reason::Ok) return;
  }
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 15;
  std::mt19937_64 rng(42);
  blst_p1_affine P;
  blst_p2_affine Q;
  blst_p1_to_affine(&P, blst_p1_generator());
  blst_p2 q;
  const char *dst = "BENCH";
  blst_hash_to_g2(&q, (const uint8_t *)"id", 2, (const uint8_t *)dst, 5, nullptr, 0);
  blst_p2_to_affine(&Q, &q);
  blst_fp12 ml, gt, out;
  blst_miller_loop(&ml, &Q, &P);
  blst_final_exp(&gt, &ml);
  GtTable gtab(&gt);
  G1Table g1tab(&P);
  static blst_fp6 lines[68];
  blst_precompute_lines(lines, &Q);
  uint8_t p1c[48], p2c[96];
  blst_p1_affine_compress(p1c, &P);
  blst_p2_affine_compress(p2c, &Q);
  uint64_t k[4];
  uint8_t kle[32];
  blst_p1 r1;
  blst_p2 r2;

  struct Op { std::string name; int reps; std::function<void()> fn; std::vector<double> us; };
  std::vector<Op> ops = {
      {"pairing (ML + FE, raw)", 20, [&] { blst_miller_loop(&ml, &Q, &P); blst_final_exp(&out, &ml); }},
      {"miller loop", 20, [&] { blst_miller_loop(&ml, &Q, &P); }},
      {"final exp", 20, [&] { blst_final_exp(&out, &ml); }},
      {"miller loop, precomputed lines", 20, [&] { blst_miller_loop_lines(&ml, lines, &P); }},
      {"gt pow CT (split, w=5)", 20, [&] { rand_scalar(k, rng); gt_pow_ct(&out, &gt, k); }},
      {"gt fixed-base pow CT (w=6)", 20, [&] { rand_scalar(k, rng); gtab.pow(&out, k); }},
      {"g1 mul CT (blst GLV)", 40, [&] { rand_scalar(k, rng); for (int i = 0; i < 32; i++) kle[i] = (uint8_t)(k[i / 8] >> (8 * (i % 8))); blst_p1_from_affine(&r1, &P); blst_p1_mult(&r1, &r1, kle, 255); }},
      {"g1 fixed-base mul CT (w=6)", 40, [&] { rand_scalar(k, rng); g1tab.mul(&r1, k); }},
      {"g2 mul CT (blst GLS)", 20, [&] { rand_scalar(k, rng); for (int i = 0; i < 32; i++) kle[i] = (uint8_t)(k[i / 8] >> (8 * (i % 8))); blst_p2_from_affine(&r2, &Q); blst_p2_mult(&r2, &r2, kle, 255); }},
      {"hash to G2 (RFC 9380)", 20, [&] { blst_hash_to_g2(&r2, (const uint8_t *)"alice", 5, (const uint8_t *)dst, 5, nullptr, 0); }},
      {"decode G1 compressed + subgroup", 40, [&] { blst_p1_affine a; decode_g1(&a, p1c, 48); }},
      {"decode G2 compressed + subgroup", 20, [&] { blst_p2_affine a; decode_g2(&a, p2c, 96); }},
      {"gt cyclotomic check", 40, [&] { fp12_is_cyclotomic(&gt); }},
      {"gt full check (in_group)", 20, [&] { blst_fp12_in_group(&gt); }},
      {"fp12 mul", 200, [&] { blst_fp12_mul(&out, &gt, &gt); }},
      {"fp12 cyclotomic sqr", 200, [&] { blst_fp12_cyclotomic_sqr(&out, &gt); }},
  };
  for (int r = 0; r < rounds; r++) {
    for (auto &op : ops) {
      double t0 = now_us();
      for (int i = 0; i < op.reps; i++) op.fn();
      op.us.push_back((now_us() - t0) / op.reps);
    }
  }
  auto median = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  double pair = median(ops[0].us);
  for (auto &op : ops) {
    double m = median(op.us);
    printf("%-36s %9.1f us  %6.3f x pairing\n", op.name.c_str(), m, m / pair);
  }
  return 0;
}
