// SHA-256 compressions for the MIKEY layer's HMAC (src/mikey/hmac-sha256.ts) through the
// process's OpenSSL, whose SHA256_Transform uses the CPU's SHA extensions where it has them
// (about ten times the speed of the JavaScript compression); the addon's own compression
// (sha256.h) when the symbol is missing. Only the chaining value and whole blocks cross: the
// caller does the padding. No secret-dependent branches or lookups in either path.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ibaked {

/** `blocks` compressions of the 64-octet blocks at `in` into `h` (8 words, host order). */
void sha256_blocks(uint32_t h[8], const uint8_t *in, size_t blocks);

/** True when OpenSSL's SHA256_Transform was found (the accelerated path). */
bool sha256_blocks_openssl();

}  // namespace ibaked
