// SHA-256 (FIPS 180-4) for the fused Boneh–Franklin core (bf_core.h): a streaming context and a
// one-shot helper. Written here rather than taken from blst or OpenSSL so the addon's IBE hashing
// has no dependency beyond blst's field arithmetic; the tests pin it to node:crypto's SHA-256
// through the IBE ciphertext bytes. Inputs are often secret (rho, keystreams): the code has no
// data-dependent branches or table lookups, and the context wipes itself when finished.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ibaked {

constexpr size_t kSha256Len = 32;

/** `blocks` compressions of consecutive 64-octet blocks at `in` into the chaining value `h`. */
void sha256_compress(uint32_t h[8], const uint8_t *in, size_t blocks);

/** A compression function: this file's, or sha256_blocks.h's (OpenSSL's where it is found). */
using Sha256Compress = void (*)(uint32_t h[8], const uint8_t *in, size_t blocks);

class Sha256 {
 public:
  explicit Sha256(Sha256Compress compress = sha256_compress) : compress_(compress) { reset(); }
  ~Sha256();
  Sha256(const Sha256 &) = delete;
  Sha256 &operator=(const Sha256 &) = delete;

  void reset();
  /** Continues from chaining value `h`, which has already hashed `total` octets (whole blocks):
   *  an HMAC key's inner or outer pad state (mikey_prf.cc). */
  void resume(const uint32_t h[8], uint64_t total);
  void update(const uint8_t *data, size_t len);
  /** The chaining value after whole blocks (nothing buffered), for resume(). */
  void chaining(uint32_t h[8]) const;
  /** Writes the digest and wipes the state (call reset() or resume() before reusing the context). */
  void final(uint8_t out[kSha256Len]);

 private:
  Sha256Compress compress_;
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t fill_;
  uint64_t total_;  // octets hashed so far
};

/** out = SHA-256(a ‖ b); b may be null when blen is 0. */
void sha256(uint8_t out[kSha256Len], const uint8_t *a, size_t alen, const uint8_t *b = nullptr, size_t blen = 0);

}  // namespace ibaked
