// Rejection of malformed and hostile inputs, on every available engine backend: each G1, G2,
// GT and scalar case of test/fixtures/engine-bad-inputs.ts must be refused by every operation
// that takes that kind of argument, with the same EngineError reason everywhere (the first
// failing check in the contract's order). Also: DST and form arguments, freed handles.
import { describe, expect, it } from 'vitest';
import { availableEngines } from './helpers/engines.js';
import { engineReason } from './helpers/outcome.js';
import { type EngineErrorReason } from '../src/engine/errors.js';
import { bigintToBytes } from '../src/engine/scalar.js';
import { gtOneEncoding } from '../src/engine/encoding.js';
import type { Engine } from '../src/engine/types.js';
import { badFp12, badG1, badG2, badGt, badScalars, type BadCase } from './fixtures/engine-bad-inputs.js';

const engines = await availableEngines();
const G1_CASES = badG1();
const G2_CASES = badG2();
const SCALARS = badScalars();
const k7 = bigintToBytes(7n, 32);

async function expectAll(op: string, cases: readonly BadCase[], call: (b: any) => Promise<unknown>): Promise<void> {
  const got: string[] = [];
  const want: string[] = [];
  for (const c of cases) {
    got.push(`${op}: ${c.name} -> ${await engineReason(() => call(c.bytes))}`);
    want.push(`${op}: ${c.name} -> ${c.reason}`);
  }
  expect(got).toEqual(want);
}

describe.each(engines.map((e) => [e.name, e] as [string, Engine]))('%s engine: rejections', (_name, engine) => {
  const g1 = engine.g1Generator();
  const g2 = engine.g2Generator();
  let gt: Uint8Array;
  const getGt = async () => (gt ??= await engine.pairing(g1, g2));

  it('G1 inputs: g1Encode (both forms), g1Mul, g1Add (either side)', async () => {
    await expectAll('g1Encode', G1_CASES, (b) => engine.g1Encode(b));
    await expectAll('g1Encode/u', G1_CASES, (b) => engine.g1Encode(b, 'uncompressed'));
    await expectAll('g1Mul', G1_CASES, (b) => engine.g1Mul(b, k7));
    await expectAll('g1Add a', G1_CASES, (b) => engine.g1Add(b, g1));
    await expectAll('g1Add b', G1_CASES, (b) => engine.g1Add(g1, b));
  });

  it('G1 inputs: pairing, millerLoop, g1FixedBase, G2Prepared', async () => {
    await expectAll('pairing', G1_CASES, (b) => engine.pairing(b, g2));
    await expectAll('millerLoop', G1_CASES, (b) => engine.millerLoop(b, g2));
    await expectAll('g1FixedBase', G1_CASES, (b) => engine.g1FixedBase(b));
    const prep = await engine.g2Prepare(g2);
    await expectAll('prep.pairing', G1_CASES, (b) => prep.pairing(b));
    await expectAll('prep.millerLoop', G1_CASES, (b) => prep.millerLoop(b));
    prep.free();
  });

  it('G2 inputs: g2Encode (both forms), g2Mul, g2Add (either side)', async () => {
    await expectAll('g2Encode', G2_CASES, (b) => engine.g2Encode(b));
    await expectAll('g2Encode/u', G2_CASES, (b) => engine.g2Encode(b, 'uncompressed'));
    await expectAll('g2Mul', G2_CASES, (b) => engine.g2Mul(b, k7));
    await expectAll('g2Add a', G2_CASES, (b) => engine.g2Add(b, g2));
    await expectAll('g2Add b', G2_CASES, (b) => engine.g2Add(g2, b));
  });

  it('G2 inputs: pairing, millerLoop, g2Prepare', async () => {
    await expectAll('pairing', G2_CASES, (b) => engine.pairing(g1, b));
    await expectAll('millerLoop', G2_CASES, (b) => engine.millerLoop(g1, b));
    await expectAll('g2Prepare', G2_CASES, (b) => engine.g2Prepare(b));
  });

  it('scalars: g1Mul, g2Mul, gtPow, G1Table.mul, GTTable.pow', async () => {
    const t1 = await engine.g1FixedBase(g1);
    const tt = await engine.gtFixedBase(await getGt());
    await expectAll('g1Mul', SCALARS, (k) => engine.g1Mul(g1, k));
    await expectAll('g2Mul', SCALARS, (k) => engine.g2Mul(g2, k));
    await expectAll('gtPow', SCALARS, (k) => engine.gtPow(gt, k));
    await expectAll('g1Table.mul', SCALARS, (k) => t1.mul(k));
    await expectAll('gtTable.pow', SCALARS, (k) => tt.pow(k));
    t1.free();
    tt.free();
  });

  it('GT inputs: gtValidate, gtMul (either side), gtPow, gtFixedBase; Fp12 inputs: finalExp', async () => {
    const v = await getGt();
    const cases = badGt(v);
    await expectAll('gtValidate', cases, (b) => engine.gtValidate(b));
    await expectAll('gtMul a', cases, (b) => engine.gtMul(b, v));
    await expectAll('gtMul b', cases, (b) => engine.gtMul(v, b));
    await expectAll('gtPow', cases, (b) => engine.gtPow(b, k7));
    await expectAll('gtFixedBase', cases, (b) => engine.gtFixedBase(b));
    await expectAll('finalExp', badFp12(v), (b) => engine.finalExp(b));
    // the GT identity: a cyclotomic element, so the operations take it, but gtValidate refuses it
    expect(await engineReason(() => engine.gtValidate(gtOneEncoding()))).toBe('identity');
    expect(Buffer.from(await engine.gtPow(gtOneEncoding(), k7)).equals(Buffer.from(gtOneEncoding()))).toBe(true);
    // a Miller-loop value is a non-zero Fp12 (finalExp takes it) but not in GT
    const ml = await engine.millerLoop(g1, g2);
    expect(await engineReason(() => engine.gtValidate(ml))).toBe('not-in-subgroup');
    expect(await engineReason(() => engine.gtPow(ml, k7))).toBe('not-in-subgroup');
  });

  it('hashToG1 / hashToG2: DST of 0 or 256 octets, wrong argument types', async () => {
    const msg = new Uint8Array([1, 2, 3]);
    const cases: [string, () => Promise<unknown>, EngineErrorReason | 'accepted'][] = [];
    for (const [n, h] of [
      ['hashToG1', engine.hashToG1.bind(engine)],
      ['hashToG2', engine.hashToG2.bind(engine)],
    ] as const) {
      cases.push(
        [`${n} empty DST string`, () => h(msg, ''), 'length'],
        [`${n} empty DST octets`, () => h(msg, new Uint8Array(0)), 'length'],
        [`${n} 256-octet DST`, () => h(msg, new Uint8Array(256).fill(0x41)), 'length'],
        [`${n} 256-octet DST string`, () => h(msg, 'A'.repeat(256)), 'length'],
        [`${n} 255-octet DST`, () => h(msg, 'A'.repeat(255)), 'accepted'],
        [`${n} 1-octet DST`, () => h(msg, 'A'), 'accepted'],
        [`${n} DST number`, () => h(msg, 7 as any), 'type'],
        [`${n} message string`, () => h('abc' as any, 'DST'), 'type'],
        [`${n} empty message`, () => h(new Uint8Array(0), 'DST'), 'accepted'],
      );
    }
    const got: string[] = [];
    for (const [name, call] of cases) got.push(`${name} -> ${await engineReason(call)}`);
    expect(got).toEqual(cases.map(([name, , r]) => `${name} -> ${r}`));
  });

  it("g1Encode/g2Encode: a form other than 'compressed'/'uncompressed' is a type error", async () => {
    expect(await engineReason(() => engine.g1Encode(g1, 'raw' as any))).toBe('type');
    expect(await engineReason(() => engine.g2Encode(g2, 'raw' as any))).toBe('type');
  });

  it('handles: free() is idempotent; any later use rejects with freed', async () => {
    const t1 = await engine.g1FixedBase(g1);
    const prep = await engine.g2Prepare(g2);
    const tt = await engine.gtFixedBase(await getGt());
    // used before free: fine
    expect((await t1.mul(k7)).length).toBe(48);
    t1.free();
    t1.free();
    prep.free();
    prep.free();
    tt.free();
    tt.free();
    expect(await engineReason(() => t1.mul(k7))).toBe('freed');
    expect(await engineReason(() => prep.pairing(g1))).toBe('freed');
    expect(await engineReason(() => prep.millerLoop(g1))).toBe('freed');
    expect(await engineReason(() => tt.pow(k7))).toBe('freed');
    // freed wins over a bad argument: the handle is gone whatever the argument
    expect(await engineReason(() => t1.mul(new Uint8Array(3)))).toBe('freed');
    expect(await engineReason(() => tt.pow(new Uint8Array(3)))).toBe('freed');
    // the point/value properties stay readable
    expect(Buffer.from(t1.point).equals(Buffer.from(g1))).toBe(true);
    expect(Buffer.from(prep.point).equals(Buffer.from(g2))).toBe(true);
  });
});
