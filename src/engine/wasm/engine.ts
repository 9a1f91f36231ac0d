// The wasm engine backend (DESIGN §4 "wasm"): the Engine contract of ../types.ts on mcl-wasm
// (herumi/mcl compiled to WebAssembly), bit-identical to the ts backend and with the same
// EngineError reasons in the same validation order (first argument first, points before
// scalars, freed handles before their arguments).
//
// Each call runs synchronously inside one wasm stack frame (./mcl.ts Frame): inputs are copied
// in, validated, computed on, encoded out, and the frame's secret slots (scalars) are zeroed.
// G1/G2 multiplications use mcl's mulCT (fixed operation sequence); GT pow uses mcl's GLV pow
// (variable time). The wasm tier is not side-channel hardened; see tables.ts.
import { EngineError } from '../errors.js';
import { checkDst, checkForm, checkMessage, checkPairs } from '../encoding.js';
import { checkScalar } from '../scalar.js';
import type { Bytes, Engine, G1Table, G2Prepared, GTTable, Scalar } from '../types.js';
import { G1_SIZE, G2_SIZE, GT_SIZE, withFrame, type Frame, type McLRaw } from './mcl.js';
import { loadG1, loadG2, loadScalar, storeG1, storeG2 } from './points.js';
import { loadFp12, loadGtCyclotomic, loadGtFull, storeGt } from './gt.js';
import { G1FixedTable, GtFixedTable } from './tables.js';
import { WasmBuffer } from './handles.js';
import { asPromise } from '../../util/as-promise.js';


const G1_GENERATOR = Uint8Array.from(
  Buffer.from(
    '97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb',
    'hex',
  ),
);
const G2_GENERATOR = Uint8Array.from(
  Buffer.from(
    '93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e' +
      '024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8',
    'hex',
  ),
);

export function createWasmEngine(m: McLRaw): Engine {
  const frame = <T>(fn: (f: Frame) => T): Promise<T> => asPromise(() => withFrame(m, fn));

  const hash = (group: 1 | 2, msg: unknown, dst: unknown): Promise<Bytes> =>
    frame((f) => {
      const mb = checkMessage(msg);
      const db = checkDst(dst);
      const mp = f.put(mb);
      const dp = f.put(db);
      if (group === 1) {
        const p = f.alloc(G1_SIZE);
        if (m._mclBnG1_hashAndMapToWithDst(p, mp, mb.length, dp, db.length) !== 0) throw new Error('mcl hash to G1 failed');
        return storeG1(m, f, p);
      }
      const p = f.alloc(G2_SIZE);
      if (m._mclBnG2_hashAndMapToWithDst(p, mp, mb.length, dp, db.length) !== 0) throw new Error('mcl hash to G2 failed');
      return storeG2(m, f, p);
    });

  const engine: Engine = {
    name: 'wasm',

    g1Generator: () => G1_GENERATOR.slice(),
    g2Generator: () => G2_GENERATOR.slice(),

    g1Encode: (point, form) =>
      frame((f) => {
        const compressed = checkForm(form);
        return storeG1(m, f, loadG1(m, f, point), compressed);
      }),
    g2Encode: (point, form) =>
      frame((f) => {
        const compressed = checkForm(form);
        return storeG2(m, f, loadG2(m, f, point), compressed);
      }),
    gtValidate: (value) =>
      frame((f) => {
        loadGtFull(m, f, value);
      }),

    g1Mul: (point, k) =>
      frame((f) => {
        const p = loadG1(m, f, point);
        const fr = loadScalar(m, f, k);
        const out = f.allocSecret(G1_SIZE);
        m._mclBnG1_mulCT(out, p, fr);
        return storeG1(m, f, out);
      }),
    g2Mul: (point, k) =>
      frame((f) => {
        const p = loadG2(m, f, point);
        const fr = loadScalar(m, f, k);
        const out = f.allocSecret(G2_SIZE);
        m._mclBnG2_mulCT(out, p, fr);
        return storeG2(m, f, out);
      }),
    g1Add: (a, b) =>
      frame((f) => {
        const pa = loadG1(m, f, a, 'G1 point a');
        const pb = loadG1(m, f, b, 'G1 point b');
        const out = f.alloc(G1_SIZE);
        m._mclBnG1_add(out, pa, pb);
        return storeG1(m, f, out);
      }),
    g2Add: (a, b) =>
      frame((f) => {
        const pa = loadG2(m, f, a, 'G2 point a');
        const pb = loadG2(m, f, b, 'G2 point b');
        const out = f.alloc(G2_SIZE);
        m._mclBnG2_add(out, pa, pb);
        return storeG2(m, f, out);
      }),

    pairing: (p1, p2) =>
      frame((f) => {
        const a = loadG1(m, f, p1);
        const b = loadG2(m, f, p2);
        const out = f.alloc(GT_SIZE);
        m._mclBn_pairing(out, a, b);
        return storeGt(m, f, out);
      }),
    millerLoop: (p1, p2) =>
      frame((f) => {
        const a = loadG1(m, f, p1);
        const b = loadG2(m, f, p2);
        const out = f.alloc(GT_SIZE);
        m._mclBn_millerLoop(out, a, b);
        return storeGt(m, f, out);
      }),
    multiPairing: (pairs) =>
      frame((f) => {
        // Every point is loaded (validated) before any Miller loop, in argument order.
        const pts = checkPairs(pairs).map(([p1, p2]) => [loadG1(m, f, p1), loadG2(m, f, p2)] as const);
        const acc = f.alloc(GT_SIZE);
        const ml = f.alloc(GT_SIZE);
        pts.forEach(([a, b], i) => {
          m._mclBn_millerLoop(i === 0 ? acc : ml, a, b);
          if (i > 0) m._mclBnGT_mul(acc, acc, ml);
        });
        m._mclBn_finalExp(acc, acc);
        return storeGt(m, f, acc);
      }),
    finalExp: (x) =>
      frame((f) => {
        const a = loadFp12(m, f, x);
        const out = f.alloc(GT_SIZE);
        m._mclBn_finalExp(out, a);
        return storeGt(m, f, out);
      }),
    gtMul: (a, b) =>
      frame((f) => {
        const fa = loadGtCyclotomic(m, f, a, 'GT value a');
        const fb = loadGtCyclotomic(m, f, b, 'GT value b');
        const out = f.alloc(GT_SIZE);
        m._mclBnGT_mul(out, fa, fb);
        return storeGt(m, f, out);
      }),
    gtPow: (a, k) =>
      frame((f) => {
        const g = loadGtCyclotomic(m, f, a);
        const fr = loadScalar(m, f, k);
        const out = f.allocSecret(GT_SIZE);
        m._mclBnGT_pow(out, g, fr);
        return storeGt(m, f, out);
      }),

    hashToG2: (msg, dst) => hash(2, msg, dst),
    hashToG1: (msg, dst) => hash(1, msg, dst),

    g1FixedBase: (point) =>
      frame((f): G1Table => {
        const p = loadG1(m, f, point);
        const bytes = storeG1(m, f, p);
        const table = new G1FixedTable(m, f, p);
        return {
          point: bytes,
          mul: (k: Scalar, form?: 'compressed' | 'uncompressed') =>
            frame((g) => {
              const compressed = checkForm(form);
              checkFreed(table.freed, 'G1 table');
              checkScalar(k);
              const out = g.allocSecret(G1_SIZE);
              table.mul(out, k);
              return storeG1(m, g, out, compressed);
            }),
          free: () => table.free(),
        };
      }),

    g2Prepare: (point) =>
      frame((f): G2Prepared => {
        const q = loadG2(m, f, point);
        const bytes = storeG2(m, f, q);
        const lines = new WasmBuffer(m, m._mclBn_getUint64NumToPrecompute() * 8, 'G2 prepared point');
        m._mclBn_precomputeG2(lines.ptr, q);
        const loop = (g: Frame, p1: Bytes): number => {
          const qp = lines.ptr; // throws 'freed' before the argument is looked at
          const a = loadG1(m, g, p1);
          const out = g.alloc(GT_SIZE);
          m._mclBn_precomputedMillerLoop(out, a, qp);
          return out;
        };
        return {
          point: bytes,
          pairing: (p1: Bytes) =>
            frame((g) => {
              const ml = loop(g, p1);
              m._mclBn_finalExp(ml, ml);
              return storeGt(m, g, ml);
            }),
          millerLoop: (p1: Bytes) => frame((g) => storeGt(m, g, loop(g, p1))),
          free: () => lines.free(),
        };
      }),

    gtFixedBase: (value) =>
      frame((f): GTTable => {
        const g = loadGtCyclotomic(m, f, value);
        const bytes = storeGt(m, f, g);
        const table = new GtFixedTable(m, f, g);
        return {
          value: bytes,
          pow: (k: Scalar) =>
            frame((h) => {
              checkFreed(table.freed, 'GT table');
              checkScalar(k);
              const out = h.allocSecret(GT_SIZE);
              table.pow(h, out, k);
              return storeGt(m, h, out);
            }),
          free: () => table.free(),
        };
      }),
  };
  return Object.freeze(engine);
}

function checkFreed(freed: boolean, kind: string): void {
  if (freed) throw new EngineError('freed', `${kind} used after free()`);
}
