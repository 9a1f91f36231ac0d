// Locates and loads the compiled native addon (binding.gyp → build/Release/*.node).
// IBAKED_NATIVE_PATH names an exact .node file (the sanitizer run uses it). Otherwise the
// portable build is loaded first (safe on any x86-64), asked for CPUID, and replaced by the
// ADX build when the CPU has BMI2 and ADX (IBAKED_NATIVE_VARIANT=portable forces portable).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../errors.js';

/** Operation codes of native/src/ops.h. */
export enum NativeOp {
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
  TableG1MulUncompressed = 23,
  /** Fused bls12381-bf cores (native/src/bf_core.h). Handle: G2 lines; [U, V, W] -> M. */
  BfDecrypt = 24,
  /** Handle: GT table of g_ID; [M, rho] -> U (96) ‖ V (32) ‖ W (|M|). */
  BfEncrypt = 25,
  /** No handle; [g_ID, M, rho] -> U ‖ V ‖ W. */
  BfEncryptPlain = 26,
  /** No handle; [P_pub, id, DST] -> Q_ID (96, compressed) ‖ g_ID = e(P_pub, Q_ID) (576). */
  BfRecipient = 27,
  /** Handle: G2 lines; [U, V, W, P_pub, id, DST] -> status (1) ‖ Q_ID (96) ‖ g_ID (576) ‖ M. */
  BfDecryptRecipient = 28,
  /** Handle: G2 lines, second handle: GT table; [U, V, W, rho, reply, splice (12)] -> M [‖ U' ‖ V' ‖ W']. */
  BfDecryptEncrypt = 29,
  /** No handle; [k (32), Q (65, SEC1 uncompressed)] -> [k]Q (65): P-256 through the process's OpenSSL. */
  P256Mul = 30,
  /** No handle; [P_1, Q_1, …, P_n, Q_n], 1 <= n <= 16 -> Π e(P_i, Q_i) (576), one final exponentiation. */
  MultiPairing = 31,
  /** No handle; [P_pub, Q_sig, h, U, V] -> 1 octet (1: e(P, V) = e(P_pub, U + [h]Q_sig)). */
  IbsVerify = 32,
}

export interface NativeHandle {
  /** `second`: the second handle of ops that take one (BfDecryptEncrypt). */
  run(op: NativeOp, args: unknown[], second?: NativeHandle): Promise<Uint8Array>;
  /** run, but the work runs now on the calling thread; the promise is already settled. */
  runInline(op: NativeOp, args: unknown[], second?: NativeHandle): Promise<Uint8Array>;
  free(): void;
  readonly key: Uint8Array;
  readonly kind: number;
}

export interface NativeAddon {
  run(op: NativeOp, args: unknown[]): Promise<unknown>;
  /** run, but the work runs now on the calling thread (no libuv pool hop); the promise is already settled. */
  runInline(op: NativeOp, args: unknown[]): Promise<unknown>;
  runSync(op: NativeOp, args: unknown[]): Uint8Array;
  cpu(): { adx: boolean; bmi2: boolean };
  /** Precompute tables alive in native memory (for leak tests). */
  liveHandles(): number;
  /** Counters of the parallel sections (native/src/par.h): which path ran, for tests. */
  parInfo?(): { available: boolean; parallel: number; inline: number; stolen: number };
  /** Turns the parallel sections (the helper thread inside an operation) on or off, process-wide. */
  setParEnabled?(on: boolean): void;
  /** True when the process's OpenSSL was found for P256Mul (native/src/p256.h). */
  readonly p256?: boolean;
  /** SHA-256 compressions in place (native/src/sha256_blocks.h); absent in older builds. */
  sha256Blocks?(buf: Uint8Array, blocks: number): void;
  /** True when sha256Blocks runs OpenSSL's compression (else the addon's own). */
  readonly sha256OpenSsl?: boolean;
  /** The MIKEY PRF-HMAC-SHA-256 in place (native/src/mikey_prf.h); absent in older builds. */
  mikeyPrfSha256?(buf: Uint8Array, inkeyLen: number, labelLen: number, outLen: number): void;
  readonly variant: 'adx' | 'portable';
  readonly abiVersion: number;
}

const ABI_VERSION = 2;
/** The package root: the nearest directory above this module holding package.json (src/,
 * dist/ and build-bench/src/ all sit at different depths below it). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return fileURLToPath(new URL('../../../', import.meta.url));
    dir = up;
  }
  return dir + sep;
}
const ROOT = packageRoot();
const require = createRequire(import.meta.url);

function load(path: string): NativeAddon {
  const mod = require(path) as NativeAddon;
  if (mod.abiVersion !== ABI_VERSION || typeof mod.run !== 'function') {
    throw new EngineError('unavailable', `native addon at ${path} has an unexpected interface`);
  }
  return mod;
}

let cached: { addon: NativeAddon; path: string } | undefined;

/** Loads the addon once; throws EngineError('unavailable', why) when it is not built. */
export function loadAddon(): { addon: NativeAddon; path: string } {
  if (cached) return cached;
  const explicit = process.env.IBAKED_NATIVE_PATH;
  try {
    if (explicit) {
      cached = { addon: load(explicit), path: explicit };
      return cached;
    }
    const portable = `${ROOT}build/Release/ibaked_native.node`;
    const adx = `${ROOT}build/Release/ibaked_native_adx.node`;
    if (!existsSync(portable)) {
      throw new EngineError('unavailable', `native addon not built (${portable} missing; run npm install with a C++ toolchain)`);
    }
    let addon = load(portable);
    let path = portable;
    const cpu = addon.cpu();
    if (process.env.IBAKED_NATIVE_VARIANT !== 'portable' && cpu.adx && cpu.bmi2 && existsSync(adx)) {
      addon = load(adx);
      path = adx;
    }
    cached = { addon, path };
    return cached;
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw new EngineError('unavailable', `native addon failed to load: ${(e as Error).message}`);
  }
}
