// The MIKEY PRF of our profile, PRF-HMAC-SHA-256 (RFC 6043 §6.1 over RFC 3830 §4.1.2), in one
// native call for the MIKEY layer (src/mikey/prf.ts borrows it like the SHA-256 compressions):
// the input key cut into 32-octet chunks, per chunk the P function
//   A_0 = label, A_i = HMAC(s, A_{i-1}), block_i = HMAC(s, A_i ‖ label),
// the chunks' outputs XORed, truncated to the asked length. A warm call runs it 14 times; in
// JavaScript with a lent compression each cost about 1.9 µs, most of it plumbing. Compressions
// through sha256_blocks.h; the lengths are public, so nothing here branches on a secret.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ibaked {

/** PRF-HMAC-SHA-256(inkey, label) truncated to out_len octets, written to out. inkey_len >= 1. */
void mikey_prf_sha256(const uint8_t *inkey, size_t inkey_len, const uint8_t *label, size_t label_len, uint8_t *out, size_t out_len);

}  // namespace ibaked
