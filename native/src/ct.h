// Constant-time helpers and secret wiping shared by every native module.
// Masks are laundered through an empty asm statement so the compiler cannot turn a
// mask-and-or selection back into a secret-dependent branch. wipe() writes through a
// volatile pointer so a dead-store elimination cannot remove it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ibaked {

inline uint64_t launder(uint64_t v) {
#if defined(__GNUC__) || defined(__clang__)
  __asm__ volatile("" : "+r"(v));
#endif
  return v;
}

inline void wipe(void *p, size_t n);

/** All-ones when a == b, else zero, without a branch. */
inline uint64_t ct_eq_mask(uint64_t a, uint64_t b) {
  uint64_t x = a ^ b;
  // (x | -x) has its top bit set iff x != 0.
  uint64_t nz = (x | (0 - x)) >> 63;
  return launder(nz - 1);
}

/** dst ^= (dst ^ src) & mask, word by word: copies src into dst when mask is all-ones. */
inline void ct_cmov_words(uint64_t *dst, const uint64_t *src, size_t words, uint64_t mask) {
  for (size_t i = 0; i < words; i++) dst[i] ^= (dst[i] ^ src[i]) & mask;
}

/**
 * out = entry idx of a table of n entries of `words` 64-bit words each, reading every entry.
 * Works in chunks of 8 words kept in registers, so the scan is loads + and/or only.
 * `words` must be a multiple of 8.
 */
inline void ct_select_words(uint64_t *__restrict out, const uint64_t *__restrict table, size_t n, size_t words,
                            uint64_t idx) {
  typedef uint64_t v2 __attribute__((vector_size(16)));
  uint64_t masks[64];
  if (n > 64) __builtin_trap();  // tables here have at most 33 entries
  for (size_t e = 0; e < n; e++) masks[e] = ct_eq_mask(e, idx);
  for (size_t c = 0; c < words; c += 8) {
    v2 a0 = {0, 0}, a1 = {0, 0}, a2 = {0, 0}, a3 = {0, 0};
    const uint64_t *t = table + c;
    for (size_t e = 0; e < n; e++, t += words) {
      v2 m = {masks[e], masks[e]};
      v2 x0, x1, x2, x3;
      __builtin_memcpy(&x0, t, 16);
      __builtin_memcpy(&x1, t + 2, 16);
      __builtin_memcpy(&x2, t + 4, 16);
      __builtin_memcpy(&x3, t + 6, 16);
      a0 |= x0 & m;
      a1 |= x1 & m;
      a2 |= x2 & m;
      a3 |= x3 & m;
    }
    __builtin_memcpy(out + c, &a0, 16);
    __builtin_memcpy(out + c + 2, &a1, 16);
    __builtin_memcpy(out + c + 4, &a2, 16);
    __builtin_memcpy(out + c + 6, &a3, 16);
  }
  wipe(masks, sizeof masks);
}

/**
 * Zeroes memory in a way the optimiser must keep: memset, then an asm barrier that claims to
 * read the buffer, so the stores cannot be treated as dead (the OPENSSL_cleanse idea).
 */
inline void wipe(void *p, size_t n) {
  if (!p || !n) return;
#if defined(__GNUC__) || defined(__clang__)
  __builtin_memset(p, 0, n);
  __asm__ volatile("" : : "r"(p) : "memory");
#else
  volatile unsigned char *v = static_cast<volatile unsigned char *>(p);
  while (n--) *v++ = 0;
#endif
}

/** Allocator that wipes every block before returning it to the heap. */
template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U> &) noexcept {}
  T *allocate(size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T *p, size_t n) noexcept {
    wipe(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const WipingAllocator<U> &) const noexcept { return true; }
  template <class U>
  bool operator!=(const WipingAllocator<U> &) const noexcept { return false; }
};

/** Byte buffer whose storage is wiped when freed. */
using Bytes = std::vector<uint8_t, WipingAllocator<uint8_t>>;

/** Wipes a trivially-copyable object on scope exit. */
template <class T>
struct WipeOnExit {
  T &obj;
  explicit WipeOnExit(T &o) : obj(o) {}
  ~WipeOnExit() { wipe(&obj, sizeof(T)); }
};

}  // namespace ibaked
