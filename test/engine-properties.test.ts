// Algebraic properties of every available engine backend, with fast-check (few runs on the slow
// ts backend): bilinearity, additivity in each argument, finalExp ∘ millerLoop = pairing,
// precompute handles = plain operations bit for bit, gtPow against an independent
// square-and-multiply over noble's Fp12, group order, gtValidate on pairings / tampered values /
// cyclotomic elements of the wrong order, and — when several backends are available — the same
// bytes from every backend for the same inputs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { availableEngines } from './helpers/engines.js';
import { engineReason } from './helpers/outcome.js';
import { EngineError } from '../src/engine/errors.js';
import { R, bigintToBytes, bytesToBigint } from '../src/engine/scalar.js';
import { P as FIELD_P, gtOneEncoding } from '../src/engine/encoding.js';
import type { Engine } from '../src/engine/types.js';

const engines = await availableEngines();
const F12 = bls12_381.fields.Fp12;
type Fp12 = ReturnType<typeof F12.fromBigTwelve>;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sc = (v: bigint): Uint8Array => bigintToBytes(v, 32);
const scalarArb = fc.bigInt({ min: 1n, max: R - 1n });
const runs = (e: Engine, fast: number): number => (e.name === 'ts' ? Math.max(2, Math.floor(fast / 4)) : fast);
const seedOpts = (e: Engine, fast: number) => ({ numRuns: runs(e, fast), endOnFailure: true });

/** Test-side decoding of the GT byte layout into noble's Fp12 (tower order, DESIGN §3). */
function toFp12(b: Uint8Array): Fp12 {
  const c: bigint[] = [];
  for (let i = 0; i < 12; i++) c.push(bytesToBigint(b.subarray(i * 48, i * 48 + 48)));
  return F12.fromBigTwelve(c as any);
}
function fromFp12(f: Fp12): Uint8Array {
  const out = new Uint8Array(576);
  let i = 0;
  for (const s of [f.c0, f.c1]) for (const d of [s.c0, s.c1, s.c2]) for (const v of [d.c0, d.c1]) out.set(bigintToBytes(v, 48), 48 * i++);
  return out;
}

describe.each(engines.map((e) => [e.name, e] as [string, Engine]))('%s engine: properties', (_name, e) => {
  const P = e.g1Generator();
  const Q = e.g2Generator();

  it('bilinearity: e(aP, bQ) = e(P, Q)^(ab), inputs in either form', async () => {
    const base = await e.pairing(P, Q);
    await fc.assert(
      fc.asyncProperty(scalarArb, scalarArb, fc.boolean(), async (a, b, unc) => {
        let aP = await e.g1Mul(P, sc(a));
        let bQ = await e.g2Mul(Q, sc(b));
        if (unc) {
          aP = await e.g1Encode(aP, 'uncompressed');
          bQ = await e.g2Encode(bQ, 'uncompressed');
        }
        const lhs = await e.pairing(aP, bQ);
        // a, b in [1, r-1] and r prime: ab mod r is never 0
        expect(hex(lhs)).toBe(hex(await e.gtPow(base, sc((a * b) % R))));
        // and e(aP, Q)^b as well
        expect(hex(await e.gtPow(await e.pairing(aP, Q), sc(b)))).toBe(hex(lhs));
      }),
      seedOpts(e, 8),
    );
  });

  it('additivity: e(P1 + P2, Q) = e(P1, Q)·e(P2, Q) and e(P, Q1 + Q2) = e(P, Q1)·e(P, Q2)', async () => {
    await fc.assert(
      fc.asyncProperty(scalarArb, scalarArb, async (a, b) => {
        // a + b = r makes P1 + P2 the identity, which pairing() rightly rejects (fast-check's
        // bigint generator favours such edge values): not an instance of the property.
        fc.pre((a + b) % R !== 0n);
        const P1 = await e.g1Mul(P, sc(a));
        const P2 = await e.g1Mul(P, sc(b));
        const Q1 = await e.g2Mul(Q, sc(b));
        const Q2 = await e.g2Mul(Q, sc(a));
        const l1 = await e.pairing(await e.g1Add(P1, P2), Q1);
        expect(hex(l1)).toBe(hex(await e.gtMul(await e.pairing(P1, Q1), await e.pairing(P2, Q1))));
        const l2 = await e.pairing(P1, await e.g2Add(Q1, Q2));
        expect(hex(l2)).toBe(hex(await e.gtMul(await e.pairing(P1, Q1), await e.pairing(P1, Q2))));
      }),
      seedOpts(e, 6),
    );
  });

  it('scalar multiplication: (a + b)X = aX + bX in G1 and G2; [r-1]X + X is the identity', async () => {
    await fc.assert(
      fc.asyncProperty(scalarArb, scalarArb, async (a, b) => {
        fc.pre((a + b) % R !== 0n);
        const s = (a + b) % R;
        expect(hex(await e.g1Mul(P, sc(s)))).toBe(hex(await e.g1Add(await e.g1Mul(P, sc(a)), await e.g1Mul(P, sc(b)))));
        expect(hex(await e.g2Mul(Q, sc(s)))).toBe(hex(await e.g2Add(await e.g2Mul(Q, sc(a)), await e.g2Mul(Q, sc(b)))));
      }),
      seedOpts(e, 8),
    );
    const infG1 = new Uint8Array(48);
    infG1[0] = 0xc0;
    const infG2 = new Uint8Array(96);
    infG2[0] = 0xc0;
    expect(hex(await e.g1Add(await e.g1Mul(P, sc(R - 1n)), P))).toBe(hex(infG1));
    expect(hex(await e.g2Add(await e.g2Mul(Q, sc(R - 1n)), Q))).toBe(hex(infG2));
  });

  it('decode → re-encode is byte-identical in both forms', async () => {
    await fc.assert(
      fc.asyncProperty(scalarArb, async (a) => {
        const aP = await e.g1Mul(P, sc(a));
        const aQ = await e.g2Mul(Q, sc(a));
        const aPu = await e.g1Encode(aP, 'uncompressed');
        const aQu = await e.g2Encode(aQ, 'uncompressed');
        expect(hex(await e.g1Encode(aP))).toBe(hex(aP));
        expect(hex(await e.g1Encode(aPu))).toBe(hex(aP));
        expect(hex(await e.g1Encode(aPu, 'uncompressed'))).toBe(hex(aPu));
        expect(hex(await e.g2Encode(aQ))).toBe(hex(aQ));
        expect(hex(await e.g2Encode(aQu))).toBe(hex(aQ));
        expect(hex(await e.g2Encode(aQu, 'uncompressed'))).toBe(hex(aQu));
      }),
      seedOpts(e, 8),
    );
  });

  it('subgroup check agrees with [r]X = O on random curve points, in and out of the subgroup', async () => {
    const { Fp, Fp2: F2 } = bls12_381.fields;
    const timesRIsZero = <T extends { multiplyUnsafe(k: bigint): T; add(o: T): T; is0(): boolean }>(q: T) =>
      q.multiplyUnsafe(R - 1n).add(q).is0();
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 1n, max: FIELD_P - 1n }), fc.bigInt({ min: 0n, max: FIELD_P - 1n }), async (x0, x1) => {
        // G1: first x >= x0 on the curve
        let x = x0;
        let y: bigint | undefined;
        for (; ; x = (x + 1n) % FIELD_P) {
          const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), 4n);
          try {
            y = Fp.sqrt(rhs);
            if (Fp.eql(Fp.sqr(y), rhs)) break;
          } catch {
            /* not a square: next x */
          }
        }
        const pt = bls12_381.G1.Point.fromAffine({ x, y: y! });
        for (const q of [pt, pt.clearCofactor()]) {
          if (q.is0()) continue;
          const a = q.toAffine();
          const bytes = new Uint8Array(96);
          bytes.set(bigintToBytes(a.x, 48), 0);
          bytes.set(bigintToBytes(a.y, 48), 48);
          expect(await engineReason(e.g1Encode(bytes))).toBe(timesRIsZero(q) ? 'accepted' : 'not-in-subgroup');
        }
        // G2: first x = (x0 + i, x1) on the twist
        let X = F2.fromBigTuple([x0, x1]);
        let Y: typeof X | undefined;
        for (; ; X = F2.add(X, F2.ONE)) {
          const rhs = F2.add(F2.mul(F2.sqr(X), X), F2.fromBigTuple([4n, 4n]));
          try {
            Y = F2.sqrt(rhs);
            if (F2.eql(F2.sqr(Y), rhs)) break;
          } catch {
            /* not a square: next x */
          }
        }
        const pt2 = bls12_381.G2.Point.fromAffine({ x: X, y: Y! });
        for (const q of [pt2, pt2.clearCofactor()]) {
          if (q.is0()) continue;
          const a = q.toAffine();
          const bytes = new Uint8Array(192);
          bytes.set(bigintToBytes(a.x.c1, 48), 0);
          bytes.set(bigintToBytes(a.x.c0, 48), 48);
          bytes.set(bigintToBytes(a.y.c1, 48), 96);
          bytes.set(bigintToBytes(a.y.c0, 48), 144);
          expect(await engineReason(e.g2Encode(bytes))).toBe(timesRIsZero(q) ? 'accepted' : 'not-in-subgroup');
        }
      }),
      seedOpts(e, 8),
    );
  });

  it('inputs: views at an offset and Buffers work; inputs are read at call time; concurrent calls agree', async () => {
    const a = 0x0123456789abcdef0123456789abcdefn;
    const aP = await e.g1Mul(P, sc(a));
    const aQ = await e.g2Mul(Q, sc(a));
    const g = await e.pairing(aP, Q);
    // a view into a larger buffer, at an odd offset, with junk around it
    const view = (b: Uint8Array): Uint8Array => {
      const big = new Uint8Array(b.length + 7).fill(0xa5);
      big.set(b, 3);
      return big.subarray(3, 3 + b.length);
    };
    expect(hex(await e.g1Mul(view(P), view(sc(a))))).toBe(hex(aP));
    expect(hex(await e.g2Mul(view(Q), view(sc(a))))).toBe(hex(aQ));
    expect(hex(await e.pairing(view(aP), view(Q)))).toBe(hex(g));
    expect(hex(await e.gtPow(view(g), view(sc(3n))))).toBe(hex(await e.gtPow(g, sc(3n))));
    expect(hex(await e.hashToG2(view(new Uint8Array([1, 2, 3])), view(new TextEncoder().encode('DST-A'))))).toBe(
      hex(await e.hashToG2(new Uint8Array([1, 2, 3]), 'DST-A')),
    );
    expect(hex(await e.g1Mul(Buffer.from(P), Buffer.from(sc(a))))).toBe(hex(aP));
    // the caller may reuse its buffers as soon as the call returned its promise
    const p1 = Uint8Array.from(P);
    const k1 = sc(a);
    const pending = e.g1Mul(p1, k1);
    p1.fill(0);
    k1.fill(0xff);
    expect(hex(await pending)).toBe(hex(aP));
    const q1 = Uint8Array.from(aQ);
    const pendingPair = e.pairing(aP, q1);
    q1.fill(0);
    expect(hex(await pendingPair)).toBe(hex(await e.pairing(aP, aQ)));
    // concurrent calls give the sequential results
    const ks = [2n, 3n, 5n, 7n, 11n, 13n];
    const seq: string[] = [];
    for (const k of ks) seq.push(hex(await e.pairing(await e.g1Mul(P, sc(k)), Q)));
    const par = await Promise.all(ks.map(async (k) => hex(await e.pairing(await e.g1Mul(P, sc(k)), Q))));
    expect(par).toEqual(seq);
    // results are fresh arrays the caller owns
    const r1 = await e.g1Mul(P, sc(a));
    r1.fill(0);
    expect(hex(await e.g1Mul(P, sc(a)))).toBe(hex(aP));
    const gen = e.g1Generator();
    gen.fill(0);
    expect(hex(e.g1Generator())).toBe(hex(P));
  });

  it('finalExp(millerLoop(P, Q)) = pairing(P, Q)', async () => {
    await fc.assert(
      fc.asyncProperty(scalarArb, scalarArb, async (a, b) => {
        const aP = await e.g1Mul(P, sc(a));
        const bQ = await e.g2Mul(Q, sc(b));
        expect(hex(await e.finalExp(await e.millerLoop(aP, bQ)))).toBe(hex(await e.pairing(aP, bQ)));
      }),
      seedOpts(e, 6),
    );
  });

  it('precompute handles equal the plain operations bit for bit', async () => {
    await fc.assert(
      fc.asyncProperty(scalarArb, scalarArb, scalarArb, async (a, b, k) => {
        const B = await e.g1Mul(P, sc(a));
        const S = await e.g2Mul(Q, sc(b));
        const g = await e.pairing(B, S);
        const t1 = await e.g1FixedBase(B);
        const prep = await e.g2Prepare(await e.g2Encode(S, 'uncompressed'));
        const tt = await e.gtFixedBase(g);
        try {
          expect(hex(t1.point)).toBe(hex(B));
          expect(hex(prep.point)).toBe(hex(S));
          expect(hex(tt.value)).toBe(hex(g));
          expect(hex(await t1.mul(sc(k)))).toBe(hex(await e.g1Mul(B, sc(k))));
          const U = await e.g1Mul(P, sc(k));
          expect(hex(await prep.pairing(U))).toBe(hex(await e.pairing(U, S)));
          expect(hex(await e.finalExp(await prep.millerLoop(U)))).toBe(hex(await e.pairing(U, S)));
          expect(hex(await tt.pow(sc(k)))).toBe(hex(await e.gtPow(g, sc(k))));
          // edge scalars of the tables
          for (const x of [1n, 2n, R - 1n]) {
            expect(hex(await t1.mul(sc(x)))).toBe(hex(await e.g1Mul(B, sc(x))));
            expect(hex(await tt.pow(sc(x)))).toBe(hex(await e.gtPow(g, sc(x))));
          }
        } finally {
          t1.free();
          prep.free();
          tt.free();
        }
      }),
      seedOpts(e, 4),
    );
  });

  it('gtPow agrees with square-and-multiply over noble Fp12 (independent of any split or window)', async () => {
    const g = await e.pairing(await e.g1Mul(P, sc(12345n)), Q);
    const gf = toFp12(g);
    await fc.assert(
      fc.asyncProperty(scalarArb, async (k) => {
        expect(hex(await e.gtPow(g, sc(k)))).toBe(hex(fromFp12(F12.pow(gf, k))));
      }),
      seedOpts(e, 6),
    );
    for (const k of [1n, 2n, 3n, 0xd201000000010000n, 0xd201000000010001n, R - 1n, R - 2n, (R - 1n) / 2n]) {
      expect(hex(await e.gtPow(g, sc(k))), `k = ${k}`).toBe(hex(fromFp12(F12.pow(gf, k))));
    }
    // g^(r-1) · g = 1: the pairing value has order r
    expect(hex(await e.gtMul(await e.gtPow(g, sc(R - 1n)), g))).toBe(hex(gtOneEncoding()));
  });

  it('gtValidate accepts pairings and rejects tampered values and cyclotomic elements of the wrong order', async () => {
    await fc.assert(
      fc.asyncProperty(scalarArb, fc.integer({ min: 0, max: 11 }), fc.bigInt({ min: 1n, max: FIELD_P - 1n }), async (a, idx, delta) => {
        const g = await e.pairing(await e.g1Mul(P, sc(a)), Q);
        await e.gtValidate(g);
        const bad = Uint8Array.from(g);
        const v = bytesToBigint(bad.subarray(idx * 48, idx * 48 + 48));
        bad.set(bigintToBytes((v + delta) % FIELD_P, 48), idx * 48);
        expect(await engineReason(e.gtValidate(bad))).toBe('not-in-subgroup');
      }),
      seedOpts(e, 8),
    );
    // easy part of the final exponentiation of a random-looking Fp12 value: cyclotomic, but
    // (overwhelmingly likely) not of order r. gtPow takes it (cyclotomic check only);
    // gtValidate must refuse it. Independently: its r-th power is not 1.
    const f = toFp12(await e.millerLoop(P, Q));
    const t0 = F12.div(F12.conjugate(f), f);
    const cyc = F12.mul(F12.frobeniusMap(t0, 2), t0);
    expect(F12.eql(F12.pow(cyc, R), F12.ONE)).toBe(false);
    const cycBytes = fromFp12(cyc);
    expect(await engineReason(e.gtValidate(cycBytes))).toBe('not-in-subgroup');
    expect(await engineReason(e.gtMul(cycBytes, cycBytes))).toBe('accepted');
    // and its image under the hard part is in GT: finalExp(f) = pairing
    await e.gtValidate(await e.finalExp(await e.millerLoop(P, Q)));
  });

  it('hashToG1 / hashToG2 outputs are valid points and deterministic', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), fc.string({ minLength: 1, maxLength: 40 }), async (msg, dst) => {
        fc.pre(new TextEncoder().encode(dst).length <= 255);
        const h2 = await e.hashToG2(msg, dst);
        const h1 = await e.hashToG1(msg, dst);
        expect(hex(await e.g2Encode(h2))).toBe(hex(h2));
        expect(hex(await e.g1Encode(h1))).toBe(hex(h1));
        expect(hex(await e.hashToG2(msg, new TextEncoder().encode(dst)))).toBe(hex(h2));
      }),
      seedOpts(e, 8),
    );
  });
});

describe.runIf(engines.length > 1)('backends against each other', () => {
  it('same inputs, same bytes (g1Mul, g2Mul, pairing, gtPow, hashToG2, hashToG1, tables), cross-fed millerLoop', async () => {
    const [ref, ...others] = engines as [Engine, ...Engine[]];
    await fc.assert(
      fc.asyncProperty(scalarArb, scalarArb, scalarArb, fc.uint8Array({ maxLength: 32 }), async (a, b, k, msg) => {
        const aP = await ref.g1Mul(ref.g1Generator(), sc(a));
        const bQ = await ref.g2Mul(ref.g2Generator(), sc(b));
        const g = await ref.pairing(aP, bQ);
        const gk = await ref.gtPow(g, sc(k));
        const dst = 'IBAKED-ENGINE-TEST-with-BLS12381G2_XMD:SHA-256_SSWU_RO_';
        const h2 = await ref.hashToG2(msg, dst);
        const h1 = await ref.hashToG1(msg, dst);
        const mlRef = await ref.millerLoop(aP, bQ);
        for (const o of others) {
          const where = `${ref.name} vs ${o.name}`;
          expect(hex(o.g1Generator()), where).toBe(hex(ref.g1Generator()));
          expect(hex(o.g2Generator()), where).toBe(hex(ref.g2Generator()));
          expect(hex(await o.g1Mul(o.g1Generator(), sc(a))), where).toBe(hex(aP));
          expect(hex(await o.g2Mul(o.g2Generator(), sc(b))), where).toBe(hex(bQ));
          expect(hex(await o.pairing(aP, bQ)), where).toBe(hex(g));
          expect(hex(await o.gtPow(g, sc(k))), where).toBe(hex(gk));
          expect(hex(await o.hashToG2(msg, dst)), where).toBe(hex(h2));
          expect(hex(await o.hashToG1(msg, dst)), where).toBe(hex(h1));
          expect(hex(await o.finalExp(mlRef)), `${where}: finalExp of ${ref.name}'s Miller loop`).toBe(hex(g));
          expect(hex(await ref.finalExp(await o.millerLoop(aP, bQ))), `${where}: finalExp of ${o.name}'s Miller loop`).toBe(hex(g));
          expect(hex(await o.g1Encode(aP, 'uncompressed')), where).toBe(hex(await ref.g1Encode(aP, 'uncompressed')));
          expect(hex(await o.g2Encode(bQ, 'uncompressed')), where).toBe(hex(await ref.g2Encode(bQ, 'uncompressed')));
          const tt = await o.gtFixedBase(g);
          expect(hex(await tt.pow(sc(k))), where).toBe(hex(gk));
          tt.free();
        }
      }),
      { numRuns: 3, endOnFailure: true },
    );
  });

  it('mutated encodings: every backend gives the same verdict (same bytes or same reason)', async () => {
    const [ref] = engines as [Engine, ...Engine[]];
    const k = sc(0x1234567890abcdefn);
    const seeds: [string, Uint8Array][] = [
      ['g1', await ref.g1Mul(ref.g1Generator(), k)],
      ['g1', await ref.g1Encode(await ref.g1Mul(ref.g1Generator(), k), 'uncompressed')],
      ['g2', await ref.g2Mul(ref.g2Generator(), k)],
      ['g2', await ref.g2Encode(await ref.g2Mul(ref.g2Generator(), k), 'uncompressed')],
      ['gt', await ref.pairing(ref.g1Generator(), ref.g2Generator())],
    ];
    const verdict = async (e: Engine, kind: string, b: Uint8Array): Promise<string> => {
      try {
        if (kind === 'g1') return hex(await e.g1Encode(b, 'uncompressed'));
        if (kind === 'g2') return hex(await e.g2Encode(b, 'uncompressed'));
        await e.gtValidate(b);
        return 'valid';
      } catch (err) {
        return err instanceof EngineError ? err.reason : `not an EngineError: ${String(err)}`;
      }
    };
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ op: fc.constant('set' as const), pos: fc.nat(), val: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('flags' as const), val: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ op: fc.constant('resize' as const), len: fc.integer({ min: -2, max: 2 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: seeds.length - 1 }), mutation, async (si, m) => {
        const [kind, seed] = seeds[si]!;
        let b = Uint8Array.from(seed);
        if (m.op === 'flip') b[m.pos % b.length] ^= 1 << m.bit;
        else if (m.op === 'set') b[m.pos % b.length] = m.val;
        else if (m.op === 'flags') b[0] = (b[0]! & 0x1f) | (m.val << 5);
        else b = m.len >= 0 ? Uint8Array.from([...b, ...new Array(m.len).fill(0)]) : b.subarray(0, b.length + m.len);
        const want = await verdict(ref, kind, b);
        for (const o of engines.slice(1)) expect(await verdict(o, kind, b), `${ref.name} vs ${o.name}`).toBe(want);
      }),
      { numRuns: 150, endOnFailure: true },
    );
  });
});
