// SHA-256 compressions through OpenSSL's public SHA256_Transform, else our own; see
// sha256_blocks.h. SHA256_CTX is declared here with OpenSSL's public layout (sha.h, unchanged
// since 0.9.8: the chaining value first); SHA256_Transform reads and writes only that value.
#include "sha256_blocks.h"

#include <dlfcn.h>

#include <cstring>
#include <mutex>

#include "ct.h"
#include "sha256.h"

namespace ibaked {
namespace {

struct OsslSha256Ctx {
  uint32_t h[8];
  uint32_t nl, nh;
  uint32_t data[16];
  unsigned int num, md_len;
};

using TransformFn = void (*)(OsslSha256Ctx *, const unsigned char *);

TransformFn transform() {
  static TransformFn fn = nullptr;
  static std::once_flag once;
  std::call_once(once, [] { fn = reinterpret_cast<TransformFn>(dlsym(RTLD_DEFAULT, "SHA256_Transform")); });
  return fn;
}

}  // namespace

bool sha256_blocks_openssl() { return transform() != nullptr; }

void sha256_blocks(uint32_t h[8], const uint8_t *in, size_t blocks) {
  TransformFn fn = transform();
  if (!fn) {
    sha256_compress(h, in, blocks);
    return;
  }
  OsslSha256Ctx c;
  std::memset(&c, 0, sizeof c);
  std::memcpy(c.h, h, sizeof c.h);
  for (size_t i = 0; i < blocks; i++) fn(&c, in + 64 * i);
  std::memcpy(h, c.h, sizeof c.h);
  wipe(&c, sizeof c);
}

}  // namespace ibaked
