// SHA-256 compression and padding; see sha256.h. Straight FIPS 180-4 §6.2 with the message
// schedule computed in a 16-word ring, big-endian word loads, and the padding of §5.1.1.
#include "sha256.h"

#include <cstring>

#include "ct.h"

namespace ibaked {
namespace {

const uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

const uint32_t kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

inline uint32_t load_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

inline void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/** Processes `blocks` consecutive 64-octet blocks. */
void compress(uint32_t h[8], const uint8_t *in, size_t blocks) {
  uint32_t w[16];
  while (blocks--) {
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (unsigned i = 0; i < 64; i++) {
      uint32_t wi;
      if (i < 16) {
        wi = w[i] = load_be32(in + 4 * i);
      } else {
        uint32_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
        uint32_t s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3);
        uint32_t s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10);
        wi = w[i & 15] = w[i & 15] + s0 + w[(i - 7) & 15] + s1;
      }
      uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      uint32_t ch = (e & f) ^ (~e & g);
      uint32_t t1 = k + S1 + ch + kK[i] + wi;
      uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
      uint32_t t2 = S0 + maj;
      k = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
    in += 64;
  }
  wipe(w, sizeof w);
}

}  // namespace

Sha256::~Sha256() {
  wipe(h_, sizeof h_);
  wipe(buf_, sizeof buf_);
}

void Sha256::reset() {
  std::memcpy(h_, kInit, sizeof h_);
  fill_ = 0;
  total_ = 0;
}

void Sha256::resume(const uint32_t h[8], uint64_t total) {
  std::memcpy(h_, h, sizeof h_);
  fill_ = 0;
  total_ = total;
}

void Sha256::chaining(uint32_t h[8]) const { std::memcpy(h, h_, sizeof h_); }

void Sha256::update(const uint8_t *data, size_t len) {
  if (!len) return;
  total_ += len;
  if (fill_) {
    size_t take = 64 - fill_ < len ? 64 - fill_ : len;
    std::memcpy(buf_ + fill_, data, take);
    fill_ += take;
    data += take;
    len -= take;
    if (fill_ < 64) return;
    compress_(h_, buf_, 1);
    fill_ = 0;
  }
  if (len >= 64) {
    compress_(h_, data, len / 64);
    data += len & ~(size_t)63;
    len &= 63;
  }
  if (len) {
    std::memcpy(buf_, data, len);
    fill_ = len;
  }
}

void Sha256::final(uint8_t out[kSha256Len]) {
  uint64_t bits = total_ * 8;
  buf_[fill_++] = 0x80;
  if (fill_ > 56) {
    std::memset(buf_ + fill_, 0, 64 - fill_);
    compress_(h_, buf_, 1);
    fill_ = 0;
  }
  std::memset(buf_ + fill_, 0, 56 - fill_);
  for (unsigned i = 0; i < 8; i++) buf_[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
  compress_(h_, buf_, 1);
  for (unsigned i = 0; i < 8; i++) store_be32(out + 4 * i, h_[i]);
  wipe(h_, sizeof h_);
  wipe(buf_, sizeof buf_);
  fill_ = 0;
  total_ = 0;
}

void sha256_compress(uint32_t h[8], const uint8_t *in, size_t blocks) { compress(h, in, blocks); }

void sha256(uint8_t out[kSha256Len], const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  Sha256 c;
  c.update(a, alen);
  if (blen) c.update(b, blen);
  c.final(out);
}

}  // namespace ibaked
