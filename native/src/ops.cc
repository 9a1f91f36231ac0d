// Operation bodies; see ops.h. Each op validates its arguments left to right with the same
// reasons as the ts backend, so the first failing check names the error on every backend.
#include "ops.h"

#include <atomic>
#include <cstring>

#include "bf_core.h"
#include "codec.h"
#include "miller.h"
#include "p256.h"
#include "par.h"

namespace ibaked {
namespace {

Result fail(Reason r, const char *msg) {
  Result res;
  res.reason = r;
  res.message = msg;
  return res;
}

#define TRY(expr, msg)                               \
  do {                                               \
    Reason r_ = (expr);                              \
    if (r_ != Reason::Ok) return fail(r_, msg);      \
  } while (0)

Reason typed(const Arg &a) { return a.typed ? Reason::Ok : Reason::Type; }

Reason g1_arg(blst_p1_affine *p, const Arg &a) {
  if (!a.typed) return Reason::Type;
  return decode_g1(p, a.data.data(), a.data.size());
}
Reason g2_arg(blst_p2_affine *p, const Arg &a) {
  if (!a.typed) return Reason::Type;
  return decode_g2(p, a.data.data(), a.data.size());
}
Reason scalar_arg(uint64_t k[4], const Arg &a) {
  if (!a.typed) return Reason::Type;
  return decode_scalar(k, a.data.data(), a.data.size());
}
Reason gt_arg(blst_fp12 *f, const Arg &a) {
  if (!a.typed) return Reason::Type;
  return decode_gt_cyclotomic(f, a.data.data(), a.data.size());
}

Result g1_out(const blst_p1 *p) {
  Result r;
  r.out.resize(kG1Compressed);
  encode_g1(r.out.data(), p, true);
  return r;
}
Result g2_out(const blst_p2 *p) {
  Result r;
  r.out.resize(kG2Compressed);
  encode_g2(r.out.data(), p, true);
  return r;
}
Result gt_out(const blst_fp12 *f) {
  Result r;
  r.out.resize(kGtBytes);
  encode_fp12(r.out.data(), f);
  return r;
}

/** k as 32 little-endian octets for blst's scalar multiplication. */
void scalar_le(uint8_t out[32], const uint64_t k[4]) {
  for (size_t i = 0; i < 32; i++) out[i] = (uint8_t)(k[i / 8] >> (8 * (i % 8)));
}

Reason dst_arg(const Arg &a) {
  if (!a.typed) return Reason::Type;
  if (a.data.empty() || a.data.size() > 255) return Reason::Length;
  return Reason::Ok;
}

/** Decodes pairs [from, to) of MultiPairing's arguments and multiplies their Miller loops into
 *  *acc (nothing when from == to: *acc stays one). Stops at the first bad point. */
struct PairsPart {
  size_t from = 0, to = 0;
  Reason reason = Reason::Ok;
  const char *message = "";
  blst_fp12 acc;
  void run(const std::vector<Arg> &args) {
    acc = *blst_fp12_one();
    blst_p1_affine p;
    blst_p2_affine q;
    blst_fp12 ml;
    for (size_t i = from; i < to; i++) {
      if ((reason = g1_arg(&p, args[2 * i])) != Reason::Ok) { message = "G1 point rejected"; return; }
      if ((reason = g2_arg(&q, args[2 * i + 1])) != Reason::Ok) { message = "G2 point rejected"; return; }
      blst_miller_loop(&ml, &q, &p);
      blst_fp12_mul(&acc, &acc, &ml);
    }
  }
};

/** Π e(P_i, Q_i): the caller takes the first half of the pairs, the par:: helper the second
 *  (decoding with its subgroup checks, and the Miller loops), then one multiplication and one
 *  final exponentiation. The first failing check in argument order names the error: a bad
 *  point in the first half wins over one in the second. Public inputs only. */
Result multi_pairing(const std::vector<Arg> &args) {
  const size_t n = args.size() / 2;
  alignas(64) PairsPart head, tail;
  head.from = 0;
  head.to = tail.from = (n + 1) / 2;
  tail.to = n;
  if (n > 1) {
    par::run2([&] { tail.run(args); }, [&] { head.run(args); });
  } else {
    head.run(args);
    tail.run(args);
  }
  if (head.reason != Reason::Ok) return fail(head.reason, head.message);
  if (tail.reason != Reason::Ok) return fail(tail.reason, tail.message);
  blst_fp12_mul(&head.acc, &head.acc, &tail.acc);
  blst_final_exp(&head.acc, &head.acc);
  return gt_out(&head.acc);
}

constexpr size_t kScalarBits = 255;  // k < r < 2^255: a fixed bit length keeps blst on its CT GLV path

/**
 * The Cha–Cheon verification of src/ibe/bls12381/ibs.ts in one call (public inputs only):
 * P_pub (G1), Q_sig (G2), h (scalar), U, V (G2) validated in that order; W = U + [h]Q_sig;
 * accept iff e(-P, V) · e(P_pub, W) = 1, one final exponentiation. The par:: helper decodes V
 * (decompression, subgroup check) and runs its Miller loop while the caller decodes the rest,
 * forms W and runs the other Miller loop. W = 0 is "not valid" (0), never an error. A bad V is
 * reported only when everything before it is good (argument order).
 */
Result ibs_verify(const std::vector<Arg> &args) {
  static const blst_p1_affine neg_p = [] {
    blst_p1 p = *blst_p1_generator();
    blst_p1_cneg(&p, true);
    blst_p1_affine a;
    blst_p1_to_affine(&a, &p);
    return a;
  }();
  struct alignas(64) Side {
    Reason reason = Reason::Ok;
    blst_fp12 ml;
  } helper;
  blst_p1_affine ppub;
  blst_p2_affine q, u, w_aff;
  blst_p2 w, hq;
  blst_fp12 f;
  uint64_t h[4] = {0, 0, 0, 0};
  uint8_t hle[32];
  Reason mine = Reason::Ok;
  const char *what = "";
  bool w_inf = false;
  auto tail = [&] {
    blst_p2_affine v;
    if ((helper.reason = g2_arg(&v, args[4])) != Reason::Ok) return;
    blst_miller_loop(&helper.ml, &v, &neg_p);
  };
  auto head = [&] {
    if ((mine = g1_arg(&ppub, args[0])) != Reason::Ok) { what = "P_pub rejected"; return; }
    if ((mine = g2_arg(&q, args[1])) != Reason::Ok) { what = "Q_sig rejected"; return; }
    if ((mine = scalar_arg(h, args[2])) != Reason::Ok) { what = "h rejected"; return; }
    if ((mine = g2_arg(&u, args[3])) != Reason::Ok) { what = "signature U rejected"; return; }
    scalar_le(hle, h);
    blst_p2_from_affine(&hq, &q);
    blst_p2_mult(&hq, &hq, hle, kScalarBits);
    blst_p2_add_or_double_affine(&w, &hq, &u);
    if (blst_p2_is_inf(&w)) { w_inf = true; return; }
    blst_p2_to_affine(&w_aff, &w);
    blst_miller_loop(&f, &w_aff, &ppub);
  };
  par::run2(tail, head);
  if (mine != Reason::Ok) return fail(mine, what);
  if (helper.reason != Reason::Ok) return fail(helper.reason, "signature V rejected");
  Result r;
  r.out.assign(1, 0);
  if (w_inf) return r;
  blst_fp12_mul(&f, &f, &helper.ml);
  blst_final_exp(&f, &f);
  r.out[0] = blst_fp12_is_one(&f) ? 1 : 0;
  return r;
}

}  // namespace

int op_arity(Op op) {
  switch (op) {
    case Op::G1Generator:
    case Op::G2Generator: return 0;
    case Op::GtValidate:
    case Op::FinalExp:
    case Op::G1FixedBase:
    case Op::G2Prepare:
    case Op::GtFixedBase:
    case Op::TableG1Mul:
    case Op::TableG1MulUncompressed:
    case Op::PreparedPairing:
    case Op::PreparedMiller:
    case Op::TableGtPow: return 1;
    case Op::BfDecrypt:
    case Op::BfEncryptPlain:
    case Op::BfRecipient: return 3;
    case Op::BfDecryptRecipient:
    case Op::BfDecryptEncrypt: return 6;
    case Op::IbsVerify: return 5;
    case Op::MultiPairing: return -1;
    default: return 2;
  }
}

bool arity_ok(Op op, size_t n) {
  if (op == Op::MultiPairing) return n >= 2 && n <= kMaxArgs && n % 2 == 0;
  return (int)n == op_arity(op);
}

bool op_makes_handle(Op op) {
  return op == Op::G1FixedBase || op == Op::G2Prepare || op == Op::GtFixedBase;
}

bool op_uses_handle(Op op) {
  return op == Op::TableG1Mul || op == Op::TableG1MulUncompressed || op == Op::PreparedPairing || op == Op::PreparedMiller ||
         op == Op::TableGtPow || op == Op::BfDecrypt || op == Op::BfEncrypt || op == Op::BfDecryptRecipient ||
         op == Op::BfDecryptEncrypt;
}

bool op_uses_second_handle(Op op) { return op == Op::BfDecryptEncrypt; }

size_t HandleData::bytes() const {
  if (g1) return g1->bytes();
  if (lines) return sizeof(*lines);
  if (gt) return gt->bytes();
  return 0;
}

static std::atomic<long> g_live_handles{0};

long live_handle_count() { return g_live_handles.load(); }

HandleData::HandleData() { g_live_handles++; }

HandleData::~HandleData() {
  if (lines) wipe(lines->data(), sizeof(*lines));
  wipe(key.data(), key.size());  // for G2 lines: the private key the lines were built from
  g_live_handles--;
}

Result run_op(Op op, const std::vector<Arg> &args, const std::shared_ptr<HandleData> &handle,
              const std::shared_ptr<HandleData> &second) {
  if (!arity_ok(op, args.size())) return fail(Reason::Type, "wrong number of arguments");
  if (op_uses_handle(op) && !handle) return fail(Reason::Freed, "handle used after free()");
  if (op_uses_second_handle(op) && !second) return fail(Reason::Freed, "handle used after free()");
  blst_p1_affine a1, b1;
  blst_p2_affine a2, b2;
  blst_p1 p1;
  blst_p2 p2;
  blst_fp12 f, g;
  uint64_t k[4] = {0, 0, 0, 0};
  WipeOnExit<uint64_t[4]> wipe_k(k);
  uint8_t kle[32];
  WipeOnExit<uint8_t[32]> wipe_kle(kle);

  switch (op) {
    case Op::G1Generator: return g1_out(blst_p1_generator());
    case Op::G2Generator: return g2_out(blst_p2_generator());

    case Op::G1Encode:
    case Op::G2Encode: {
      bool compressed = args[1].typed && args[1].data.size() == 1 && args[1].data[0] == 1;
      Result r;
      if (op == Op::G1Encode) {
        TRY(g1_arg(&a1, args[0]), "G1 point rejected");
        blst_p1_from_affine(&p1, &a1);
        r.out.resize(compressed ? kG1Compressed : kG1Uncompressed);
        encode_g1(r.out.data(), &p1, compressed);
      } else {
        TRY(g2_arg(&a2, args[0]), "G2 point rejected");
        blst_p2_from_affine(&p2, &a2);
        r.out.resize(compressed ? kG2Compressed : kG2Uncompressed);
        encode_g2(r.out.data(), &p2, compressed);
      }
      return r;
    }

    case Op::GtValidate: {
      TRY(typed(args[0]), "GT value must be a Uint8Array");
      TRY(decode_gt_full(&f, args[0].data.data(), args[0].data.size()), "GT value rejected");
      return Result();
    }

    case Op::G1Mul: {
      TRY(g1_arg(&a1, args[0]), "G1 point rejected");
      TRY(scalar_arg(k, args[1]), "scalar rejected");
      scalar_le(kle, k);
      blst_p1_from_affine(&p1, &a1);
      blst_p1_mult(&p1, &p1, kle, kScalarBits);
      return g1_out(&p1);
    }
    case Op::G2Mul: {
      TRY(g2_arg(&a2, args[0]), "G2 point rejected");
      TRY(scalar_arg(k, args[1]), "scalar rejected");
      scalar_le(kle, k);
      blst_p2_from_affine(&p2, &a2);
      blst_p2_mult(&p2, &p2, kle, kScalarBits);
      return g2_out(&p2);
    }
    case Op::G1Add: {
      TRY(g1_arg(&a1, args[0]), "G1 point a rejected");
      TRY(g1_arg(&b1, args[1]), "G1 point b rejected");
      blst_p1_from_affine(&p1, &a1);
      blst_p1_add_or_double_affine(&p1, &p1, &b1);
      return g1_out(&p1);
    }
    case Op::G2Add: {
      TRY(g2_arg(&a2, args[0]), "G2 point a rejected");
      TRY(g2_arg(&b2, args[1]), "G2 point b rejected");
      blst_p2_from_affine(&p2, &a2);
      blst_p2_add_or_double_affine(&p2, &p2, &b2);
      return g2_out(&p2);
    }

    case Op::Pairing:
    case Op::MillerLoop: {
      TRY(g1_arg(&a1, args[0]), "G1 point rejected");
      TRY(g2_arg(&a2, args[1]), "G2 point rejected");
      blst_miller_loop(&f, &a2, &a1);
      if (op == Op::Pairing) blst_final_exp(&f, &f);
      return gt_out(&f);
    }
    case Op::MultiPairing: return multi_pairing(args);
    case Op::IbsVerify: return ibs_verify(args);
    case Op::FinalExp: {
      TRY(typed(args[0]), "Fp12 value must be a Uint8Array");
      TRY(decode_fp12(&f, args[0].data.data(), args[0].data.size(), false), "Fp12 value rejected");
      blst_final_exp(&f, &f);
      return gt_out(&f);
    }
    case Op::GtMul: {
      TRY(gt_arg(&f, args[0]), "GT value a rejected");
      TRY(gt_arg(&g, args[1]), "GT value b rejected");
      blst_fp12_mul(&f, &f, &g);
      return gt_out(&f);
    }
    case Op::GtPow: {
      TRY(gt_arg(&f, args[0]), "GT value rejected");
      TRY(scalar_arg(k, args[1]), "scalar rejected");
      gt_pow_ct(&g, &f, k);
      Result r = gt_out(&g);
      wipe(&g, sizeof g);
      return r;
    }

    case Op::HashToG2:
    case Op::HashToG1: {
      TRY(typed(args[0]), "message must be a Uint8Array");
      TRY(dst_arg(args[1]), "DST must be 1..255 octets");
      const Bytes &m = args[0].data, &d = args[1].data;
      if (op == Op::HashToG2) {
        blst_hash_to_g2(&p2, m.data(), m.size(), d.data(), d.size(), nullptr, 0);
        return g2_out(&p2);
      }
      blst_hash_to_g1(&p1, m.data(), m.size(), d.data(), d.size(), nullptr, 0);
      return g1_out(&p1);
    }

    case Op::G1FixedBase: {
      TRY(g1_arg(&a1, args[0]), "G1 point rejected");
      auto h = std::make_shared<HandleData>();
      h->kind = HandleData::Kind::G1Table;
      h->g1.reset(new G1Table(&a1));
      blst_p1_from_affine(&p1, &a1);
      Result r = g1_out(&p1);
      h->key = r.out;
      r.handle = h;
      return r;
    }
    case Op::G2Prepare: {
      TRY(g2_arg(&a2, args[0]), "G2 point rejected");
      auto h = std::make_shared<HandleData>();
      h->kind = HandleData::Kind::G2Lines;
      h->lines.reset(new std::array<blst_fp6, 68>());
      blst_precompute_lines(h->lines->data(), &a2);
      blst_p2_from_affine(&p2, &a2);
      Result r = g2_out(&p2);
      h->key = r.out;
      r.handle = h;
      wipe(&a2, sizeof a2);
      wipe(&p2, sizeof p2);
      return r;
    }
    case Op::GtFixedBase: {
      TRY(gt_arg(&f, args[0]), "GT value rejected");
      auto h = std::make_shared<HandleData>();
      h->kind = HandleData::Kind::GtTable;
      h->gt.reset(new GtTable(&f));
      Result r = gt_out(&f);
      h->key = r.out;
      r.handle = h;
      return r;
    }

    case Op::TableG1Mul:
    case Op::TableG1MulUncompressed: {
      if (!handle->g1) return fail(Reason::Type, "not a G1 table");
      TRY(scalar_arg(k, args[0]), "scalar rejected");
      handle->g1->mul(&p1, k);
      if (op == Op::TableG1Mul) return g1_out(&p1);
      Result r;
      r.out.resize(kG1Uncompressed);
      encode_g1(r.out.data(), &p1, false);
      return r;
    }
    case Op::PreparedPairing:
    case Op::PreparedMiller: {
      if (!handle->lines) return fail(Reason::Type, "not a prepared G2 point");
      // decode_g1's checks in its order: bytes .. on-curve here, then the subgroup check runs
      // on the helper thread beside the Miller loop's tail (miller.h), then identity.
      TRY(typed(args[0]), "G1 point rejected");
      TRY(decode_g1_on_curve(&a1, args[0].data.data(), args[0].data.size()), "G1 point rejected");
      if (blst_p1_affine_is_inf(&a1)) {
        // Unreachable for canonical encodings (infinity is caught by the byte checks); kept
        // so that the reasons are decode_g1's whatever blst accepts.
        return fail(blst_p1_affine_in_g1(&a1) ? Reason::Identity : Reason::NotInSubgroup, "G1 point rejected");
      }
      if (!miller_lines_checked(&f, handle->lines->data(), &a1)) return fail(Reason::NotInSubgroup, "G1 point rejected");
      if (op == Op::PreparedPairing) blst_final_exp(&f, &f);
      Result r = gt_out(&f);
      wipe(&f, sizeof f);
      return r;
    }
    case Op::TableGtPow: {
      if (!handle->gt) return fail(Reason::Type, "not a GT table");
      TRY(scalar_arg(k, args[0]), "scalar rejected");
      handle->gt->pow(&g, k);
      Result r = gt_out(&g);
      wipe(&g, sizeof g);
      return r;
    }
    case Op::BfDecrypt: return bf_decrypt(*handle, args);
    case Op::BfEncrypt: return bf_encrypt(*handle, args);
    case Op::BfEncryptPlain: return bf_encrypt_plain(args);
    case Op::BfRecipient: return bf_recipient(args);
    case Op::BfDecryptRecipient: return bf_decrypt_recipient(*handle, args);
    case Op::BfDecryptEncrypt: return bf_decrypt_encrypt(*handle, *second, args);
    case Op::P256Mul: {
      if (!args[0].typed || !args[1].typed) return fail(Reason::Type, "P-256 arguments must be Uint8Arrays");
      if (args[0].data.size() != kP256Scalar) return fail(Reason::Length, "P-256 scalar must be 32 octets");
      Result r;
      r.out.resize(kP256Point);
      Reason why = p256_mul(r.out.data(), args[0].data.data(), args[1].data.data(), args[1].data.size());
      if (why != Reason::Ok) return fail(why, "P-256 multiplication rejected");
      return r;
    }
    default: return fail(Reason::Type, "unknown operation");
  }
}

}  // namespace ibaked
