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

/** Zeroes memory in a way the optimiser must keep. */
inline void wipe(void *p, size_t n) {
  volatile unsigned char *v = static_cast<volatile unsigned char *>(p);
  while (n--) *v++ = 0;
#if defined(__GNUC__) || defined(__clang__)
  __asm__ volatile("" ::: "memory");
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
