// Miller loop over precomputed lines, split in two for the par:: helper; see miller.h.
#include "miller.h"

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

struct Tail {
  const blst_fp6 *lines;
  const blst_p1_affine *P, *px2;
  unsigned split;
  bool in_g1;
  blst_fp12 f;
};

/** The helper's part: subgroup check of P (public) and the tail product. Writes only t. */
void tail_task(Tail *t) {
  t->in_g1 = blst_p1_affine_in_g1(t->P);
  if (t->in_g1) segment(&t->f, t->lines, t->px2, t->split, kMillerLines);
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
  if (split < 1 || split > kMillerLines) split = kMillerLines;
  blst_p1_affine px2;
  px2_of(&px2, P);
  Tail t;
  t.lines = lines;
  t.P = P;
  t.px2 = &px2;
  t.split = split;
  t.in_g1 = false;
  // The two parts share only read-only inputs (lines, P, px2); each writes its own fp12.
  par::run2([&t] { tail_task(&t); }, [&] { segment(out, lines, &px2, 0, split); });
  bool ok = t.in_g1;
  if (ok) combine(out, &t.f, miller_squarings(split, kMillerLines));
  else wipe(out, sizeof *out);
  wipe(&t.f, sizeof t.f);
  return ok;
}

}  // namespace ibaked
