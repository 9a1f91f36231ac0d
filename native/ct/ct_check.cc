// ctgrind-style constant-time check (Adam Langley's method): the secret scalar is marked
// *undefined* for valgrind's memcheck, so any branch or memory address that depends on it is
// reported ("Conditional jump or move depends on uninitialised value(s)" / "Use of
// uninitialised value"). Outputs are declassified (marked defined) before they are compared
// or encoded. Run by scripts/ct-check; exit status 1 means memcheck found a secret dependency.
// The prepared pairing ("pair") marks the precomputed G2 lines (they come from our private
// key) secret and runs our Miller loop: cut serially at several points (every segment and
// the join), and through the par:: helper (adaptive and fixed cuts; a fixed cut makes the
// helper thread evaluate the tail), then blst's final exponentiation. GT fixed-base pow and
// the prepared pairing go through par::run2 with take-back off, so the helper thread runs
// every posted part (valgrind runs one thread at a time; memcheck's shadow memory is shared,
// so a secret handled on either thread is tracked the same way).
// Section "gt" also runs the table pow with a side task ([k]P on the helper, as an encryption does).
// Section "bf": the fused BF core's hashing (SHA-256, HashToRange, HashBytes) on a secret rho and
// plaintext; l's zero flag is declassified before the caller's one public branch (reject l = 0).
#include <valgrind/memcheck.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "../src/codec.h"
#include "../src/g1_table.h"
#include "../src/gt_exp.h"
#include "../src/miller.h"
#include "../src/par.h"
#include "../src/ibe_hash.h"
#include "../src/sha256.h"
#include "../src/mikey_prf.h"
#include "../check/random_scalar.h"

using namespace ibaked;

static void secret(void *p, size_t n) { VALGRIND_MAKE_MEM_UNDEFINED(p, n); }
static void declassify(void *p, size_t n) { VALGRIND_MAKE_MEM_DEFINED(p, n); }

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : "";
  // Every task posted to the par:: helper runs on the helper thread (never taken back), so
  // the helper's parts (Miller tail at fixed cuts, GT digits it claims) are checked there.
  par::set_take_back(false);
  std::mt19937_64 rng(7);
  blst_p1_affine P;
  blst_p2_affine Q;
  blst_p1_to_affine(&P, blst_p1_generator());
  blst_p2_to_affine(&Q, blst_p2_generator());
  blst_fp12 ml, gt, a, b;
  blst_miller_loop(&ml, &Q, &P);
  blst_final_exp(&gt, &ml);
  GtTable gtab(&gt);
  G1Table g1tab(&P);
  int checked = 0, mismatches = 0;

  for (int iter = 0; iter < 2; iter++) {
    uint64_t k[4];
    random_scalar(k, rng);
    uint8_t kle[32];
    for (int i = 0; i < 32; i++) kle[i] = (uint8_t)(k[i / 8] >> (8 * (i % 8)));

    if (!*only || !strcmp(only, "g1")) {
      // G1: blst's GLV path (variable base) and our fixed-base comb must agree.
      blst_p1 r1, r2;
      uint8_t ks[32];
      memcpy(ks, kle, 32);
      secret(ks, 32);
      blst_p1_from_affine(&r1, &P);
      blst_p1_mult(&r1, &r1, ks, 255);
      uint64_t kk[4];
      memcpy(kk, k, sizeof kk);
      secret(kk, sizeof kk);
      g1tab.mul(&r2, kk);
      declassify(&r1, sizeof r1);
      declassify(&r2, sizeof r2);
      mismatches += !blst_p1_is_equal(&r1, &r2);
      checked += 2;
    }
    if (!*only || !strcmp(only, "g2")) {
      blst_p2 r;
      uint8_t ks[32];
      memcpy(ks, kle, 32);
      secret(ks, 32);
      blst_p2_from_affine(&r, &Q);
      blst_p2_mult(&r, &r, ks, 255);
      declassify(&r, sizeof r);
      checked += 1;
    }
    if (!*only || !strcmp(only, "gt")) {
      uint64_t kk[4];
      memcpy(kk, k, sizeof kk);
      secret(kk, sizeof kk);
      gt_pow_ct(&a, &gt, kk);
      memcpy(kk, k, sizeof kk);
      secret(kk, sizeof kk);
      gtab.pow(&b, kk);
      declassify(&a, sizeof a);
      declassify(&b, sizeof b);
      mismatches += !blst_fp12_is_equal(&a, &b);
      // An encryption's shape (bf_core.cc): the table pow with U = [k]P as the helper's side task.
      blst_fp12 c;
      blst_p1 u, uref;
      memcpy(kk, k, sizeof kk);
      secret(kk, sizeof kk);
      gtab.pow_with(&c, kk, [&] { g1tab.mul(&u, kk); });
      declassify(&c, sizeof c);
      declassify(&u, sizeof u);
      g1tab.mul(&uref, k);
      mismatches += !blst_fp12_is_equal(&a, &c) || !blst_p1_is_equal(&u, &uref);
      checked += 4;
    }
    if (!*only || !strcmp(only, "bf")) {
      // rho ‖ SHA256(M) -> l = HashToRange(., r) -> [l]P; W = M XOR HashBytes(|M|, rho).
      uint8_t rho[32], m[100], rt[64], w[100];
      for (auto &x : rho) x = (uint8_t)rng();
      for (auto &x : m) x = (uint8_t)rng();
      secret(rho, sizeof rho);
      secret(m, sizeof m);
      memcpy(rt, rho, 32);
      sha256(rt + 32, m, sizeof m);
      uint64_t l[4];
      bool nonzero = hash_to_range_r(l, rt, sizeof rt);
      declassify(&nonzero, sizeof nonzero);
      if (nonzero) {
        blst_p1 r;
        g1tab.mul(&r, l);
        declassify(&r, sizeof r);
      }
      hash_bytes_xor(w, m, sizeof m, rho, sizeof rho);
      declassify(w, sizeof w);
      checked += 3;
    }
    if (!*only || !strcmp(only, "split")) {
      uint64_t kk[4], d[4];
      memcpy(kk, k, sizeof kk);
      secret(kk, sizeof kk);
      split_scalar_z(d, kk);
      declassify(d, sizeof d);
      checked += 1;
    }
  }
  if (!*only || !strcmp(only, "prf")) {
    // The MIKEY PRF-HMAC-SHA-256 (mikey_prf.cc) on a secret input key of one, two and three
    // chunks (the compression is sha256.cc's here: the harness has no OpenSSL to find).
    for (size_t klen : {16, 32, 65}) {
      uint8_t key[65], label[40], out[46], ref[46];
      for (auto &x : key) x = (uint8_t)rng();
      for (auto &x : label) x = (uint8_t)rng();
      mikey_prf_sha256(key, klen, label, sizeof label, ref, sizeof ref);
      secret(key, sizeof key);
      mikey_prf_sha256(key, klen, label, sizeof label, out, sizeof out);
      declassify(out, sizeof out);
      mismatches += memcmp(out, ref, sizeof out) != 0;
      checked += 1;
    }
  }
  if (!*only || !strcmp(only, "pair")) {
    static blst_fp6 lines[kMillerLines];
    blst_precompute_lines(lines, &Q);
    blst_fp12 ref, f, e1, e2;
    blst_p1_affine U;
    blst_p1 u;
    uint8_t kle[32];
    uint64_t k[4];
    random_scalar(k, rng);
    for (int i = 0; i < 32; i++) kle[i] = (uint8_t)(k[i / 8] >> (8 * (i % 8)));
    blst_p1_mult(&u, blst_p1_generator(), kle, 255);
    blst_p1_to_affine(&U, &u);
    blst_miller_loop_lines(&ref, lines, &U);
    secret(lines, sizeof lines);
    for (unsigned cut : {1u, 18u, 37u, 51u, 68u}) {
      miller_lines_split(&f, lines, &U, cut);
      declassify(&f, sizeof f);
      mismatches += !blst_fp12_is_equal(&f, &ref);
      checked += 1;
    }
    for (unsigned cut : {0u, 0u, 30u, 45u}) {
      bool ok = miller_lines_checked(&f, lines, &U, cut);
      blst_final_exp(&e1, &f);
      declassify(&e1, sizeof e1);
      declassify(&f, sizeof f);
      blst_final_exp(&e2, &ref);
      mismatches += !ok || !blst_fp12_is_equal(&f, &ref) || !blst_fp12_is_equal(&e1, &e2);
      checked += 1;
    }
    declassify(lines, sizeof lines);
  }
  if (!strcmp(only, "leak")) {
    // Negative control for scripts/ct-check: a table index taken from the secret.
    uint64_t kk[4];
    random_scalar(kk, rng);
    secret(kk, sizeof kk);
    static volatile uint8_t t[256];
    checked += t[kk[0] & 0xff];
    if (kk[1] & 1) checked++;
  }
  par::Stats st = par::stats();
  printf("ct-check: %d secret-scalar operations run, %d mismatches; par helper ran %llu parts, caller %llu\n",
         checked, mismatches, (unsigned long long)st.parallel, (unsigned long long)st.inline_);
  return mismatches ? 2 : 0;
}
