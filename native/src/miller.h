// Miller loop over blst's 68 precomputed G2 lines (blst_precompute_lines), evaluated by our
// own code so that it can be cut in two: a head evaluated on the calling thread and a tail
// evaluated on the par:: helper together with the G1 subgroup check of the argument.
//
// blst walks the lines as: line 0 (f = l0), then five groups, each one line followed by
// n × (square f, line) with n = 2, 3, 9, 32, 16 (lines 1, 4, 8, 18, 51 start a group: the
// additions), and a final conjugation because z < 0. Every step is f <- f² (or not) then
// f <- f · l_i(P), so for a cut at line s with m squarings at or after s:
//     f = head(0..s)^(2^m) · tail(s..68)
// where tail starts from its first line alone. Fp12 is a field, so the result is the same
// element (and, blst keeping residues fully reduced, the same bytes) as the serial loop.
// Operation sequence and memory addresses depend only on public indices: the lines (from
// our private key) are handled in constant time, like blst does.
#pragma once
#include "blst.h"

namespace ibaked {

constexpr unsigned kMillerLines = 68;
/** Product of lines[from..to) at P, as described above (from < to <= 68; 1 when from == to). */
void miller_segment(blst_fp12 *f, const blst_fp6 lines[kMillerLines], const blst_p1_affine *P, unsigned from,
                    unsigned to);
/** Number of squarings that blst performs for lines from..to-1. */
unsigned miller_squarings(unsigned from, unsigned to);

/** The whole Miller loop cut at `split` (1..68), both parts on this thread: for tests. */
void miller_lines_split(blst_fp12 *out, const blst_fp6 lines[kMillerLines], const blst_p1_affine *P,
                        unsigned split);

/**
 * Miller loop of P (on the curve, not the identity; subgroup membership not yet checked) over
 * the lines, with the subgroup check and a tail of the loop on the par:: helper thread.
 * Returns false (and a wiped out) when P is not in G1; otherwise out equals
 * blst_miller_loop_lines(lines, P). split = 0: the helper checks the subgroup first, then
 * chooses the cut from how far and how fast the caller got and from its own speed (a late or
 * slow helper gets a shorter tail, none if the caller already finished); 1..68: that cut,
 * fixed from the start whoever runs the tail (tests, benchmarks).
 */
bool miller_lines_checked(blst_fp12 *out, const blst_fp6 lines[kMillerLines], const blst_p1_affine *P,
                          unsigned split = 0);

/** The cut the helper picks, after its subgroup check, when the caller is about to evaluate
 *  line n and the two threads run at these relative speeds (tests, benchmarks). */
unsigned miller_best_cut(unsigned n, double caller_speed = 1, double helper_speed = 1);

}  // namespace ibaked
