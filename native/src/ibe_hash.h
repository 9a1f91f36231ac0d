// RFC 5091 §4.1.1 HashToRange and §4.2.1 HashBytes with hashfcn = SHA-256, as the bls12381-bf
// suite defines them in src/ibe/hashes.ts (the reference): the fused BF core (bf_core.h) needs
// them next to the pairing so a whole encryption or decryption is one native call.
//   HashToRange(s, r): h0 = 32 zero octets, h_i = SHA256(h_{i-1} ‖ s), v = h1 ‖ h2 read as a
//     512-bit big-endian integer, result v mod r.
//   HashBytes(b, p): K = SHA256(p), h0 = 32 zero octets, h_i = SHA256(h_{i-1}),
//     r_i = SHA256(h_i ‖ K); output r_1 ‖ r_2 ‖ … truncated to b octets.
// Every input here is secret (rho, t); nothing branches on data, temporaries are wiped.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ibaked {

/**
 * l = HashToRange(s, r) as four little-endian 64-bit limbs (l < r). Returns false when l = 0
 * (the caller rejects; l is then all-zero). The reduction mod r is blst's constant-time
 * blst_scalar_from_be_bytes, which reduces inputs of any length.
 */
bool hash_to_range_r(uint64_t l[4], const uint8_t *s, size_t slen);

/** out[i] = in[i] XOR HashBytes(len, p)[i] for i < len (out may equal in). */
void hash_bytes_xor(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *p, size_t plen);

}  // namespace ibaked
