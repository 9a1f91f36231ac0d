// Miller loop over precomputed lines, split in two for the par:: helper; see miller.h.
#include "miller.h"

#include <atomic>
#include <chrono>
#include <cstdint>

#include "ct.h"
#include "par.h"

namespace ibaked {
namespace {

/** Lines that start a group (the point additions): no squaring before them. */
inline bool group_start(unsigned i) { return i == 0 || i == 1 || i == 4 || i == 8 || i == 18 || i == 51; }

/** (-2·x, 2·y): the factors of the stored line coefficients, computed once per P. */
void px2_of(blst_p1_affine *px2, const blst_p1_affine *P) {
  blst_fp_add(&px2->x, &P->x, &P->x);
  blst_fp_cneg(&px2->x, &px2->x, true);
  blst_fp_add(&px2->y, &P->y, &P->y);
}

/** The stored line (c0, c1, c2) evaluated at P: (c0, c1·(-2x), c2·(2y)), a sparse "xy00z0". */
void eval_line(blst_fp6 *out, const blst_fp6 *in, const blst_p1_affine *px2) {
  out->fp2[0] = in->fp2[0];
  blst_fp_mul(&out->fp2[1].fp[0], &in->fp2[1].fp[0], &px2->x);
  blst_fp_mul(&out->fp2[1].fp[1], &in->fp2[1].fp[1], &px2->x);
  blst_fp_mul(&out->fp2[2].fp[0], &in->fp2[2].fp[0], &px2->y);
  blst_fp_mul(&out->fp2[2].fp[1], &in->fp2[2].fp[1], &px2->y);
}

/** Segment product with P already turned into px2. */
void segment(blst_fp12 *f, const blst_fp6 *lines, const blst_p1_affine *px2, unsigned from, unsigned to) {
  if (from >= to) {
    *f = *blst_fp12_one();
    return;
  }
  blst_fp6 l;
  // 1 · l as an Fp12: c0 = (l0, l1, 0), c1 = (0, l2, 0).
  eval_line(&l, &lines[from], px2);
  wipe(f, sizeof *f);
  f->fp6[0].fp2[0] = l.fp2[0];
  f->fp6[0].fp2[1] = l.fp2[1];
  f->fp6[1].fp2[1] = l.fp2[2];
  for (unsigned i = from + 1; i < to; i++) {
    if (!group_start(i)) blst_fp12_sqr(f, f);
    eval_line(&l, &lines[i], px2);
    blst_fp12_mul_by_xy00z0(f, f, &l);
  }
  wipe(&l, sizeof l);
}

// Cost model for choosing the cut (µs on the ADX build, only the ratios matter): one
// squaring, one line (evaluation + sparse multiplication), the subgroup check, the join's
// multiplication. Measured with native/bench/par_bench.cc.
constexpr double kCostSqr = 1.65, kCostLine = 1.6, kCostInG1 = 61, kCostJoin = 2.3;

/** Work model: prefix[i] = cost of lines 0..i-1 as the caller does them (line 0 is only an
 *  evaluation), sqr_after[c] = squarings the caller adds for a cut at c. */
struct CostModel {
  double prefix[kMillerLines + 1];
  unsigned sqr_after[kMillerLines + 1];
  CostModel() {
    prefix[0] = 0;
    for (unsigned i = 0; i < kMillerLines; i++)
      prefix[i + 1] = prefix[i] + (i == 0 ? 0.1 : kCostLine + (group_start(i) ? 0 : kCostSqr));
    for (unsigned c = 0; c <= kMillerLines; c++) sqr_after[c] = miller_squarings(c, kMillerLines);
  }
};
const CostModel &model() {
  static const CostModel m;
  return m;
}

/**
 * The cut c >= n (n = the first line the caller has not claimed) that finishes first, given
 * the two threads' measured speeds (model
 * µs per real µs; the two cores of a shared VM often differ by tens of %): the caller then
 * evaluates lines n..c-1 and squares its head sqr_after[c] times, the helper evaluates lines
 * c..67. c = 68: no tail.
 */
unsigned choose_cut(unsigned n, double caller_speed, double helper_speed) {
  const CostModel &m = model();
  unsigned best = kMillerLines;
  double best_t = 1e300;
  for (unsigned c = n < 1 ? 1 : n; c <= kMillerLines; c++) {
    double mine = (m.prefix[c] - m.prefix[n] + kCostSqr * m.sqr_after[c]) / caller_speed;
    double help = (m.prefix[kMillerLines] - m.prefix[c]) / helper_speed;
    double t = (mine > help ? mine : help) + (c < kMillerLines ? kCostJoin / caller_speed : 0);
    if (t < best_t) best_t = t, best = c;
  }
  return best;
}

/**
 * Shared state of one parallel Miller loop. `claim` holds (cut << 8) | next: `next` is the
 * first line the caller has not claimed yet; `cut` is 0 until decided, then the first line
 * of the tail (68: no tail). The caller claims each line by compare-and-swap before it
 * evaluates it and stops at the cut; the helper, after the subgroup check, fixes the cut with
 * one compare-and-swap at a line the caller has not claimed, from the caller's progress and
 * both threads' speeds. So a late or slow helper gets a shorter tail, and one that comes after
 * the caller finished gets none. The cut depends on timing only, never on the lines (secret)
 * or P; the result is the same for every cut.
 * alignas: each part writes its own cache lines (no false sharing).
 */
struct alignas(64) Shared {
  std::atomic<uint32_t> claim;
  std::chrono::steady_clock::time_point caller_start;
  alignas(64) const blst_fp6 *lines;
  blst_p1_affine P, px2;  // copies: the helper reads no cache line the caller writes
  bool in_g1;
  unsigned tail_from;
  blst_fp12 tail;
};

inline double us_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

/** The helper's part: the subgroup check first (it also measures this core's speed), then
 *  fix the cut from how far and how fast the caller got, then the tail in its own stack. */
void helper_part(Shared *sh) {
  auto t0 = std::chrono::steady_clock::now();
  bool in = blst_p1_affine_in_g1(&sh->P);
  auto t1 = std::chrono::steady_clock::now();
  uint32_t w = sh->claim.load(std::memory_order_acquire);
  unsigned c;
  for (;;) {
    if (w >> 8) {
      c = w >> 8;  // the caller got to the end first
      break;
    }
    unsigned n = w & 0xff;
    if (!in) {
      c = kMillerLines;  // rejected anyway: no tail
    } else {
      double dc = us_between(sh->caller_start, t1), dh = us_between(t0, t1);
      double pn = model().prefix[n];
      double vc = dc > 1 ? (pn > 1 ? pn : 1) / dc : 1, vh = dh > 1 ? kCostInG1 / dh : 1;
      c = choose_cut(n, vc, vh);
    }
    if (sh->claim.compare_exchange_weak(w, (c << 8) | n, std::memory_order_acq_rel, std::memory_order_acquire))
      break;
  }
  sh->tail_from = c;
  if (in && c < kMillerLines) {
    blst_fp12 f;
    segment(&f, sh->lines, &sh->px2, c, kMillerLines);
    sh->tail = f;
    wipe(&f, sizeof f);
  }
  sh->in_g1 = in;
}

/** The caller's part: lines 0.. up to the cut, claimed one at a time. */
void caller_part(blst_fp12 *f, Shared *sh, const blst_fp6 *lines, const blst_p1_affine *px2) {
  blst_fp6 l;
  eval_line(&l, &lines[0], px2);  // line 0 is claimed from the start (claim = {0, 1})
  wipe(f, sizeof *f);
  f->fp6[0].fp2[0] = l.fp2[0];
  f->fp6[0].fp2[1] = l.fp2[1];
  f->fp6[1].fp2[1] = l.fp2[2];
  uint32_t w = sh->claim.load(std::memory_order_acquire);
  unsigned cut = 0;  // 0 while undecided
  for (unsigned i = 1; i < kMillerLines; i++) {
    // Claim line i unless the helper has cut at or before it.
    for (;;) {
      cut = w >> 8;
      if (cut && i >= cut) break;
      uint32_t want = (cut << 8) | (i + 1);
      if (sh->claim.compare_exchange_weak(w, want, std::memory_order_acq_rel, std::memory_order_acquire)) {
        w = want;
        break;
      }
    }
    if (cut && i >= cut) break;
    if (!group_start(i)) blst_fp12_sqr(f, f);
    eval_line(&l, &lines[i], px2);
    blst_fp12_mul_by_xy00z0(f, f, &l);
  }
  // All lines done here: no tail, unless the helper decided one meanwhile.
  while (!(cut = w >> 8)) {
    uint32_t want = (kMillerLines << 8) | kMillerLines;
    if (sh->claim.compare_exchange_weak(w, want, std::memory_order_acq_rel, std::memory_order_acquire)) w = want;
  }
  // The cut is final: square the head once per squaring of the tail, before the join.
  for (unsigned i = 0, m = miller_squarings(cut, kMillerLines); i < m; i++) blst_fp12_sqr(f, f);
  wipe(&l, sizeof l);
}

}  // namespace

unsigned miller_squarings(unsigned from, unsigned to) {
  unsigned n = 0;
  for (unsigned i = from; i < to; i++) n += !group_start(i);
  return n;
}

void miller_segment(blst_fp12 *f, const blst_fp6 lines[kMillerLines], const blst_p1_affine *P, unsigned from,
                    unsigned to) {
  blst_p1_affine px2;
  px2_of(&px2, P);
  segment(f, lines, &px2, from, to);
}

/** f <- conj(head^(2^m) · tail): the join of the two parts. */
static void combine(blst_fp12 *f, const blst_fp12 *tail, unsigned m) {
  for (unsigned i = 0; i < m; i++) blst_fp12_sqr(f, f);
  blst_fp12_mul(f, f, tail);
  blst_fp12_conjugate(f);  // z < 0
}

void miller_lines_split(blst_fp12 *out, const blst_fp6 lines[kMillerLines], const blst_p1_affine *P,
                        unsigned split) {
  if (split < 1 || split > kMillerLines) split = kMillerLines;
  blst_p1_affine px2;
  px2_of(&px2, P);
  blst_fp12 tail;
  segment(out, lines, &px2, 0, split);
  segment(&tail, lines, &px2, split, kMillerLines);
  combine(out, &tail, miller_squarings(split, kMillerLines));
  wipe(&tail, sizeof tail);
}

bool miller_lines_checked(blst_fp12 *out, const blst_fp6 lines[kMillerLines], const blst_p1_affine *P,
                          unsigned split) {
  Shared sh;
  // Line 0 is claimed by the caller; the cut is undecided, or fixed from the start (tests).
  unsigned fixed = split >= 1 && split <= kMillerLines ? split : 0;
  sh.claim.store((fixed << 8) | 1u, std::memory_order_relaxed);
  sh.caller_start = std::chrono::steady_clock::now();
  sh.lines = lines;
  sh.P = *P;
  px2_of(&sh.px2, P);
  blst_p1_affine px2 = sh.px2;
  sh.in_g1 = false;
  sh.tail_from = kMillerLines;
  // The two parts share only read-only inputs and the claim word; each writes its own fp12.
  par::run2([&sh] { helper_part(&sh); }, [&] { caller_part(out, &sh, lines, &px2); });
  bool ok = sh.in_g1;
  if (ok) {
    if (sh.tail_from < kMillerLines) blst_fp12_mul(out, out, &sh.tail);  // head already squared
    blst_fp12_conjugate(out);  // z < 0
  } else {
    wipe(out, sizeof *out);
  }
  wipe(&sh.tail, sizeof sh.tail);
  wipe(&px2, sizeof px2);
  return ok;
}

unsigned miller_best_cut(unsigned n, double caller_speed, double helper_speed) {
  return choose_cut(n, caller_speed, helper_speed);
}

}  // namespace ibaked
