// PRF-HMAC-SHA-256 for the MIKEY layer (mikey_prf.h): HMAC-SHA-256 (RFC 2104) from the key's
// inner and outer pad states, each message streamed through 64-octet blocks and padded
// (FIPS 180-4 §5.1.1). Every buffer holding key material is wiped before returning.
#include "mikey_prf.h"

#include <algorithm>
#include <cstring>

#include "ct.h"
#include "sha256_blocks.h"

namespace ibaked {
namespace {

constexpr uint32_t kIv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
constexpr size_t kBlock = 64;
constexpr size_t kDigest = 32;

void put_digest(const uint32_t h[8], uint8_t out[kDigest]) {
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(h[i] >> 8);
    out[4 * i + 3] = (uint8_t)h[i];
  }
}

/** A SHA-256 run continued from a chaining value, over input fed in pieces. */
struct Stream {
  uint32_t h[8];
  uint8_t blk[kBlock];
  size_t fill = 0;
  uint64_t total = 0;  // octets hashed, including what the chaining value already covers

  void put(const uint8_t *p, size_t n) {
    total += n;
    while (n > 0) {
      size_t t = std::min(kBlock - fill, n);
      std::memcpy(blk + fill, p, t);
      fill += t;
      p += t;
      n -= t;
      if (fill == kBlock) {
        sha256_blocks(h, blk, 1);
        fill = 0;
      }
    }
  }

  void finish(uint8_t out[kDigest]) {
    uint64_t bits = total * 8;
    blk[fill++] = 0x80;
    if (fill > kBlock - 8) {
      std::memset(blk + fill, 0, kBlock - fill);
      sha256_blocks(h, blk, 1);
      fill = 0;
    }
    std::memset(blk + fill, 0, kBlock - 8 - fill);
    for (int i = 0; i < 8; i++) blk[kBlock - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha256_blocks(h, blk, 1);
    put_digest(h, out);
  }

  ~Stream() {
    wipe(h, sizeof h);
    wipe(blk, sizeof blk);
  }
};

/** The inner and outer pad states of an HMAC key of at most one block. */
struct HmacKey {
  uint32_t inner[8];
  uint32_t outer[8];

  HmacKey(const uint8_t *key, size_t len) {
    uint8_t pad[kBlock];
    for (size_t i = 0; i < kBlock; i++) pad[i] = (uint8_t)((i < len ? key[i] : 0) ^ 0x36);
    std::memcpy(inner, kIv, sizeof inner);
    sha256_blocks(inner, pad, 1);
    for (size_t i = 0; i < kBlock; i++) pad[i] ^= 0x36 ^ 0x5c;
    std::memcpy(outer, kIv, sizeof outer);
    sha256_blocks(outer, pad, 1);
    wipe(pad, sizeof pad);
  }

  /** HMAC(key, a ‖ b); `out` may be `a` (read in full before it is written). */
  void mac(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[kDigest]) const {
    uint8_t digest[kDigest];
    {
      Stream s;
      std::memcpy(s.h, inner, sizeof s.h);
      s.total = kBlock;
      s.put(a, a_len);
      s.put(b, b_len);
      s.finish(digest);
    }
    Stream s;
    std::memcpy(s.h, outer, sizeof s.h);
    s.total = kBlock;
    s.put(digest, kDigest);
    s.finish(out);
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
  uint8_t a[kDigest];
  uint8_t block[kDigest];
  for (size_t off = 0; off < inkey_len; off += kDigest) {
    const HmacKey key(inkey + off, std::min(kDigest, inkey_len - off));
    for (size_t o = 0; o < out_len; o += kDigest) {
      if (o == 0) key.mac(label, label_len, nullptr, 0, a);  // A_1 = HMAC(s, label)
      else key.mac(a, kDigest, nullptr, 0, a);              // A_i = HMAC(s, A_{i-1})
      key.mac(a, kDigest, label, label_len, block);         // block_i = HMAC(s, A_i ‖ label)
      const size_t n = std::min(kDigest, out_len - o);
      for (size_t j = 0; j < n; j++) out[o + j] ^= block[j];
    }
  }
  wipe(a, sizeof a);
  wipe(block, sizeof block);
}

}  // namespace ibaked
