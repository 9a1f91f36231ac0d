// The native engine backend (DESIGN §4 "native"): the Engine contract of ../types.ts over our
// C++ addon on blst (native/). Every check and every computation happens in native code, off
// the JavaScript thread; this file only adapts arguments (DST strings, output form), maps
// native rejections to EngineError, and wraps precompute handles. It also offers the optional
// bfCore accelerator (fused bls12381-bf encryption/decryption, native/src/bf_core.h).
import { checkForm, checkPairs } from '../encoding.js';
import { EngineError, type EngineErrorReason } from '../errors.js';
import type { BfCore, BfCoreCiphertext, Bytes, EchoSplice, Engine, G1Table, G2Prepared, GTTable, Scalar } from '../types.js';
import { NativeOp as Op, type NativeAddon, type NativeHandle } from './addon.js';
import { SmallArgs } from './small-args.js';
import { asPromise } from '../../util/as-promise.js';

/** native/src/reason.h's codes, for a reason that travels in an op's output (index = code). */
const REASON_BY_CODE: readonly (EngineErrorReason | undefined)[] = [
  undefined, // Ok
  'length',
  'type',
  'non-canonical',
  'not-on-curve',
  'not-in-subgroup',
  'identity',
  'scalar-range',
  'freed',
  'ibe-check',
  'unavailable',
];

/** The reasons a native rejection may carry: reason.h's. */
const REASONS = new Set<EngineErrorReason>(REASON_BY_CODE.filter((r): r is EngineErrorReason => r !== undefined));

/** Turns a native rejection (Error with `reason`) into an EngineError. */
function mapError(e: unknown): never {
  const reason = (e as { reason?: unknown } | null)?.reason;
  if (typeof reason === 'string' && REASONS.has(reason as EngineErrorReason)) {
    throw new EngineError(reason as EngineErrorReason, (e as Error).message);
  }
  throw e;
}

function call<T>(fn: () => Promise<unknown>): Promise<T> {
  return asPromise(fn).catch(mapError) as Promise<T>;
}

/** DST: a string is UTF-8 encoded; anything else goes to native as is (it checks the type). */
function dstArg(dst: unknown): unknown {
  return typeof dst === 'string' ? new TextEncoder().encode(dst) : dst;
}

/** Splits BfEncrypt's U (96) ‖ V (32) ‖ W output (views of one buffer, no copies). */
function splitCiphertext(out: Bytes): BfCoreCiphertext {
  return Object.freeze({ u: out.subarray(0, 96), v: out.subarray(96, 128), w: out.subarray(128) });
}

/** BfDecryptEncrypt's splice argument: from ‖ to ‖ n, u32 big-endian each. */
function spliceArg(s: EchoSplice): Bytes {
  // Written octet by octet: a DataView would take `out.buffer`, which moves this small array
  // out of V8's heap (a backing store of its own).
  const out = new Uint8Array(12);
  const vals = [s.from, s.to, s.n];
  for (let i = 0; i < 3; i++) {
    const v = vals[i]!;
    if (!Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) throw new EngineError('length', 'splice offsets must be u32 integers');
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = (v >>> 16) & 0xff;
    out[4 * i + 2] = (v >>> 8) & 0xff;
    out[4 * i + 3] = v & 0xff;
  }
  return out;
}

const FORM_COMPRESSED = Uint8Array.of(1);
const FORM_UNCOMPRESSED = Uint8Array.of(0);

export interface NativeEngineOptions {
  /**
   * Run every operation on the calling thread (the returned promises are already settled)
   * instead of on the libuv pool. For a thread that does nothing else, such as a daemon shard
   * worker: it saves two thread wake-ups per operation. Not on a thread that must stay
   * responsive while an operation runs (an app's); the daemon's main thread switches it on
   * only while one exchange request is all it has to do (engine.setInline, par-policy.ts).
   */
  inline?: boolean;
}

export function createNativeEngine(addon: NativeAddon, o: NativeEngineOptions = {}): Engine {
  const g1Gen = addon.runSync(Op.G1Generator, []);
  const g2Gen = addon.runSync(Op.G2Generator, []);
  let inline = o.inline === true;
  // Small arguments go through one off-heap scratch (small-args.ts), zeroed after each call.
  const small = new SmallArgs();
  const run = (code: Op, args: unknown[]) => small.with(args, (a) => (inline ? addon.runInline(code, a) : addon.run(code, a)));
  const hrun = (h: NativeHandle, code: Op, args: unknown[], second?: NativeHandle) =>
    small.with(args, (a) => (inline ? h.runInline(code, a, second) : h.run(code, a, second)));
  const op = <T>(code: Op, ...args: unknown[]): Promise<T> => call<T>(() => run(code, args));
  const handleOp = (h: NativeHandle, code: Op, arg: unknown): Promise<Bytes> => call<Bytes>(() => hrun(h, code, [arg]));
  // The native handle behind each G2Prepared / GTTable this engine made (for bfCore).
  const handles = new WeakMap<object, NativeHandle>();
  const handleOf = (wrapper: unknown, what: string): NativeHandle => {
    const h = typeof wrapper === 'object' && wrapper !== null ? handles.get(wrapper) : undefined;
    if (!h) throw new EngineError('type', `${what} is not a handle of this engine`);
    return h;
  };

  const bfCore: BfCore = Object.freeze({
    decrypt: (key: G2Prepared, u: Bytes, v: Bytes, w: Bytes) =>
      call<Bytes>(() => hrun(handleOf(key, 'key'), Op.BfDecrypt, [u, v, w])),
    encrypt: (gId: Bytes, m: Bytes, rho: Bytes) =>
      call<Bytes>(() => run(Op.BfEncryptPlain, [gId, m, rho])).then(splitCiphertext),
    encryptWithTable: (gId: GTTable, m: Bytes, rho: Bytes) =>
      call<Bytes>(() => hrun(handleOf(gId, 'table'), Op.BfEncrypt, [m, rho])).then(splitCiphertext),
    recipient: (Ppub: Bytes, id: Bytes, dst: Bytes) =>
      call<Bytes>(() => run(Op.BfRecipient, [Ppub, id, dst])).then((out) =>
        Object.freeze({ qId: out.subarray(0, 96), gId: out.subarray(96) }),
      ),
    decryptWithRecipient: (key: G2Prepared, ct: { u: Bytes; v: Bytes; w: Bytes }, r: { Ppub: Bytes; id: Bytes; dst: Bytes }) =>
      call<Bytes>(() => hrun(handleOf(key, 'key'), Op.BfDecryptRecipient, [ct.u, ct.v, ct.w, r.Ppub, r.id, r.dst])).then((out) => {
        // status ‖ Q_ID ‖ g_ID ‖ M. Q_ID and g_ID are copied out (a cache keeps them); M stays a
        // view of the output for the caller to wipe.
        const status = out[0]!;
        const m = out.subarray(1 + 96 + 576);
        if (status === 0) return { m, recipient: Object.freeze({ qId: out.slice(1, 97), gId: out.slice(97, 97 + 576) }) };
        const reason = REASON_BY_CODE[status] ?? 'type';
        return { m, recipient: new EngineError(reason, `recipient rejected (${reason})`) };
      }),
    decryptEncrypt: (key: G2Prepared, ct: { u: Bytes; v: Bytes; w: Bytes }, to: GTTable, reply: Bytes, rho: Bytes, splice: EchoSplice) =>
      call<Bytes>(() => hrun(handleOf(key, 'key'), Op.BfDecryptEncrypt, [ct.u, ct.v, ct.w, rho, reply, spliceArg(splice)], handleOf(to, 'table'))).then((out) => {
        // M, or M ‖ U' ‖ V' ‖ W' (|W'| = |reply|): M's length is |W|.
        const m = out.subarray(0, ct.w.length);
        return out.length === m.length ? { m } : { m, reply: splitCiphertext(out.subarray(m.length)) };
      }),
  });

  const engine: Engine = {
    name: 'native',
    bfCore,
    ibsVerify: (Ppub, qSig, h, u, v) => call<Bytes>(() => run(Op.IbsVerify, [Ppub, qSig, h, u, v])).then((out) => out[0] === 1),
    ...(addon.setParEnabled ? { setParallel: (on: boolean) => addon.setParEnabled!(on) } : {}),
    setInline: (on: boolean) => {
      inline = on === true;
    },
    ...(addon.p256 ? { p256Mul: (k: Bytes, q: Bytes) => call<Bytes>(() => run(Op.P256Mul, [k, q])) } : {}),
    ...(addon.sha256Blocks ? { sha256Blocks: addon.sha256Blocks } : {}),
    ...(addon.mikeyPrfSha256 ? { mikeyPrfSha256: addon.mikeyPrfSha256 } : {}),
    g1Generator: () => g1Gen.slice(),
    g2Generator: () => g2Gen.slice(),

    g1Encode: (point, form) =>
      call(() => run(Op.G1Encode, [point, checkForm(form) ? FORM_COMPRESSED : FORM_UNCOMPRESSED])),
    g2Encode: (point, form) =>
      call(() => run(Op.G2Encode, [point, checkForm(form) ? FORM_COMPRESSED : FORM_UNCOMPRESSED])),
    gtValidate: (value) => op<void>(Op.GtValidate, value),

    g1Mul: (point, k) => op(Op.G1Mul, point, k),
    g2Mul: (point, k) => op(Op.G2Mul, point, k),
    g1Add: (a, b) => op(Op.G1Add, a, b),
    g2Add: (a, b) => op(Op.G2Add, a, b),
    pairing: (p1, p2) => op(Op.Pairing, p1, p2),
    millerLoop: (p1, p2) => op(Op.MillerLoop, p1, p2),
    multiPairing: (pairs) => call(() => run(Op.MultiPairing, checkPairs(pairs).flat())),
    finalExp: (f) => op(Op.FinalExp, f),
    gtMul: (a, b) => op(Op.GtMul, a, b),
    gtPow: (a, k) => op(Op.GtPow, a, k),

    hashToG2: (msg, dst) => call(() => run(Op.HashToG2, [msg, dstArg(dst)])),
    hashToG1: (msg, dst) => call(() => run(Op.HashToG1, [msg, dstArg(dst)])),

    g1FixedBase: async (point) => {
      const h = await op<NativeHandle>(Op.G1FixedBase, point);
      const table: G1Table = {
        point: h.key,
        mul: (k: Scalar, form?: 'compressed' | 'uncompressed') =>
          call<Bytes>(() => hrun(h, checkForm(form) ? Op.TableG1Mul : Op.TableG1MulUncompressed, [k])),
        free: () => h.free(),
      };
      return Object.freeze(table);
    },
    g2Prepare: async (point) => {
      const h = await op<NativeHandle>(Op.G2Prepare, point);
      const prepared: G2Prepared = {
        point: h.key,
        pairing: (p1: Bytes) => handleOp(h, Op.PreparedPairing, p1),
        millerLoop: (p1: Bytes) => handleOp(h, Op.PreparedMiller, p1),
        // Released and wiped at once in native memory (the lines and the point they came
        // from); `point` stays readable (the engine contract; a context falls back on it).
        free: () => h.free(),
      };
      handles.set(prepared, h);
      return Object.freeze(prepared);
    },
    gtFixedBase: async (value) => {
      const h = await op<NativeHandle>(Op.GtFixedBase, value);
      const table: GTTable = {
        value: h.key,
        pow: (k: Scalar) => handleOp(h, Op.TableGtPow, k),
        free: () => h.free(),
      };
      handles.set(table, h);
      return Object.freeze(table);
    },
  };
  return Object.freeze(engine);
}
