// PRF-HMAC-SHA-256 for the MIKEY layer (mikey_prf.h): HMAC-SHA-256 (RFC 2104) from the key's
// inner and outer pad states, on sha256.h's streaming context run with sha256_blocks.h's
// compression (OpenSSL's where it is found). Every buffer holding key material is wiped before
// returning (the contexts wipe themselves).
#include "mikey_prf.h"

#include <algorithm>
#include <cstring>

#include "ct.h"
#include "sha256.h"
#include "sha256_blocks.h"

namespace ibaked {
namespace {

constexpr size_t kBlock = 64;
/** The PRF cuts its input key into chunks of 256 bits (RFC 3830 §4.1.2). */
constexpr size_t kChunk = 32;

/** The inner and outer pad states of an HMAC key of at most one block. */
struct HmacKey {
  uint32_t inner[8];
  uint32_t outer[8];

  HmacKey(const uint8_t *key, size_t len) {
    uint8_t pad[kBlock];
    for (size_t i = 0; i < kBlock; i++) pad[i] = (uint8_t)((i < len ? key[i] : 0) ^ 0x36);
    Sha256 s(sha256_blocks);
    s.update(pad, kBlock);
    s.chaining(inner);
    for (size_t i = 0; i < kBlock; i++) pad[i] ^= 0x36 ^ 0x5c;
    s.reset();
    s.update(pad, kBlock);
    s.chaining(outer);
    wipe(pad, sizeof pad);
  }

  /** HMAC(key, a ‖ b); `out` may be `a` (read in full before it is written). */
  void mac(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[kSha256Len]) const {
    uint8_t digest[kSha256Len];
    Sha256 s(sha256_blocks);
    s.resume(inner, kBlock);
    s.update(a, a_len);
    s.update(b, b_len);
    s.final(digest);
    s.resume(outer, kBlock);
    s.update(digest, kSha256Len);
    s.final(out);
    wipe(digest, sizeof digest);
  }

  ~HmacKey() {
    wipe(inner, sizeof inner);
    wipe(outer, sizeof outer);
  }
};

}  // namespace

void mikey_prf_sha256(const uint8_t *inkey, size_t inkey_len, const uint8_t *label, size_t label_len, uint8_t *out, size_t out_len) {
  std::memset(out, 0, out_len);
  uint8_t a[kSha256Len];
  uint8_t block[kSha256Len];
  for (size_t off = 0; off < inkey_len; off += kChunk) {
    const HmacKey key(inkey + off, std::min(kChunk, inkey_len - off));
    for (size_t o = 0; o < out_len; o += kSha256Len) {
      if (o == 0) key.mac(label, label_len, nullptr, 0, a);  // A_1 = HMAC(s, label)
      else key.mac(a, kSha256Len, nullptr, 0, a);              // A_i = HMAC(s, A_{i-1})
      key.mac(a, kSha256Len, label, label_len, block);         // block_i = HMAC(s, A_i ‖ label)
      const size_t n = std::min(kSha256Len, out_len - o);
      for (size_t j = 0; j < n; j++) out[o + j] ^= block[j];
    }
  }
  wipe(a, sizeof a);
  wipe(block, sizeof block);
}

}  // namespace ibaked
