// Miller loop over precomputed lines, split in two for the par:: helper; see miller.h.
#include "miller.h"

#include <atomic>
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

// Cost model for choosing the cut (µs on the ADX build; only the ratios matter): one
// squaring, one line (evaluation + sparse multiplication), the subgroup check, the join's
// multiplication. Measured with native/bench/par_bench.cc.
// The helper's side gets a 10 % handicap (cold caches after its wake-up, start latency).
constexpr double kCostSqr = 1.65, kCostLine = 1.6, kCostInG1 = 61, kCostJoin = 2.3, kHelperSlowdown = 1.1;

/**
 * best_cut(n): the cut c >= n that finishes first when the helper starts while the caller is
 * about to evaluate line n: the caller evaluates lines n..c-1 and then squares its head m(c)
 * times; the helper checks the subgroup and evaluates lines c..67. c = 68: no tail.
 */
unsigned best_cut(unsigned n) {
  struct Table {
    uint8_t cut[kMillerLines + 1];
    Table() {
      auto step = [](unsigned i) { return kCostLine + (group_start(i) ? 0 : kCostSqr); };
      for (unsigned start = 0; start <= kMillerLines; start++) {
        unsigned best = kMillerLines;
        double best_t = 1e30;
        for (unsigned c = start < 1 ? 1 : start; c <= kMillerLines; c++) {
          double mine = 0, help = kCostInG1;
          for (unsigned i = start; i < c; i++) mine += step(i);
          mine += kCostSqr * miller_squarings(c, kMillerLines);
          for (unsigned i = c; i < kMillerLines; i++) help += step(i);
          help *= kHelperSlowdown;
          double t = (mine > help ? mine : help) + (c < kMillerLines ? kCostJoin : 0);
          if (t < best_t) best_t = t, best = c;
        }
        cut[start] = (uint8_t)best;
      }
    }
  };
  static const Table table;
  return table.cut[n > kMillerLines ? kMillerLines : n];
}

/**
 * Shared state of one parallel Miller loop. `claim` holds (cut << 8) | next: `next` is the
 * first line the caller has not claimed yet; `cut` is 0 until decided, then the first line
 * of the tail (68: no tail). The caller claims each line by compare-and-swap before it
 * evaluates it and stops at the cut; the helper fixes the cut with one compare-and-swap at
 * its start, at a line the caller has not claimed. So a helper that starts late gets a
 * shorter tail, and one that starts after the caller finished gets none. The cut depends on
 * timing only, never on the lines or P; the result is the same for every cut.
 * alignas: each part writes its own cache lines (no false sharing).
 */
struct alignas(64) Shared {
  std::atomic<uint32_t> claim;
  unsigned fixed_cut;  // 0: adaptive; 1..68: use this cut (tests, benchmarks)
  alignas(64) const blst_fp6 *lines;
  blst_p1_affine P, px2;  // copies: the helper reads no cache line the caller writes
  bool in_g1;
  unsigned tail_from;
  blst_fp12 tail;
};

/** The helper's part: fix the cut, evaluate the tail in its own stack, check the subgroup. */
void helper_part(Shared *sh) {
  uint32_t w = sh->claim.load(std::memory_order_acquire);
  unsigned c;
  for (;;) {
    if (w >> 8) {
      c = w >> 8;  // the caller got to the end first
      break;
    }
    unsigned n = w & 0xff;
    c = sh->fixed_cut ? (sh->fixed_cut < n ? n : sh->fixed_cut) : best_cut(n);
    if (sh->claim.compare_exchange_weak(w, (c << 8) | n, std::memory_order_acq_rel, std::memory_order_acquire))
      break;
  }
  sh->tail_from = c;
  if (c < kMillerLines) {
    blst_fp12 f;
    segment(&f, sh->lines, &sh->px2, c, kMillerLines);
    sh->tail = f;
    wipe(&f, sizeof f);
  }
  sh->in_g1 = blst_p1_affine_in_g1(&sh->P);
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
  for (unsigned i = 1; i < kMillerLines; i++) {
    bool stop = false;
    for (;;) {
      unsigned c = w >> 8;
      if (c && i >= c) {
        stop = true;
        break;
      }
      if (sh->claim.compare_exchange_weak(w, (c << 8) | (i + 1), std::memory_order_acq_rel,
                                          std::memory_order_acquire))
        break;
    }
    if (stop) break;
    if (!group_start(i)) blst_fp12_sqr(f, f);
    eval_line(&l, &lines[i], px2);
    blst_fp12_mul_by_xy00z0(f, f, &l);
  }
  // All lines done here: no tail, unless the helper already decided one (then c == 68).
  while (!(w >> 8) &&
         !sh->claim.compare_exchange_weak(w, (kMillerLines << 8) | kMillerLines, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
  }
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
  sh.claim.store(1u, std::memory_order_relaxed);  // cut undecided, line 0 claimed by the caller
  sh.fixed_cut = split <= kMillerLines ? split : 0;
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
    if (sh.tail_from < kMillerLines) {
      for (unsigned i = 0, m = miller_squarings(sh.tail_from, kMillerLines); i < m; i++) blst_fp12_sqr(out, out);
      blst_fp12_mul(out, out, &sh.tail);
    }
    blst_fp12_conjugate(out);  // z < 0
  } else {
    wipe(out, sizeof *out);
  }
  wipe(&sh.tail, sizeof sh.tail);
  wipe(&px2, sizeof px2);
  return ok;
}

unsigned miller_best_cut(unsigned n) { return best_cut(n); }

}  // namespace ibaked
