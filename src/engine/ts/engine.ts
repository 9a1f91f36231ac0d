// The pure-TypeScript engine backend (DESIGN §4 "ts"): the Engine contract of ../types.ts on
// @noble/curves 2.4.0. It is the reference the wasm and native backends are tested against.
// Every input is validated (../encoding.ts byte checks, then ./points.ts / ./gt.ts group
// checks); every output is compressed (G1/G2) or the 576-octet tower layout (GT).
// Faster than plain noble where it matters: G1/G2 multiplication with GLV/GLS (./endo.ts), GT
// exponentiation with the Frobenius split and cyclotomic squaring (./gt.ts), fixed-base GT
// tables (./gt.ts), fixed-base G1 tables (noble's cached-window constant-time multiply, window
// 8), prepared G2 lines (noble's calcPairingPrecomputes + millerLoopBatch, which is exactly what
// its pairing runs, so prepared = plain bit for bit).
// All work runs synchronously on the calling thread; methods are async only to honour the
// contract (errors surface as rejected promises).
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { EngineError } from '../errors.js';
import { checkDst, checkForm, checkMessage, checkPairs } from '../encoding.js';
import { checkScalar } from '../scalar.js';
import type { Bytes, Engine, G1Table, G2Prepared, GTTable, Scalar } from '../types.js';
import {
  decodeFp12,
  decodeGtCyclotomic,
  decodeGtFull,
  encodeGt,
  gtPowSplit,
  GtFixedTable,
} from './gt.js';
import { g1MulGlv, g2MulGls } from './endo.js';
import { decodeG1, decodeG2, encodeG1Point, encodeG2Point, G1, G2, type G1Point } from './points.js';
import { asPromise } from '../../util/as-promise.js';

const F12 = bls12_381.fields.Fp12;
const { millerLoopBatch, utils } = bls12_381;
type Lines = ReturnType<typeof utils.calcPairingPrecomputes>;

/**
 * Miller loop of validated points: exactly what noble's pairing(P, Q, false) computes
 * (calcPairingPrecomputes + millerLoopBatch), without its second round of point validation.
 */
function miller(p: G1Point, lines: Lines): ReturnType<typeof millerLoopBatch> {
  const { x, y } = p.toAffine();
  return millerLoopBatch([[lines, x, y]]);
}


function freedError(kind: string): EngineError {
  return new EngineError('freed', `${kind} used after free()`);
}

const G1_GEN = encodeG1Point(G1.BASE);
const G2_GEN = encodeG2Point(G2.BASE);
/** Window of noble's cached wNAF table behind g1FixedBase. */
const G1_TABLE_WINDOW = 8;

export function createTsEngine(): Engine {
  const engine: Engine = {
    name: 'ts',

    g1Generator: () => G1_GEN.slice(),
    g2Generator: () => G2_GEN.slice(),

    g1Encode: (point, form) =>
      asPromise(() => {
        const compressed = checkForm(form);
        return encodeG1Point(decodeG1(point), compressed);
      }),
    g2Encode: (point, form) =>
      asPromise(() => {
        const compressed = checkForm(form);
        return encodeG2Point(decodeG2(point), compressed);
      }),
    gtValidate: (value) =>
      asPromise(() => {
        decodeGtFull(value);
      }),

    g1Mul: (point, k) =>
      asPromise(() => {
        const p = decodeG1(point);
        return encodeG1Point(g1MulGlv(p, checkScalar(k)));
      }),
    g2Mul: (point, k) =>
      asPromise(() => {
        const p = decodeG2(point);
        return encodeG2Point(g2MulGls(p, checkScalar(k)));
      }),
    g1Add: (a, b) =>
      asPromise(() => {
        const pa = decodeG1(a, 'G1 point a');
        const pb = decodeG1(b, 'G1 point b');
        return encodeG1Point(pa.add(pb));
      }),
    g2Add: (a, b) =>
      asPromise(() => {
        const pa = decodeG2(a, 'G2 point a');
        const pb = decodeG2(b, 'G2 point b');
        return encodeG2Point(pa.add(pb));
      }),

    pairing: (p1, p2) =>
      asPromise(() => {
        const a = decodeG1(p1);
        const b = decodeG2(p2);
        return encodeGt(F12.finalExponentiate(miller(a, utils.calcPairingPrecomputes(b))));
      }),
    millerLoop: (p1, p2) =>
      asPromise(() => {
        const a = decodeG1(p1);
        const b = decodeG2(p2);
        return encodeGt(miller(a, utils.calcPairingPrecomputes(b)));
      }),
    multiPairing: (pairs) =>
      asPromise(() => {
        // All points first (in order, so the first bad one names the error), then one batch
        // Miller loop (noble multiplies the pairs' lines into one accumulator) and one final
        // exponentiation.
        const batch = checkPairs(pairs).map(([p1, p2]) => {
          const { x, y } = decodeG1(p1).toAffine();
          return [utils.calcPairingPrecomputes(decodeG2(p2)), x, y] as Parameters<typeof millerLoopBatch>[0][number];
        });
        return encodeGt(F12.finalExponentiate(millerLoopBatch(batch)));
      }),
    finalExp: (f) => asPromise(() => encodeGt(F12.finalExponentiate(decodeFp12(f)))),
    gtMul: (a, b) =>
      asPromise(() => {
        const fa = decodeGtCyclotomic(a, 'GT value a');
        const fb = decodeGtCyclotomic(b, 'GT value b');
        return encodeGt(F12.mul(fa, fb));
      }),
    gtPow: (a, k) =>
      asPromise(() => {
        const f = decodeGtCyclotomic(a);
        return encodeGt(gtPowSplit(f, checkScalar(k)));
      }),

    hashToG2: (msg, dst) =>
      asPromise(() => {
        const m = checkMessage(msg);
        const d = checkDst(dst);
        return encodeG2Point(bls12_381.G2.hashToCurve(m, { DST: d }));
      }),
    hashToG1: (msg, dst) =>
      asPromise(() => {
        const m = checkMessage(msg);
        const d = checkDst(dst);
        return encodeG1Point(bls12_381.G1.hashToCurve(m, { DST: d }));
      }),

    g1FixedBase: (point) =>
      asPromise((): G1Table => {
        // A fresh point object owns its own cached table (noble keys tables by object).
        let base: typeof G1.BASE | undefined = G1.fromAffine(decodeG1(point).toAffine());
        base.precompute(G1_TABLE_WINDOW, false);
        const bytes = encodeG1Point(base);
        return {
          point: bytes,
          mul: (k: Scalar, form?: 'compressed' | 'uncompressed') =>
            asPromise(() => {
              const compressed = checkForm(form);
              if (!base) throw freedError('G1 table');
              return encodeG1Point(base.multiply(checkScalar(k)), compressed);
            }),
          free: () => {
            base = undefined;
          },
        };
      }),

    g2Prepare: (point) =>
      asPromise((): G2Prepared => {
        const q = decodeG2(point);
        let lines: Lines | undefined = utils.calcPairingPrecomputes(q);
        const bytes = encodeG2Point(q);
        const loop = (p1: Bytes): ReturnType<typeof millerLoopBatch> => {
          if (!lines) throw freedError('G2 prepared point');
          return miller(decodeG1(p1), lines);
        };
        return {
          point: bytes,
          pairing: (p1: Bytes) => asPromise(() => encodeGt(F12.finalExponentiate(loop(p1)))),
          millerLoop: (p1: Bytes) => asPromise(() => encodeGt(loop(p1))),
          free: () => {
            lines = undefined;
          },
        };
      }),

    gtFixedBase: (value) =>
      asPromise((): GTTable => {
        const g = decodeGtCyclotomic(value);
        const table = new GtFixedTable(g);
        const bytes = encodeGt(g);
        return {
          value: bytes,
          pow: (k: Scalar) =>
            asPromise(() => {
              if (table.freed) throw freedError('GT table');
              return encodeGt(table.pow(checkScalar(k)));
            }),
          free: () => table.free(),
        };
      }),
  };
  return Object.freeze(engine);
}

/** Async loader, symmetric with the wasm/native loaders (the ts backend always loads). */
export function loadTsEngine(): Promise<Engine> {
  return Promise.resolve(createTsEngine());
}
