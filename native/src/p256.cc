// P-256 [k]Q through the process's OpenSSL (p256.h). Only opaque pointers cross this file: the
// prototypes below are OpenSSL 1.1/3.x's public API, declared here so the addon needs neither
// OpenSSL's headers nor a link against it.
#include "p256.h"

#include <dlfcn.h>

#include <cstring>
#include <mutex>

#include "ct.h"

namespace ibaked {
namespace {

struct Ossl {
  void *(*group_new_by_curve_name)(int);
  void *(*point_new)(const void *);
  void (*point_clear_free)(void *);
  int (*oct2point)(const void *, void *, const unsigned char *, size_t, void *);
  int (*point_mul)(const void *, void *, const void *, const void *, const void *, void *);
  size_t (*point2oct)(const void *, const void *, int, unsigned char *, size_t, void *);
  int (*is_at_infinity)(const void *, const void *);
  void *(*bn_bin2bn)(const unsigned char *, int, void *);
  void (*bn_clear_free)(void *);
  void (*bn_set_flags)(void *, int);
  void *(*ctx_new)();
  void (*ctx_free)(void *);
  void (*err_clear)();
  const void *group;  // P-256, built once, then only read (EC_POINT_mul takes it const)
};

constexpr int kNidP256 = 415;             // NID_X9_62_prime256v1
constexpr int kUncompressed = 4;          // POINT_CONVERSION_UNCOMPRESSED
constexpr int kBnFlagConstTime = 0x04;    // BN_FLG_CONSTTIME

// n, the order of P-256, big-endian.
constexpr uint8_t kOrder[kP256Scalar] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

template <class F>
bool find(F *fn, const char *name) {
  *fn = reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
  return *fn != nullptr;
}

const Ossl *load() {
  static Ossl o;
  static bool ok = false;
  static std::once_flag once;
  std::call_once(once, [] {
    bool all = find(&o.group_new_by_curve_name, "EC_GROUP_new_by_curve_name") && find(&o.point_new, "EC_POINT_new") &&
               find(&o.point_clear_free, "EC_POINT_clear_free") && find(&o.oct2point, "EC_POINT_oct2point") &&
               find(&o.point_mul, "EC_POINT_mul") && find(&o.point2oct, "EC_POINT_point2oct") &&
               find(&o.is_at_infinity, "EC_POINT_is_at_infinity") && find(&o.bn_bin2bn, "BN_bin2bn") &&
               find(&o.bn_clear_free, "BN_clear_free") && find(&o.bn_set_flags, "BN_set_flags") &&
               find(&o.ctx_new, "BN_CTX_new") && find(&o.ctx_free, "BN_CTX_free") && find(&o.err_clear, "ERR_clear_error");
    if (all) o.group = o.group_new_by_curve_name(kNidP256);
    ok = all && o.group != nullptr;
  });
  return ok ? &o : nullptr;
}

/** All-ones when 1 <= k < n (big-endian, 32 octets), in constant time. */
uint64_t scalar_ok_mask(const uint8_t k[kP256Scalar]) {
  // k < n: a borrow out of k - n; k != 0: some octet non-zero.
  uint64_t borrow = 0, any = 0;
  for (int i = kP256Scalar - 1; i >= 0; i--) {
    uint64_t d = (uint64_t)k[i] - kOrder[i] - borrow;
    borrow = (d >> 63) & 1;
    any |= k[i];
  }
  return launder(ct_eq_mask(borrow, 1) & ~ct_eq_mask(any, 0));
}

}  // namespace

bool p256_available() { return load() != nullptr; }

Reason p256_mul(uint8_t out[kP256Point], const uint8_t k[kP256Scalar], const uint8_t *q, size_t qlen) {
  const Ossl *o = load();
  if (!o) return Reason::Unavailable;
  if (qlen != kP256Point) return Reason::Length;
  if (q[0] != 0x04) return Reason::NonCanonical;
  if (!scalar_ok_mask(k)) return Reason::ScalarRange;  // a verdict on the input, not a secret-dependent path
  Reason r = Reason::NotOnCurve;
  void *ctx = o->ctx_new();
  void *Q = o->point_new(o->group);
  void *R = o->point_new(o->group);
  void *bn = o->bn_bin2bn(k, (int)kP256Scalar, nullptr);
  if (ctx && Q && R && bn) {
    o->bn_set_flags(bn, kBnFlagConstTime);
    if (o->oct2point(o->group, Q, q, qlen, ctx) == 1) {
      // Q on the curve (oct2point checks it; P-256's cofactor is 1, so it is in the group),
      // 1 <= k < n: [k]Q is never the point at infinity; checked all the same.
      if (o->point_mul(o->group, R, nullptr, Q, bn, ctx) == 1 && !o->is_at_infinity(o->group, R) &&
          o->point2oct(o->group, R, kUncompressed, out, kP256Point, ctx) == kP256Point) {
        r = Reason::Ok;
      } else {
        r = Reason::Identity;
      }
    }
  } else {
    r = Reason::Unavailable;  // out of memory inside OpenSSL
  }
  if (r != Reason::Ok) {
    wipe(out, kP256Point);
    o->err_clear();  // leave no error on this thread's OpenSSL queue for node:crypto to find
  }
  if (bn) o->bn_clear_free(bn);
  if (R) o->point_clear_free(R);
  if (Q) o->point_clear_free(Q);
  if (ctx) o->ctx_free(ctx);
  return r;
}

}  // namespace ibaked
