// wasm backend internals, checked by algebraic identities that do not depend on the other
// backends: the hand-built Frobenius map (f^(p^12) = f; on GT it is the power p mod r), the
// cyclotomic test, the GT byte-order swap, bilinearity, fixed-base tables against plain
// multiplication, secret wiping of stack frames, and that handles and frames do not leak wasm
// memory.
import { describe, expect, it } from 'vitest';
import { loadWasmEngine } from '../src/engine/wasm/index.js';
import { loadMcl, withFrame, view, GT_SIZE, STACK_SCRUB } from '../src/engine/wasm/mcl.js';
import { frobenius, isCyclotomic, loadFp12, storeGt, swapFp2Halves, hasOrderR } from '../src/engine/wasm/gt.js';
import { loadFrConstant } from '../src/engine/wasm/points.js';
import { P as FIELD_P } from '../src/engine/encoding.js';
import { R, bigintToBytes, bytesToBigint, randomScalar } from '../src/engine/scalar.js';
import { randomBytes } from 'node:crypto';
import { loadTsEngine } from '../src/engine/ts/index.js';

const engine = await loadWasmEngine();
const m = await loadMcl();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const DST = 'IBAKED-WASM-TEST';

function randomFp12(): Uint8Array {
  const out = new Uint8Array(576);
  for (let i = 0; i < 12; i++) out.set(bigintToBytes(bytesToBigint(randomBytes(64)) % FIELD_P, 48), i * 48);
  return out;
}
const mulScalars = (a: Uint8Array, b: Uint8Array): Uint8Array => bigintToBytes((bytesToBigint(a) * bytesToBigint(b)) % R, 32);

describe('wasm GT layout and Frobenius', () => {
  it('swapFp2Halves is an involution that swaps each Fp2 pair', () => {
    const a = randomFp12();
    const s = swapFp2Halves(a);
    expect(hex(swapFp2Halves(s))).toBe(hex(a));
    for (let i = 0; i < 12; i += 2) {
      expect(hex(s.subarray(i * 48, i * 48 + 48))).toBe(hex(a.subarray((i + 1) * 48, (i + 2) * 48)));
    }
  });

  it('frobenius^12 is the identity on random Fp12 values; frobenius^6 is not (generic input)', () => {
    for (let t = 0; t < 20; t++) {
      const x = randomFp12();
      withFrame(m, (f) => {
        const a = loadFp12(m, f, x);
        const b = f.alloc(GT_SIZE);
        const c = f.alloc(GT_SIZE);
        frobenius(m, f, b, a); // b = x^p
        for (let i = 2; i <= 12; i++) {
          // even i: c = x^(p^i); odd i: b = x^(p^i)
          if (i % 2 === 0) frobenius(m, f, c, b);
          else frobenius(m, f, b, c);
          if (i === 6) expect(hex(storeGt(m, f, c))).not.toBe(hex(x)); // x^(p^6) = conjugate ≠ x
        }
        expect(hex(storeGt(m, f, c))).toBe(hex(x));
      });
    }
  });

  it('on GT the Frobenius is the power p mod r (mcl generic pow)', async () => {
    for (let t = 0; t < 10; t++) {
      const g = await engine.pairing(await engine.hashToG1(randomBytes(8), DST), engine.g2Generator());
      withFrame(m, (f) => {
        const a = loadFp12(m, f, g);
        const fr = f.alloc(GT_SIZE);
        const pw = f.alloc(GT_SIZE);
        frobenius(m, f, fr, a);
        m._mclBnGT_powGeneric(pw, a, loadFrConstant(m, f, bigintToBytes(FIELD_P % R, 32)));
        expect(hex(storeGt(m, f, fr))).toBe(hex(storeGt(m, f, pw)));
        expect(isCyclotomic(m, f, a)).toBe(true);
        expect(hasOrderR(m, f, a)).toBe(true);
      });
    }
  });

  it('cyclotomic test: final-exponentiated values pass, random Fp12 values fail', async () => {
    for (let t = 0; t < 20; t++) {
      const x = randomFp12();
      const y = await engine.finalExp(x);
      withFrame(m, (f) => {
        expect(isCyclotomic(m, f, loadFp12(m, f, x))).toBe(false);
        expect(isCyclotomic(m, f, loadFp12(m, f, y))).toBe(true);
      });
      await expect(engine.gtMul(x, y)).rejects.toMatchObject({ reason: 'not-in-subgroup' });
    }
  });
});

describe('wasm algebra', () => {
  it('bilinearity: e([a]P, [b]Q) = e(P, Q)^(ab) = e([ab]P, Q), and gtMul adds exponents', async () => {
    for (let t = 0; t < 10; t++) {
      const p = await engine.hashToG1(randomBytes(16), DST);
      const q = await engine.hashToG2(randomBytes(16), DST);
      const a = randomScalar();
      const b = randomScalar();
      const e = await engine.pairing(p, q);
      const lhs = await engine.pairing(await engine.g1Mul(p, a), await engine.g2Mul(q, b));
      expect(hex(lhs)).toBe(hex(await engine.gtPow(e, mulScalars(a, b))));
      expect(hex(lhs)).toBe(hex(await engine.pairing(await engine.g1Mul(p, mulScalars(a, b)), q)));
      const sum = bigintToBytes((bytesToBigint(a) + bytesToBigint(b)) % R, 32);
      expect(hex(await engine.gtMul(await engine.gtPow(e, a), await engine.gtPow(e, b)))).toBe(hex(await engine.gtPow(e, sum)));
      const ml = await engine.millerLoop(p, q);
      expect(hex(await engine.finalExp(ml))).toBe(hex(e));
    }
  });

  it('fixed-base tables and prepared lines equal the plain operations', async () => {
    const p = await engine.hashToG1(randomBytes(16), DST);
    const q = await engine.hashToG2(randomBytes(16), DST);
    const e = await engine.pairing(p, q);
    const t1 = await engine.g1FixedBase(p);
    const tg = await engine.gtFixedBase(e);
    const pr = await engine.g2Prepare(q);
    expect(hex(t1.point)).toBe(hex(p));
    expect(hex(tg.value)).toBe(hex(e));
    expect(hex(pr.point)).toBe(hex(q));
    const edge = [1n, 2n, 15n, 16n, 17n, R - 1n, 0xd201000000010000n, 0xd201000000010001n, (1n << 128n) - 1n].map((v) => bigintToBytes(v, 32));
    for (const k of [...edge, ...Array.from({ length: 30 }, () => randomScalar())]) {
      expect(hex(await t1.mul(k))).toBe(hex(await engine.g1Mul(p, k)));
      expect(hex(await tg.pow(k))).toBe(hex(await engine.gtPow(e, k)));
    }
    const p2 = await engine.g1Mul(p, randomScalar());
    expect(hex(await pr.pairing(p2))).toBe(hex(await engine.pairing(p2, q)));
    expect(hex(await engine.finalExp(await pr.millerLoop(p2)))).toBe(hex(await engine.pairing(p2, q)));
    t1.free();
    tg.free();
    pr.free();
    await expect(t1.mul(randomScalar())).rejects.toMatchObject({ reason: 'freed' });
    await expect(tg.pow(randomScalar())).rejects.toMatchObject({ reason: 'freed' });
    await expect(pr.pairing(p)).rejects.toMatchObject({ reason: 'freed' });
  });
});

describe('wasm memory hygiene', () => {
  it('secret frame slots are zeroed when the frame ends, even on a throw', () => {
    const secret = randomBytes(32);
    let ptr = 0;
    withFrame(m, (f) => {
      ptr = f.put(secret, true);
      expect(hex(view(m, ptr, 32))).toBe(hex(secret));
    });
    expect(view(m, ptr, 32).every((b) => b === 0)).toBe(true);
    expect(() =>
      withFrame(m, (f) => {
        ptr = f.put(secret, true);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(view(m, ptr, 32).every((b) => b === 0)).toBe(true);
  });

  it("no trace of an operation's temporaries stays on the wasm stack below the frame", async () => {
    const p = await engine.hashToG1(randomBytes(8), DST);
    const q = await engine.hashToG2(randomBytes(8), DST);
    const e = await engine.pairing(p, q);
    const ops: [string, () => Promise<unknown>][] = [
      ['g1Mul', () => engine.g1Mul(p, randomScalar())],
      ['g2Mul', () => engine.g2Mul(q, randomScalar())],
      ['gtPow', () => engine.gtPow(e, randomScalar())],
      ['pairing', () => engine.pairing(p, q)],
      ['rejected scalar', () => engine.g2Mul(q, new Uint8Array(32)).catch(() => undefined)],
    ];
    for (const [name, op] of ops) {
      const sp = m.stackSave();
      view(m, sp - 2 * STACK_SCRUB, 2 * STACK_SCRUB).fill(0xa5);
      await op();
      const below = view(m, sp - STACK_SCRUB, STACK_SCRUB);
      expect(below.every((b) => b === 0), name).toBe(true);
      // (the 0xa5 pattern is gone, so the window really was wiped) and mcl never went deeper
      expect(view(m, sp - 2 * STACK_SCRUB, STACK_SCRUB).every((b) => b === 0xa5), `${name} used > ${STACK_SCRUB} octets of stack`).toBe(true);
    }
  });

  it('long messages (beyond the wasm stack) hash like the ts backend and do not leak', async () => {
    const ts = await loadTsEngine();
    for (const n of [16 * 1024, 16 * 1024 + 1, 2 * 1024 * 1024]) {
      const msg = randomBytes(n);
      expect(hex(await engine.hashToG1(msg, DST)), `${n} octets`).toBe(hex(await ts.hashToG1(msg, DST)));
    }
    const msg = randomBytes(3 * 1024 * 1024);
    await engine.hashToG2(msg, DST);
    const sp = m.stackSave();
    const before = m.HEAP8.buffer.byteLength;
    for (let i = 0; i < 5; i++) await engine.hashToG2(msg, DST);
    expect(m.HEAP8.buffer.byteLength).toBe(before);
    expect(m.stackSave()).toBe(sp);
  });

  it('operations restore the wasm stack; handles free their memory', async () => {
    const sp = m.stackSave();
    const g = engine.g1Generator();
    await engine.g1Mul(g, randomScalar());
    await expect(engine.g1Mul(g, new Uint8Array(32))).rejects.toMatchObject({ reason: 'scalar-range' });
    await expect(engine.pairing(g, new Uint8Array(96))).rejects.toMatchObject({ reason: 'non-canonical' });
    expect(m.stackSave()).toBe(sp);
    // warm up, then many allocate/free cycles must not grow the wasm heap
    for (let i = 0; i < 3; i++) (await engine.g1FixedBase(g)).free();
    const before = m.HEAP8.buffer.byteLength;
    for (let i = 0; i < 40; i++) {
      (await engine.g1FixedBase(g)).free();
      (await engine.g2Prepare(engine.g2Generator())).free();
    }
    expect(m.HEAP8.buffer.byteLength).toBe(before);
  });
});
