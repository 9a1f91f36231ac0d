// Wall-clock micro-benchmark of the parallel native paths (native/src/par.h): the helper's
// post->start latency, the Miller-loop cut sweep (subgroup check + tail on the helper vs the
// head + squarings here), prepared pairing and fixed-base GT pow with and without the helper.
// Wall time (not thread CPU time: the point is latency across two threads); interleaved
// rounds, medians. Build + run: native/bench/run-micro.sh adx par
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../src/codec.h"
#include "../src/gt_exp.h"
#include "../src/miller.h"
#include "../src/par.h"

using namespace ibaked;
using Clock = std::chrono::steady_clock;

static double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}
static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
static double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[(size_t)(p * (v.size() - 1))];
}

/** Post->start: time from just before run2 until the task's first instruction. The caller's
 *  own part waits (up to 5 ms) for the task to start, so the task is never taken back. */
static void post_latency(int n, int gap_us) {
  std::vector<double> lat;
  int taken_back = 0;
  for (int i = 0; i < n; i++) {
    if (gap_us) std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
    std::atomic<bool> started{false};
    Clock::time_point t0, t1;
    t0 = Clock::now();
    bool par = par::run2([&] { t1 = Clock::now(); started.store(true, std::memory_order_release); },
                         [&] {
                           while (!started.load(std::memory_order_acquire) && us_since(t0) < 5000)
                             __builtin_ia32_pause();
                         });
    if (!par) taken_back++;
    else lat.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::printf("post->start, helper idle %5d us before: median %6.1f us, p10 %6.1f, p90 %6.1f, p99 %6.1f (%d not parallel)\n",
              gap_us, median(lat), pct(lat, 0.1), pct(lat, 0.9), pct(lat, 0.99), taken_back);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 15;
  std::mt19937_64 rng(42);
  blst_p1_affine P;
  blst_p2_affine Q;
  blst_p2 q;
  blst_hash_to_g2(&q, (const uint8_t *)"id", 2, (const uint8_t *)"BENCH", 5, nullptr, 0);
  blst_p2_to_affine(&Q, &q);
  uint8_t kb[32];
  for (auto &b : kb) b = (uint8_t)rng();
  kb[31] &= 0x3f;
  blst_p1 p;
  blst_p1_mult(&p, blst_p1_generator(), kb, 255);
  blst_p1_to_affine(&P, &p);
  static blst_fp6 lines[kMillerLines];
  blst_precompute_lines(lines, &Q);
  blst_fp12 ml, g, out;
  blst_miller_loop(&ml, &Q, &P);
  blst_final_exp(&g, &ml);
  GtTable tab(&g);
  uint64_t k[4] = {rng(), rng(), rng(), rng() & 0x3fffffffffffffffULL};

  for (int gap : {0, 100, 2000}) post_latency(2000, gap);
  std::printf("cut chosen after the subgroup check, caller at line n:");
  for (unsigned n : {10u, 15u, 20u, 25u, 30u, 40u, 50u}) std::printf(" n=%u:%u (caller 30%% slower: %u, faster: %u)", n, miller_best_cut(n), miller_best_cut(n, 0.7, 1), miller_best_cut(n, 1, 0.7));
  std::printf("\n");

  struct Op { std::string name; int reps; std::function<void()> fn; std::vector<double> us; };
  std::vector<Op> ops = {
      {"in_g1 + ML lines (blst, serial)", 10, [&] { blst_p1_affine_in_g1(&P); blst_miller_loop_lines(&out, lines, &P); }},
      {"ours, fixed cut 68 (helper: in_g1 only)", 10, [&] { miller_lines_checked(&out, lines, &P, 68); }},
  };
  ops.push_back({"ours, adaptive cut", 10, [&] { miller_lines_checked(&out, lines, &P); }});
  ops.push_back({"ours, helper off (inline)", 10, [&] { par::set_enabled(false); miller_lines_checked(&out, lines, &P); par::set_enabled(true); }});
  for (unsigned s : {24u, 28u, 30u, 32u, 34u, 36u, 38u, 40u, 44u})
    ops.push_back({"ours, fixed cut " + std::to_string(s), 10, [&, s] { miller_lines_checked(&out, lines, &P, s); }});
  // Scaling: two independent Miller loops (own buffers, own cache lines) on both threads.
  static blst_fp12 o1 __attribute__((aligned(64))), o2 __attribute__((aligned(64)));
  ops.push_back({"ML lines x1", 10, [&] { blst_miller_loop_lines(&o1, lines, &P); }});
  ops.push_back({"ML lines x2 (run2, both threads)", 10, [&] { par::run2([&] { blst_miller_loop_lines(&o2, lines, &P); }, [&] { blst_miller_loop_lines(&o1, lines, &P); }); }});
  ops.push_back({"prepared pairing, blst serial", 10, [&] { blst_p1_affine_in_g1(&P); blst_miller_loop_lines(&ml, lines, &P); blst_final_exp(&out, &ml); }});
  ops.push_back({"prepared pairing, parallel", 10, [&] { miller_lines_checked(&ml, lines, &P); blst_final_exp(&out, &ml); }});
  ops.push_back({"final exp", 10, [&] { blst_final_exp(&out, &ml); }});
  ops.push_back({"fixed-base GT pow, helper off", 20, [&] { par::set_enabled(false); tab.pow(&out, k); par::set_enabled(true); }});
  ops.push_back({"fixed-base GT pow, parallel", 20, [&] { tab.pow(&out, k); }});

  for (int r = 0; r < rounds; r++) {
    for (auto &op : ops) {
      auto t0 = Clock::now();
      for (int i = 0; i < op.reps; i++) op.fn();
      op.us.push_back(us_since(t0) / op.reps);
    }
  }
  for (auto &op : ops) std::printf("%-40s %8.1f us\n", op.name.c_str(), median(op.us));
  par::Stats st = par::stats();
  std::printf("par: parallel %llu, inline %llu (taken back %llu)\n", (unsigned long long)st.parallel,
              (unsigned long long)st.inline_, (unsigned long long)st.stolen);
  return 0;
}
