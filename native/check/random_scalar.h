// Test-program helper shared by native/check/par_check.cc and native/ct/ct_check.cc: a uniform
// scalar in [1, r-1] from a seeded (non-cryptographic) generator, through the engine's own
// scalar decoding, so the checks exercise exactly the values the engine accepts.
#pragma once
#include <cstdint>
#include <random>

#include "../src/codec.h"

inline void random_scalar(uint64_t k[4], std::mt19937_64 &rng) {
  for (;;) {
    uint8_t be[32];
    for (auto &b : be) b = (uint8_t)rng();
    be[0] &= 0x7f;
    if (ibaked::decode_scalar(k, be, 32) == ibaked::Reason::Ok) return;
  }
}
