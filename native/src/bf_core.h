// Fused Boneh–Franklin cores of the bls12381-bf suite (src/ibe/bls12381/bf.ts is the reference
// and defines every step). One native call does a whole BFdecrypt (prepared pairing, hashes,
// Fujisaki–Okamoto check) or BFencrypt (hashes, [l]P, g_ID^l, masking) instead of two engine
// round trips with SHA-256 work in JavaScript between them: each round trip costs tens of µs
// of thread hops, and the JS hashing runs cold after the thread sleeps. DER stays in JS.
//
//   BfDecrypt      (handle: G2 lines of S_ID)  [U (96, uncompressed G1), V (32), W (1..2^20)] -> M
//   BfEncrypt      (handle: GT table of g_ID)  [M (1..2^20), rho (32)] -> U (96) ‖ V (32) ‖ W (|M|)
//   BfEncryptPlain (no handle)                 [g_ID (576), M (1..2^20), rho (32)] -> same
//   BfRecipient    (no handle)                 [P_pub (G1), id (1..2^20), DST (1..255)]
//                                              -> Q_ID (96, compressed G2) ‖ g_ID (576)
//   BfDecryptRecipient (handle: G2 lines)      [U, V, W, P_pub, id, DST]
//                                              -> status (1) ‖ Q_ID (96) ‖ g_ID (576) ‖ M
//     (fails as BfDecrypt fails; status = the recipient's Reason code, 0 = Ok, else zeros)
//   BfDecryptEncrypt   (handle: G2 lines; second handle: GT table of the reply's g_ID)
//                      [U, V, W, rho (32), reply (1..2^20), splice (12: from ‖ to ‖ n, u32 BE)]
//                      -> M, or M ‖ U' (96) ‖ V' (32) ‖ W' (|reply|)
//     (fails as BfDecrypt fails; the reply is BfEncrypt(reply with reply[to, to+n) replaced by
//      M[from, from+n), rho); M alone when from + n > |M| or l' = 0: the caller encrypts itself)
//
// BfRecipient is a new recipient's entry in one call: Q_ID = hash_to_curve(id) and
// g_ID = e(P_pub, Q_ID), without the round trip to JavaScript between them and without decoding
// and subgroup-checking a Q_ID that we just hashed ourselves. BfDecryptRecipient is a responder's
// first step with a new caller: BfDecrypt and the caller's BfRecipient in one call, the recipient
// on the par:: helper beside the decryption. Two separate ops on the thread pool often ran one
// after the other: the second worker woke on the CPU busy with the first and waited there.
//
// l = HashToRange(rho ‖ SHA256(M), r) is secret: only the constant-time fixed-base G1 comb and
// GT exponentiations touch it. l = 0, or [l]P ≠ U on decryption, is Reason::IbeCheck.
//
// BfDecryptEncrypt is a party's decryption and its reply's encryption in one call, when the
// reply's plaintext is known but for a slice it echoes from the one decrypted (IBAKE: the
// responder echoes xP in R_MESSAGE_1, the initiator yP in I_MESSAGE_2). The caller still checks
// M and that the echoed slice is the value it would have sent, and discards the reply
// otherwise: the op only saves the thread round trip and the JavaScript between the two.
#pragma once
#include <memory>
#include <vector>

#include "blst.h"
#include "ops.h"

namespace ibaked {

/** Largest plaintext / W the cores accept (src/ibe/bls12381/bf.ts MAX_PLAINTEXT). */
constexpr size_t kBfMaxPlaintext = (size_t)1 << 20;

/**
 * out = e(U, S) from S's precomputed Miller-loop lines, with final exponentiation, for U
 * decoded up to the on-curve check: the G1 subgroup check runs on the par:: helper beside the
 * Miller loop's tail (miller.h), as op PreparedPairing does. Returns Ok, or NotInSubgroup /
 * Identity exactly as decode_g1 would have (out is then meaningless).
 */
Reason prepared_pairing(blst_fp12 *out, const blst_fp6 *lines, const blst_p1_affine *U);

/** [k]P for the standard generator through one process-wide fixed-base table (built once). */
void generator_mul(blst_p1 *out, const uint64_t k[4]);

Result bf_decrypt(const HandleData &key, const std::vector<Arg> &args);
Result bf_encrypt(const HandleData &table, const std::vector<Arg> &args);
Result bf_encrypt_plain(const std::vector<Arg> &args);
Result bf_recipient(const std::vector<Arg> &args);
Result bf_decrypt_recipient(const HandleData &key, const std::vector<Arg> &args);
Result bf_decrypt_encrypt(const HandleData &key, const HandleData &table, const std::vector<Arg> &args);

}  // namespace ibaked
