// The engine's operations over byte strings, independent of Node-API: decode and validate
// every argument in order, compute with blst and our GT/G1 code, encode the result. Runs on
// worker threads; touches no JavaScript state. Arguments and results are wiped when freed.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "blst.h"
#include "ct.h"
#include "g1_table.h"
#include "gt_exp.h"
#include "reason.h"

namespace ibaked {

/** Operation codes; the same numbers are used by src/engine/native/addon.ts. */
enum class Op : int {
  G1Generator = 0,
  G2Generator = 1,
  G1Encode = 2,
  G2Encode = 3,
  GtValidate = 4,
  G1Mul = 5,
  G2Mul = 6,
  G1Add = 7,
  G2Add = 8,
  Pairing = 9,
  MillerLoop = 10,
  FinalExp = 11,
  GtMul = 12,
  GtPow = 13,
  HashToG2 = 14,
  HashToG1 = 15,
  G1FixedBase = 16,
  G2Prepare = 17,
  GtFixedBase = 18,
  TableG1Mul = 19,
  PreparedPairing = 20,
  PreparedMiller = 21,
  TableGtPow = 22,
  TableG1MulUncompressed = 23,  // [k]B in the 96-octet uncompressed form (IBE's DER U)
  BfDecrypt = 24,       // fused bls12381-bf cores (bf_core.h): G2-lines handle, [U, V, W] -> M
  BfEncrypt = 25,       // GT-table handle, [M, rho] -> U ‖ V ‖ W
  BfEncryptPlain = 26,  // no handle, [g_ID, M, rho] -> U ‖ V ‖ W
  BfRecipient = 27,     // no handle, [P_pub, id, DST] -> Q_ID (96) ‖ g_ID (576)
  BfDecryptRecipient = 28,  // G2-lines handle, [U, V, W, P_pub, id, DST] -> status ‖ Q_ID ‖ g_ID ‖ M
  BfDecryptEncrypt = 29,    // G2-lines handle + GT-table handle, [U, V, W, rho, reply, splice] -> M [‖ U' ‖ V' ‖ W']
  P256Mul = 30,             // no handle, [k (32), Q (65, SEC1 uncompressed)] -> [k]Q (65); p256.h
  MultiPairing = 31,        // no handle, [P_1, Q_1, …, P_n, Q_n] (1 <= n <= kMaxPairs) -> Π e(P_i, Q_i), one final exp
  IbsVerify = 32,           // no handle, [P_pub, Q_sig, h, U, V] -> 1 octet: 1 iff e(P, V) = e(P_pub, U + [h]Q_sig)
  Count = 33,
};

/** Most pairs MultiPairing takes (src/engine/types.ts MULTI_PAIRING_MAX). */
constexpr size_t kMaxPairs = 16;
/** Most arguments any op takes (MultiPairing's 2 · kMaxPairs); the addon refuses longer lists. */
constexpr size_t kMaxArgs = 2 * kMaxPairs;

/** Number of arguments each op takes (handle ops: not counting the handle); -1: variable
 *  (MultiPairing: an even number 2..kMaxArgs, see arity_ok). */
int op_arity(Op op);
/** Whether n arguments suit op. */
bool arity_ok(Op op, size_t n);
/** Ops whose first argument may legitimately be a string converted to bytes by JS, etc. */
bool op_makes_handle(Op op);
bool op_uses_handle(Op op);
/** Ops that take a second handle (BfDecryptEncrypt: the reply recipient's GT table). */
bool op_uses_second_handle(Op op);

/** One argument: `typed` is false when JavaScript passed something that is not a Uint8Array. */
struct Arg {
  bool typed = false;
  Bytes data;
};

/** Native state behind a precompute handle. Immutable once built; shared by in-flight work. */
struct HandleData {
  enum class Kind { G1Table, G2Lines, GtTable } kind;
  Bytes key;  // the compressed point / GT value the handle was built from
  std::unique_ptr<G1Table> g1;
  std::unique_ptr<std::array<blst_fp6, 68>> lines;
  std::unique_ptr<GtTable> gt;
  size_t bytes() const;
  HandleData();
  ~HandleData();
};

struct Result {
  Reason reason = Reason::Ok;
  const char *message = "";
  Bytes out;
  std::shared_ptr<HandleData> handle;  // for the three *FixedBase/Prepare ops
};

/** Number of HandleData objects alive (tests use it to see that GC and free() release them). */
long live_handle_count();

/** Runs op on args (handle = the precompute handle for handle ops, else null; second = the
 *  second handle of op_uses_second_handle ops, else null). */
Result run_op(Op op, const std::vector<Arg> &args, const std::shared_ptr<HandleData> &handle,
              const std::shared_ptr<HandleData> &second = nullptr);

}  // namespace ibaked
