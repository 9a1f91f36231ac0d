// Boundary codecs; see codec.h. Byte-level checks are done here (not left to blst) so that
// reasons match the other backends exactly; blst then does the curve and subgroup checks.
#include "codec.h"

#include <cstring>

#include "ct.h"

namespace ibaked {
namespace {

// p, big-endian.
const uint8_t kP[kFpBytes] = {
    0x1a, 0x01, 0x11, 0xea, 0x39, 0x7f, 0xe6, 0x9a, 0x4b, 0x1b, 0xa7, 0xb6, 0x43, 0x4b, 0xac, 0xd7,
    0x64, 0x77, 0x4b, 0x84, 0xf3, 0x85, 0x12, 0xbf, 0x67, 0x30, 0xd2, 0xa0, 0xf6, 0xb0, 0xf6, 0x24,
    0x1e, 0xab, 0xff, 0xfe, 0xb1, 0x53, 0xff, 0xff, 0xb9, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xaa, 0xab};

// r as little-endian limbs.
const uint64_t kR[4] = {0xffffffff00000001ULL, 0x53bda402fffe5bfeULL, 0x3339d80809a1d805ULL,
                        0x73eda753299d7d48ULL};

/** Big-endian compare of a public 48-octet value with p (public data: no CT needed). */
bool below_p(const uint8_t *x, uint8_t first_mask = 0xff) {
  uint8_t b0 = x[0] & first_mask;
  if (b0 != kP[0]) return b0 < kP[0];
  for (size_t i = 1; i < kFpBytes; i++)
    if (x[i] != kP[i]) return x[i] < kP[i];
  return false;
}

enum : uint8_t { kFlagC = 0x80, kFlagI = 0x40, kFlagS = 0x20 };

/**
 * Flag bits and infinity form for a point of `len` octets whose compressed length is clen,
 * then every coordinate < p. Returns Ok for a canonical finite encoding.
 */
Reason check_point_bytes(const uint8_t *in, size_t len, size_t clen) {
  uint8_t flags = in[0] & 0xe0;
  bool compressed = flags & kFlagC, infinity = flags & kFlagI, sign = flags & kFlagS;
  if (compressed != (len == clen)) return Reason::NonCanonical;
  if (infinity) {
    if (sign || (in[0] & 0x1f)) return Reason::NonCanonical;
    for (size_t i = 1; i < len; i++)
      if (in[i]) return Reason::NonCanonical;
    return Reason::Identity;
  }
  if (!compressed && sign) return Reason::NonCanonical;
  for (size_t off = 0; off < len; off += kFpBytes)
    if (!below_p(in + off, off == 0 ? 0x1f : 0xff)) return Reason::NonCanonical;
  return Reason::Ok;
}

Reason map_blst(BLST_ERROR e) {
  switch (e) {
    case BLST_SUCCESS: return Reason::Ok;
    case BLST_POINT_NOT_ON_CURVE: return Reason::NotOnCurve;
    case BLST_POINT_NOT_IN_GROUP: return Reason::NotInSubgroup;
    default: return Reason::NonCanonical;
  }
}

}  // namespace

Reason decode_g1_on_curve(blst_p1_affine *out, const uint8_t *in, size_t len) {
  if (len != kG1Compressed && len != kG1Uncompressed) return Reason::Length;
  Reason r = check_point_bytes(in, len, kG1Compressed);
  if (r != Reason::Ok) return r;
  r = map_blst(len == kG1Compressed ? blst_p1_uncompress(out, in) : blst_p1_deserialize(out, in));
  if (r != Reason::Ok) return r;
  if (!blst_p1_affine_on_curve(out)) return Reason::NotOnCurve;
  return Reason::Ok;
}

Reason decode_g1(blst_p1_affine *out, const uint8_t *in, size_t len) {
  Reason r = decode_g1_on_curve(out, in, len);
  if (r != Reason::Ok) return r;
  if (!blst_p1_affine_in_g1(out)) return Reason::NotInSubgroup;
  if (blst_p1_affine_is_inf(out)) return Reason::Identity;
  return Reason::Ok;
}

Reason decode_g2(blst_p2_affine *out, const uint8_t *in, size_t len) {
  if (len != kG2Compressed && len != kG2Uncompressed) return Reason::Length;
  Reason r = check_point_bytes(in, len, kG2Compressed);
  if (r != Reason::Ok) return r;
  r = map_blst(len == kG2Compressed ? blst_p2_uncompress(out, in) : blst_p2_deserialize(out, in));
  if (r != Reason::Ok) return r;
  if (!blst_p2_affine_on_curve(out)) return Reason::NotOnCurve;
  if (!blst_p2_affine_in_g2(out)) return Reason::NotInSubgroup;
  if (blst_p2_affine_is_inf(out)) return Reason::Identity;
  return Reason::Ok;
}

void encode_g1(uint8_t *out, const blst_p1 *p, bool compressed) {
  if (compressed) blst_p1_compress(out, p);
  else blst_p1_serialize(out, p);
}

void encode_g2(uint8_t *out, const blst_p2 *p, bool compressed) {
  if (compressed) blst_p2_compress(out, p);
  else blst_p2_serialize(out, p);
}

// blst_fp12 is fp6[2] of fp2[3] of fp[2]: memory order is exactly the contract's tower order.
static_assert(sizeof(blst_fp12) == 12 * sizeof(blst_fp), "unexpected blst_fp12 layout");

Reason decode_fp12(blst_fp12 *out, const uint8_t *in, size_t len, bool allow_zero) {
  if (len != kGtBytes) return Reason::Length;
  bool zero = true;
  for (size_t i = 0; i < 12; i++) {
    if (!below_p(in + i * kFpBytes)) return Reason::NonCanonical;
  }
  for (size_t i = 0; i < kGtBytes; i++) zero &= in[i] == 0;
  if (zero && !allow_zero) return Reason::NotInSubgroup;
  blst_fp *c = reinterpret_cast<blst_fp *>(out);
  for (size_t i = 0; i < 12; i++) blst_fp_from_bendian(&c[i], in + i * kFpBytes);
  return Reason::Ok;
}

bool fp12_is_cyclotomic(const blst_fp12 *f) {
  // f is in the cyclotomic subgroup iff f^(p^4) * f == f^(p^2)  (Phi_12(p) = p^4 - p^2 + 1).
  blst_fp12 a, b;
  blst_fp12_frobenius_map(&a, f, 2);
  blst_fp12_frobenius_map(&b, &a, 2);
  blst_fp12_mul(&b, &b, f);
  return blst_fp12_is_equal(&a, &b);
}

Reason decode_gt_cyclotomic(blst_fp12 *out, const uint8_t *in, size_t len) {
  Reason r = decode_fp12(out, in, len, false);
  if (r != Reason::Ok) return r;
  if (!fp12_is_cyclotomic(out)) return Reason::NotInSubgroup;
  return Reason::Ok;
}

Reason decode_gt_full(blst_fp12 *out, const uint8_t *in, size_t len) {
  Reason r = decode_gt_cyclotomic(out, in, len);
  if (r != Reason::Ok) return r;
  if (!blst_fp12_in_group(out)) return Reason::NotInSubgroup;
  if (blst_fp12_is_one(out)) return Reason::Identity;
  return Reason::Ok;
}

void encode_fp12(uint8_t out[kGtBytes], const blst_fp12 *f) {
  const blst_fp *c = reinterpret_cast<const blst_fp *>(f);
  for (size_t i = 0; i < 12; i++) blst_bendian_from_fp(out + i * kFpBytes, &c[i]);
}

Reason decode_scalar(uint64_t out[4], const uint8_t *in, size_t len) {
  if (len != kScalarBytes) return Reason::Length;
  for (size_t i = 0; i < 4; i++) {
    uint64_t v = 0;
    for (size_t j = 0; j < 8; j++) v = (v << 8) | in[(3 - i) * 8 + j];
    out[i] = v;
  }
  // k - r borrows iff k < r; k | ... == 0 iff k == 0. Both without secret branches.
  unsigned __int128 borrow = 0;
  uint64_t any = 0;
  for (size_t i = 0; i < 4; i++) {
    unsigned __int128 d = (unsigned __int128)out[i] - kR[i] - (uint64_t)borrow;
    borrow = (d >> 64) & 1;
    any |= out[i];
  }
  uint64_t below_r = launder((uint64_t)borrow);
  uint64_t nonzero = launder((any | (0 - any)) >> 63);
  if ((below_r & nonzero) != 1) {
    wipe(out, 4 * sizeof(uint64_t));
    return Reason::ScalarRange;
  }
  return Reason::Ok;
}

}  // namespace ibaked
