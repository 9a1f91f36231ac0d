// The engine contract: the only place in the project with curve arithmetic (DESIGN §2, §4).
// Three backends (native = our blst addon, wasm = mcl-wasm, ts = @noble/curves) implement this
// interface and must return bit-identical bytes for the same inputs, and the same
// EngineError reason for the same rejected input.
//
// Conventions (binding for every backend):
// * Group elements cross this interface as bytes.
//   - G1: ZCash/CFRG serialisation, 48 octets compressed or 96 uncompressed.
//   - G2: ZCash/CFRG serialisation, 96 octets compressed or 192 uncompressed.
//   - GT: 576 octets, the 12 Fp coefficients big-endian (48 octets each) in tower order
//     c0.c0.c0, c0.c0.c1, c0.c1.c0, c0.c1.c1, c0.c2.c0, c0.c2.c1, c1.c0.c0, … c1.c2.c1
//     where Fp12 = Fp6 + Fp6·w, Fp6 = Fp2 + Fp2·v + Fp2·v², Fp2 = Fp + Fp·u (DESIGN §3).
//   Every operation accepts either G1/G2 form and always returns the compressed form.
// * Every G1/G2 input is fully validated on every call: right length, canonical (flags,
//   coordinates < p), on the curve, in the prime-order subgroup, not the identity. The first
//   failing check, in that order, is the EngineError reason.
// * GT inputs (gtMul, gtPow, gtFixedBase, finalExp's output chain) are values this process
//   computed itself; GT is never received from outside. Operations taking GT bytes check
//   length, canonical coefficients (< p) and membership of the cyclotomic subgroup (cheap,
//   Frobenius-based); `gtValidate` does the full check (also order r, not identity) for any GT
//   value of unknown origin.
// * Scalars are 32 octets big-endian in [1, r-1] (r = BLS12-381 group order); anything else is
//   EngineError('scalar-range') (or 'length'/'type'). Scalars are treated as secret: native code
//   uses constant-time paths for them.
// * Every operation that may cost more than a few microseconds returns a Promise, so the native
//   backend can run it off the JavaScript thread. Errors surface as rejected promises carrying
//   an EngineError (synchronous throws only from synchronous methods).
// * millerLoop output is an Fp12 value defined only up to factors that the final exponentiation
//   removes; its bytes may differ between backends. finalExp(millerLoop(P, Q)) — on any
//   backend, fed from any backend — equals pairing(P, Q) bit for bit.
// * Optional accelerators: `bfCore` (BfCore below) does the whole core of a bls12381-bf
//   encryption or decryption in one call. That suite is defined by src/ibe/bls12381/bf.ts, whose
//   step-by-step path over the general operations stays the reference; an accelerator must give
//   its bytes exactly (test/ibe-bf-core.test.ts). Only the native backend has one; callers use
//   it when present and the general operations otherwise.

import type { EngineError } from './errors.js';

export type Bytes = Uint8Array;
/** 32-octet big-endian scalar in [1, r-1]. */
export type Scalar = Uint8Array;

export type EngineName = 'native' | 'wasm' | 'ts';

export const G1_COMPRESSED = 48;
export const G1_UNCOMPRESSED = 96;
export const G2_COMPRESSED = 96;
export const G2_UNCOMPRESSED = 192;
export const GT_BYTES = 576;
export const SCALAR_BYTES = 32;
/** Most pairs one multiPairing call takes (a verification needs 2; the bound keeps one call's
 * work and the native argument list small). */
export const MULTI_PAIRING_MAX = 16;

/** Fixed-base table for [k]B with a fixed G1 point B (e.g. the generator P). */
export interface G1Table {
  /** The base point, compressed. */
  readonly point: Bytes;
  /** [k]B; compressed unless `form` asks for the uncompressed encoding (e.g. IBE's DER U). */
  mul(k: Scalar, form?: 'compressed' | 'uncompressed'): Promise<Bytes>;
  /** Releases native memory now; later calls reject with EngineError('freed'). Idempotent. */
  free(): void;
}

/** Precomputed Miller-loop lines for a fixed G2 argument (e.g. our own private key S_ID). */
export interface G2Prepared {
  readonly point: Bytes;
  /** e(p1, point), p1 a G1 element (validated). Equals engine.pairing(p1, point). */
  pairing(p1: Bytes): Promise<Bytes>;
  /** Miller loop only; see the millerLoop convention above. */
  millerLoop(p1: Bytes): Promise<Bytes>;
  free(): void;
}

/** Fixed-base table for g^k with a fixed GT element g (e.g. g_ID = e(P_pub, Q_ID)). */
export interface GTTable {
  readonly value: Bytes;
  pow(k: Scalar): Promise<Bytes>;
  free(): void;
}

/** A reply's echo of a plaintext being decrypted: reply[to, to+n) <- M[from, from+n) (BfCore.decryptEncrypt). */
export interface EchoSplice {
  readonly from: number;
  readonly to: number;
  readonly n: number;
}

/** The output of BfCore's encryptions: the parts of a BFCiphertextBlock before DER. */
export interface BfCoreCiphertext {
  /** U = [l]P, 96-octet uncompressed G1 (x ‖ y, each 48 octets big-endian) */
  readonly u: Bytes;
  /** V = SHA256(Canonical(g_ID^l)) XOR rho, 32 octets */
  readonly v: Bytes;
  /** W = M XOR HashBytes(|M|, rho), |M| octets */
  readonly w: Bytes;
}

/**
 * Accelerator of the bls12381-bf suite (RFC 5091 FullIdent on BLS12-381 with SHA-256, as
 * src/ibe/bls12381/bf.ts defines it): each method is the whole BFencrypt / BFdecrypt core —
 * every hash, the pairing or GT power, U = [l]P, the Fujisaki–Okamoto check — in one engine
 * call, with l = HashToRange(rho ‖ SHA256(M), r) kept secret inside it. DER stays with the
 * caller. Results equal bf.ts's encryptWithRhoOps / decryptOps on any engine, bit for bit.
 * Rejections are EngineErrors: 'type' / 'length' for arguments (M and W 1..2^20 octets, rho and
 * V 32 octets), U's and g_ID's validation reasons as for pairing / gtPow, 'freed' for a freed
 * handle, and 'ibe-check' when l = 0 (encryption: choose another rho) or the FO check fails.
 * Handles must come from the same engine (else 'type').
 */
export interface BfCore {
  /** BFdecrypt with our prepared private key: U (96 octets uncompressed), V, W -> M. */
  decrypt(key: G2Prepared, u: Bytes, v: Bytes, w: Bytes): Promise<Bytes>;
  /** BFencrypt to g_ID = e(P_pub, Q_ID) given as GT bytes (constant-time power). */
  encrypt(gId: Bytes, m: Bytes, rho: Bytes): Promise<BfCoreCiphertext>;
  /** BFencrypt through the recipient's fixed-base table of g_ID (constant time). */
  encryptWithTable(gId: GTTable, m: Bytes, rho: Bytes): Promise<BfCoreCiphertext>;
  /**
   * A new recipient's Q_ID = hashToG2(id, dst) (96 octets, compressed) and g_ID = e(P_pub, Q_ID)
   * in one call: the same bytes as hashToG2 then pairing, without decoding and checking the
   * Q_ID just hashed. P_pub (either form) is validated as pairing's first argument; id as
   * hashToG2's message (1..2^20 octets here), dst 1..255 octets.
   */
  recipient(Ppub: Bytes, id: Bytes, dst: Bytes): Promise<{ qId: Bytes; gId: Bytes }>;
  /**
   * Optional: decrypt and recipient in one call, run side by side (a responder's first step
   * with a new caller: decrypt I_MESSAGE_1, and compute the caller's entry to encrypt the reply).
   * Rejects exactly when decrypt would; otherwise gives M and the recipient's own outcome, the
   * value or the EngineError that recipient() would have given for the same arguments.
   */
  decryptWithRecipient?(
    key: G2Prepared,
    ct: { u: Bytes; v: Bytes; w: Bytes },
    recipient: { Ppub: Bytes; id: Bytes; dst: Bytes },
  ): Promise<{ m: Bytes; recipient: { qId: Bytes; gId: Bytes } | EngineError }>;
  /**
   * Optional: decrypt, then encrypt a reply through `to`'s table in the same call. The reply's
   * plaintext is `reply` with the `splice.n` octets at `splice.to` replaced by M's at
   * `splice.from` (a party echoing a value it has just decrypted). Rejects exactly when decrypt
   * would (after checking rho, reply and the splice as encryptWithTable checks M and rho:
   * 'type' / 'length'; splice.n >= 1 and inside `reply`, else 'length'). Gives `reply: undefined`
   * when M is too short for the splice or the reply's l is 0: the caller then encrypts itself.
   * The caller must check M, and that the echoed octets are the value it means to send, before
   * using the reply.
   */
  decryptEncrypt?(
    key: G2Prepared,
    ct: { u: Bytes; v: Bytes; w: Bytes },
    to: GTTable,
    reply: Bytes,
    rho: Bytes,
    splice: EchoSplice,
  ): Promise<{ m: Bytes; reply?: BfCoreCiphertext }>;
}

export interface Engine {
  readonly name: EngineName;

  /** Optional: the fused bls12381-bf core (native only); see BfCore. */
  readonly bfCore?: BfCore;
  /**
   * Optional (native, when the process has OpenSSL: native/src/p256.h): [k]Q on P-256 for
   * K_SESSION, k 32 octets big-endian in [1, n-1], Q and the result SEC1 uncompressed (65).
   * Not a pairing-curve operation: the protocol layer's ECDH (src/ibake/ecdh.ts) uses it to run
   * off the JavaScript thread. Rejects 'length' / 'type' for the arguments, 'non-canonical' for
   * a prefix other than 0x04, 'not-on-curve', 'scalar-range'.
   */
  readonly p256Mul?: (k: Bytes, q: Bytes) => Promise<Bytes>;
  /**
   * Optional accelerator (native): `blocks` SHA-256 compressions of buf[32 ..] into the chaining
   * value at buf[0, 32) (8 words, host order), in place, synchronously; buf a Uint8Array aligned
   * to 4 octets. Not a pairing-curve operation either: the MIKEY layer's HMAC
   * (src/mikey/hmac-sha256.ts useSha256Blocks) borrows it, lent by src/ibake/keyring.ts.
   * Throws TypeError / RangeError for a bad buf or count.
   */
  readonly sha256Blocks?: (buf: Uint8Array, blocks: number) => void;
  /**
   * Optional accelerator (native): the MIKEY PRF-HMAC-SHA-256 (RFC 6043 §6.1) of inkey =
   * buf[0, inkeyLen) and label = buf[inkeyLen, inkeyLen + labelLen), written to the outLen
   * octets after them, synchronously. Like sha256Blocks, for the MIKEY layer (src/mikey/prf.ts
   * usePrfSha256), lent by src/ibake/keyring.ts. Throws TypeError / RangeError for a bad buf or
   * lengths (inkeyLen and outLen ≥ 1, all three within buf).
   */
  readonly mikeyPrfSha256?: (buf: Uint8Array, inkeyLen: number, labelLen: number, outLen: number) => void;
  /**
   * Optional accelerator (native): the Cha–Cheon verification of src/ibe/bls12381/ibs.ts in one
   * call, true iff e(P, V) = e(P_pub, U + [h]Q_sig), as the two-pairing product with one final
   * exponentiation. P_pub (G1), qSig, u, v (G2) and h (scalar, [1, r-1]) are validated in that
   * order (P_pub, qSig, h, u, v) with the usual reasons; U + [h]Q_sig = 0 gives false. Must
   * agree with the general path (g2Mul, g2Add, multiPairing) on every input
   * (test/ibe-ibs.test.ts).
   */
  readonly ibsVerify?: (Ppub: Bytes, qSig: Bytes, h: Scalar, u: Bytes, v: Bytes) => Promise<boolean>;
  /**
   * Native only: lets an operation use a second core (the helper thread of its parallel
   * sections) or not, process-wide. Results are the same either way; only timing changes.
   */
  readonly setParallel?: (on: boolean) => void;
  /**
   * Native only: operations started from now on run on the calling thread (their promises are
   * already settled when returned) or, with false, on the libuv pool (NativeEngineOptions.inline
   * sets the start). Results are the same either way; only which thread waits changes.
   */
  readonly setInline?: (on: boolean) => void;

  // --- constants and encodings -------------------------------------------------------------
  /** The standard generators, compressed. */
  g1Generator(): Bytes;
  g2Generator(): Bytes;
  /** Validates a G1 element (either form) and returns it re-encoded in the requested form. */
  g1Encode(point: Bytes, form?: 'compressed' | 'uncompressed'): Promise<Bytes>;
  g2Encode(point: Bytes, form?: 'compressed' | 'uncompressed'): Promise<Bytes>;
  /** Full GT membership check (canonical, cyclotomic, order r, not the identity). */
  gtValidate(value: Bytes): Promise<void>;

  // --- group operations ----------------------------------------------------------------
  g1Mul(point: Bytes, k: Scalar): Promise<Bytes>;
  g2Mul(point: Bytes, k: Scalar): Promise<Bytes>;
  g1Add(a: Bytes, b: Bytes): Promise<Bytes>;
  g2Add(a: Bytes, b: Bytes): Promise<Bytes>;
  /** Optimal ate pairing with final exponentiation: the reduced value in GT. */
  pairing(p1: Bytes, p2: Bytes): Promise<Bytes>;
  millerLoop(p1: Bytes, p2: Bytes): Promise<Bytes>;
  /**
   * Π e(P_i, Q_i) over 1..MULTI_PAIRING_MAX pairs [P_i (G1), Q_i (G2)], with one final
   * exponentiation of the product of the Miller loops (a signature check e(P, V) = e(P_pub, W)
   * as e(-P, V)·e(P_pub, W) = 1 costs two Miller loops and one final exponentiation, not two
   * pairings). Equals gtMul of the single pairings bit for bit; the product may be the GT
   * identity. Every point is validated as pairing's arguments, in order (P_1, Q_1, P_2, …); a
   * `pairs` that is not an array of two-element arrays is 'type', 0 or more than
   * MULTI_PAIRING_MAX pairs 'length' (checked before any point).
   */
  multiPairing(pairs: ReadonlyArray<readonly [Bytes, Bytes]>): Promise<Bytes>;
  /** Final exponentiation of any non-zero canonical Fp12 value (576 octets). */
  finalExp(f: Bytes): Promise<Bytes>;
  gtMul(a: Bytes, b: Bytes): Promise<Bytes>;
  /** a^k, constant time in k. */
  gtPow(a: Bytes, k: Scalar): Promise<Bytes>;

  // --- hashing (RFC 9380, expand_message_xmd with SHA-256, random-oracle variants) ---------
  /** BLS12381G2_XMD:SHA-256_SSWU_RO_ with the caller's DST (1..255 octets). */
  hashToG2(msg: Bytes, dst: Bytes | string): Promise<Bytes>;
  /** BLS12381G1_XMD:SHA-256_SSWU_RO_ with the caller's DST. */
  hashToG1(msg: Bytes, dst: Bytes | string): Promise<Bytes>;

  // --- precompute handles for fixed arguments -----------------------------------------
  g1FixedBase(point: Bytes): Promise<G1Table>;
  g2Prepare(point: Bytes): Promise<G2Prepared>;
  gtFixedBase(value: Bytes): Promise<GTTable>;
}
