// Fused BFdecrypt / BFencrypt of bls12381-bf; see bf_core.h. The steps and their order follow
// decryptOps / encryptWithRhoOps in src/ibe/bls12381/bf.ts exactly; test/ibe-bf-core.test.ts
// pins the bytes to that reference path on the ts and native engines.
#include "bf_core.h"

#include "miller.h"

#include <cstring>
#include <mutex>

#include "codec.h"
#include "ct.h"
#include "ibe_hash.h"
#include "par.h"
#include "sha256.h"

namespace ibaked {
namespace {

constexpr size_t kRhoBytes = kSha256Len;

Result fail(Reason r, const char *msg) {
  Result res;
  res.reason = r;
  res.message = msg;
  return res;
}

/** Type then length of an octet-string argument: exactly `n` octets. */
Reason exact_arg(const Arg &a, size_t n) {
  if (!a.typed) return Reason::Type;
  return a.data.size() == n ? Reason::Ok : Reason::Length;
}

/** Type then length of a plaintext / W argument: 1..2^20 octets. */
Reason message_arg(const Arg &a) {
  if (!a.typed) return Reason::Type;
  return a.data.empty() || a.data.size() > kBfMaxPlaintext ? Reason::Length : Reason::Ok;
}

/** l = HashToRange(rho ‖ SHA256(m), r); false when l = 0. */
bool derive_l(uint64_t l[4], const uint8_t rho[kRhoBytes], const uint8_t *m, size_t mlen) {
  uint8_t rt[kRhoBytes + kSha256Len];
  std::memcpy(rt, rho, kRhoBytes);
  sha256(rt + kRhoBytes, m, mlen);
  bool nonzero = hash_to_range_r(l, rt, sizeof rt);
  wipe(rt, sizeof rt);
  return nonzero;
}

/** theta = g_ID^l of an encryption: through a fixed-base table, or a plain CT pow. */
struct GtPower {
  const GtTable *table = nullptr;
  const blst_fp12 *base = nullptr;
};

const G1Table &generator_table();

/** [l]P into lp and theta = g_ID^l, U on the par:: helper beside the power (through the
 *  table, whose digits are shared around it, or the plain constant-time power). */
void u_and_theta(blst_p1 *lp, blst_fp12 *theta, const uint64_t l[4], const GtPower &pow) {
  auto u = [&] { generator_table().mul(lp, l); };
  if (pow.table) pow.table->pow_with(theta, l, u);
  else par::run2(u, [&] { gt_pow_ct(theta, pow.base, l); });
}

/** encryptWithRhoOps steps 3–13 on validated M and rho; output U (96) ‖ V (32) ‖ W (|M|).
 *  `pow` gives theta = g_ID^l. */
Result encrypt_core(const Bytes &m, const Bytes &rho, const GtPower &pow) {
  uint64_t l[4];
  WipeOnExit<uint64_t[4]> wipe_l(l);
  if (!derive_l(l, rho.data(), m.data(), m.size())) return fail(Reason::IbeCheck, "l = 0; choose another rho");

  Result res;
  res.out.resize(kG1Uncompressed + kRhoBytes + m.size());
  uint8_t *U = res.out.data(), *V = U + kG1Uncompressed, *W = V + kRhoBytes;

  blst_p1 lp;
  blst_fp12 theta;
  uint8_t enc[kGtBytes];
  u_and_theta(&lp, &theta, l, pow);
  encode_g1(U, &lp, false);
  wipe(&lp, sizeof lp);
  encode_fp12(enc, &theta);
  wipe(&theta, sizeof theta);
  sha256(V, enc, sizeof enc);  // w = SHA256(Canonical(theta))
  wipe(enc, sizeof enc);
  for (size_t i = 0; i < kRhoBytes; i++) V[i] ^= rho[i];

  hash_bytes_xor(W, m.data(), m.size(), rho.data(), kRhoBytes);
  return res;
}

const G1Table &generator_table() {
  // Built on first use, once for the process (C++11 guarantees thread-safe initialisation of a
  // function-local static; a throwing constructor leaves it to be retried). Never freed: it
  // holds only multiples of the public generator.
  static const G1Table *table = new G1Table(blst_p1_affine_generator());
  return *table;
}

/**
 * P_pub decoded and validated (decompression, subgroup check: about 80 µs), remembered for the
 * last encoding seen. A process serves one KMS parameter set (rarely a few), so every new
 * peer's recipient op would otherwise repeat the same work. Keyed by the exact octets, and
 * validation is a function of them alone, so a hit gives what decode_g1 would; a rejected
 * encoding is never remembered. Public data: no wiping, no constant-time concern.
 */
class PpubMemo {
 public:
  Reason decode(blst_p1_affine *out, const uint8_t *in, size_t len) {
    {
      std::lock_guard<std::mutex> g(m_);
      if (have_ && len == len_ && std::memcmp(in, key_, len) == 0) {
        *out = point_;
        return Reason::Ok;
      }
    }
    Reason r = decode_g1(out, in, len);
    if (r == Reason::Ok && len <= sizeof key_) {
      std::lock_guard<std::mutex> g(m_);
      std::memcpy(key_, in, len);
      len_ = len;
      point_ = *out;
      have_ = true;
    }
    return r;
  }

 private:
  std::mutex m_;
  bool have_ = false;
  size_t len_ = 0;
  uint8_t key_[kG1Uncompressed];
  blst_p1_affine point_;
};

PpubMemo &ppub_memo() {
  static PpubMemo *memo = new PpubMemo();  // never destroyed: worker threads may outlive statics
  return *memo;
}

}  // namespace

/**
 * e(U, S_ID) for U decoded up to the on-curve check: the subgroup check runs on the par::
 * helper beside the tail of the Miller loop (miller.h), exactly as op PreparedPairing does.
 * Returns the reason decode_g1 would have given (NotInSubgroup / Identity) or Ok.
 */
Reason prepared_pairing(blst_fp12 *out, const blst_fp6 *lines, const blst_p1_affine *U) {
  if (blst_p1_affine_is_inf(U)) return blst_p1_affine_in_g1(U) ? Reason::Identity : Reason::NotInSubgroup;
  if (!miller_lines_checked(out, lines, U)) return Reason::NotInSubgroup;
  blst_final_exp(out, out);
  return Reason::Ok;
}

void generator_mul(blst_p1 *out, const uint64_t k[4]) { generator_table().mul(out, k); }

namespace {

Result decrypt_core(const HandleData &key, const Arg &au, const Arg &av, const Arg &aw) {
  if (!key.lines) return fail(Reason::Type, "not a prepared G2 point");
  blst_p1_affine U;
  Reason r = exact_arg(au, kG1Uncompressed);
  if (r == Reason::Ok) r = decode_g1_on_curve(&U, au.data.data(), au.data.size());
  if (r != Reason::Ok) return fail(r, "U rejected");
  if ((r = exact_arg(av, kRhoBytes)) != Reason::Ok) return fail(r, "V must be 32 octets");
  if ((r = message_arg(aw)) != Reason::Ok) return fail(r, "W must be 1..2^20 octets");
  const Bytes &V = av.data, &W = aw.data;

  // rho = SHA256(Canonical(e(U, S_ID))) XOR V
  blst_fp12 theta;
  uint8_t enc[kGtBytes], rho[kRhoBytes];
  WipeOnExit<uint8_t[kRhoBytes]> wipe_rho(rho);
  if ((r = prepared_pairing(&theta, key.lines->data(), &U)) != Reason::Ok) return fail(r, "U rejected");
  encode_fp12(enc, &theta);
  wipe(&theta, sizeof theta);
  sha256(rho, enc, sizeof enc);
  wipe(enc, sizeof enc);
  for (size_t i = 0; i < kRhoBytes; i++) rho[i] ^= V[i];

  // M = W XOR HashBytes(|W|, rho); l = HashToRange(rho ‖ SHA256(M), r); accept iff l ≠ 0 and [l]P = U
  Result res;
  res.out.resize(W.size());
  hash_bytes_xor(res.out.data(), W.data(), W.size(), rho, kRhoBytes);
  uint64_t l[4];
  WipeOnExit<uint64_t[4]> wipe_l(l);
  bool ok = derive_l(l, rho, res.out.data(), res.out.size());
  if (ok) {
    blst_p1 lp, up;
    generator_mul(&lp, l);
    blst_p1_from_affine(&up, &U);
    ok = blst_p1_is_equal(&lp, &up);
    wipe(&lp, sizeof lp);
  }
  if (!ok) return fail(Reason::IbeCheck, "ciphertext failed the Fujisaki-Okamoto check");  // res.out wiped on free
  return res;
}

Result recipient_core(const Arg &ap, const Arg &aid, const Arg &adst) {
  blst_p1_affine ppub;
  Reason r = ap.typed ? ppub_memo().decode(&ppub, ap.data.data(), ap.data.size()) : Reason::Type;
  if (r != Reason::Ok) return fail(r, "P_pub rejected");
  if ((r = message_arg(aid)) != Reason::Ok) return fail(r, "identity must be 1..2^20 octets");
  if (!adst.typed) return fail(Reason::Type, "DST must be a Uint8Array");
  if (adst.data.empty() || adst.data.size() > 255) return fail(Reason::Length, "DST must be 1..255 octets");
  // Q_ID = H(id): in G2 by construction (hash_to_curve clears the cofactor), so no decoding
  // or subgroup check of it; only P_pub came from outside.
  blst_p2 q;
  blst_p2_affine qa;
  blst_hash_to_g2(&q, aid.data.data(), aid.data.size(), adst.data.data(), adst.data.size(), nullptr, 0);
  blst_p2_to_affine(&qa, &q);
  blst_fp12 g;
  blst_miller_loop(&g, &qa, &ppub);
  blst_final_exp(&g, &g);
  Result res;
  res.out.resize(kG2Compressed + kGtBytes);
  encode_g2(res.out.data(), &q, true);
  encode_fp12(res.out.data() + kG2Compressed, &g);
  return res;
}

}  // namespace

Result bf_decrypt(const HandleData &key, const std::vector<Arg> &args) { return decrypt_core(key, args[0], args[1], args[2]); }

Result bf_encrypt(const HandleData &table, const std::vector<Arg> &args) {
  if (!table.gt) return fail(Reason::Type, "not a GT table");
  Reason r;
  if ((r = message_arg(args[0])) != Reason::Ok) return fail(r, "plaintext must be 1..2^20 octets");
  if ((r = exact_arg(args[1], kRhoBytes)) != Reason::Ok) return fail(r, "rho must be 32 octets");
  GtPower pow;
  pow.table = table.gt.get();
  return encrypt_core(args[0].data, args[1].data, pow);
}

Result bf_encrypt_plain(const std::vector<Arg> &args) {
  blst_fp12 g;
  Reason r = args[0].typed ? decode_gt_cyclotomic(&g, args[0].data.data(), args[0].data.size()) : Reason::Type;
  if (r != Reason::Ok) return fail(r, "GT value rejected");
  if ((r = message_arg(args[1])) != Reason::Ok) return fail(r, "plaintext must be 1..2^20 octets");
  if ((r = exact_arg(args[2], kRhoBytes)) != Reason::Ok) return fail(r, "rho must be 32 octets");
  GtPower pow;
  pow.base = &g;
  return encrypt_core(args[1].data, args[2].data, pow);
}

Result bf_recipient(const std::vector<Arg> &args) { return recipient_core(args[0], args[1], args[2]); }

Result bf_decrypt_recipient(const HandleData &key, const std::vector<Arg> &args) {
  // The caller's thread decrypts; the par:: helper computes the recipient entry beside it (the
  // decryption's own parallel section then runs inline). If the helper is busy or late, the
  // caller runs the recipient afterwards: never worse than the two ops one after the other.
  Result dec, rec;
  par::run2([&] { rec = recipient_core(args[3], args[4], args[5]); }, [&] { dec = decrypt_core(key, args[0], args[1], args[2]); });
  if (dec.reason != Reason::Ok) return dec;  // the op fails only when the decryption does
  // The recipient's own verdict travels in the first octet (its Reason code; 0 = Ok, and then
  // Q_ID ‖ g_ID follow, else zeros), so a bad P_pub or id is reported as BfRecipient would
  // report it and never hides the plaintext. dec.out is wiped when dec is freed.
  constexpr size_t kEntry = kG2Compressed + kGtBytes;
  Result res;
  res.out.assign(1 + kEntry + dec.out.size(), 0);
  res.out[0] = (uint8_t)rec.reason;
  if (rec.reason == Reason::Ok) std::memcpy(res.out.data() + 1, rec.out.data(), kEntry);
  std::memcpy(res.out.data() + 1 + kEntry, dec.out.data(), dec.out.size());
  return res;
}

namespace {

uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

}  // namespace

Result bf_decrypt_encrypt(const HandleData &key, const HandleData &table, const std::vector<Arg> &args) {
  // The reply's arguments first (the caller's own values: a bad one is a bug, reported before
  // any work), then the decryption exactly as BfDecrypt.
  if (!table.gt) return fail(Reason::Type, "not a GT table");
  Reason r;
  if ((r = exact_arg(args[3], kRhoBytes)) != Reason::Ok) return fail(r, "rho must be 32 octets");
  if ((r = message_arg(args[4])) != Reason::Ok) return fail(r, "reply must be 1..2^20 octets");
  if ((r = exact_arg(args[5], 12)) != Reason::Ok) return fail(r, "splice must be 12 octets");
  const Bytes &reply = args[4].data;
  const uint8_t *sp = args[5].data.data();
  const size_t from = be32(sp), to = be32(sp + 4), n = be32(sp + 8);
  if (n == 0 || to > reply.size() || n > reply.size() - to) return fail(Reason::Length, "splice outside the reply");

  Result dec = decrypt_core(key, args[0], args[1], args[2]);
  if (dec.reason != Reason::Ok) return dec;
  const Bytes &M = dec.out;
  if (from > M.size() || n > M.size() - from) return dec;  // not the shape the caller expects

  Bytes m2(reply);
  std::memcpy(m2.data() + to, M.data() + from, n);
  GtPower pow;
  pow.table = table.gt.get();
  Result enc = encrypt_core(m2, args[3].data, pow);  // m2 is wiped when freed
  if (enc.reason != Reason::Ok) return dec;          // l' = 0: the caller encrypts with another rho
  Result res;
  res.out.reserve(M.size() + enc.out.size());
  res.out.insert(res.out.end(), M.begin(), M.end());
  res.out.insert(res.out.end(), enc.out.begin(), enc.out.end());
  return res;
}

}  // namespace ibaked
