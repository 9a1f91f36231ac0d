// RFC 5091 HashToRange / HashBytes over SHA-256; see ibe_hash.h.
#include "ibe_hash.h"

#include "blst.h"
#include "ct.h"
#include "sha256.h"

namespace ibaked {

bool hash_to_range_r(uint64_t l[4], const uint8_t *s, size_t slen) {
  uint8_t v[2 * kSha256Len];
  const uint8_t zero[kSha256Len] = {0};
  sha256(v, zero, kSha256Len, s, slen);                     // h1 = SHA256(h0 ‖ s)
  sha256(v + kSha256Len, v, kSha256Len, s, slen);          // h2 = SHA256(h1 ‖ s)
  blst_scalar sc;
  bool nonzero = blst_scalar_from_be_bytes(&sc, v, sizeof v);  // (h1 ‖ h2) mod r, little-endian
  for (size_t i = 0; i < 4; i++) {
    uint64_t w = 0;
    for (size_t j = 0; j < 8; j++) w |= (uint64_t)sc.b[8 * i + j] << (8 * j);
    l[i] = w;
  }
  wipe(v, sizeof v);
  wipe(&sc, sizeof sc);
  return nonzero;
}

void hash_bytes_xor(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *p, size_t plen) {
  uint8_t K[kSha256Len], h[kSha256Len] = {0}, r[kSha256Len];
  sha256(K, p, plen);
  for (size_t off = 0; off < len; off += kSha256Len) {
    sha256(h, h, kSha256Len);           // h_i = SHA256(h_{i-1})
    sha256(r, h, kSha256Len, K, kSha256Len);  // r_i = SHA256(h_i ‖ K)
    size_t n = len - off < kSha256Len ? len - off : kSha256Len;
    for (size_t i = 0; i < n; i++) out[off + i] = in[off + i] ^ r[i];
  }
  wipe(K, sizeof K);
  wipe(h, sizeof h);
  wipe(r, sizeof r);
}

}  // namespace ibaked
