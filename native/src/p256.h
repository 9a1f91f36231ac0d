// P-256 scalar multiplication for K_SESSION (ECCPT curve 8, our profile's ECDH: DESIGN OPEN-17),
// through the OpenSSL library inside the Node process, the same one node:crypto's ECDH uses.
// Why here: node:crypto's ECDH returns only x, so K_SESSION (the whole point [k]Q) took two
// ECDHs and a decompression on the JavaScript thread (about 0.45 ms per side); EC_POINT_mul
// gives the point in one multiplication, on a pool thread. The functions are looked up at run
// time (dlsym), never linked: an addon that finds no OpenSSL in its process still loads and
// reports 'unavailable' for this op alone, and JavaScript keeps the node:crypto path.
// Constant time: the scalar carries BN_FLG_CONSTTIME and EC_POINT_mul with one point and no
// generator term is OpenSSL's Montgomery ladder, exactly the call its ECDH_compute_key makes.
#pragma once
#include <cstddef>
#include <cstdint>

#include "reason.h"

namespace ibaked {

constexpr size_t kP256Point = 65;  // SEC1 uncompressed: 0x04 ‖ x ‖ y
constexpr size_t kP256Scalar = 32;

/** True when the process has the OpenSSL functions this module needs (looked up once). */
bool p256_available();

/**
 * out = [k]Q, SEC1 uncompressed. k: 32 octets big-endian, 1 <= k < n (else ScalarRange);
 * Q: 65 octets, 0x04 prefix (else Length / NonCanonical), coordinates < p and on the curve
 * (else NotOnCurve). Unavailable when p256_available() is false.
 */
Reason p256_mul(uint8_t out[kP256Point], const uint8_t k[kP256Scalar], const uint8_t *q, size_t qlen);

}  // namespace ibaked
