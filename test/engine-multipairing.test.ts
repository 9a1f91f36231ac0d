// Engine.multiPairing (Π e(P_i, Q_i) with one final exponentiation) on every backend:
// - equals the product (gtMul) of the single pairings, for 1..4 pairs of random points;
// - bilinearity: e(-P, [k]Q) · e([k]P, Q) is the GT identity (the shape of a signature check);
// - bit-identical across engines on random inputs;
// - every bad G1/G2 case of the shared fixtures is rejected at every position, with the same
//   reason as pairing gives, and the first bad argument in order names the error;
// - the argument's shape: not an array, a pair that is not [G1, G2], 0 or too many pairs.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { availableEngines } from './helpers/engines.js';
import { engineReason } from './helpers/outcome.js';
import { gtOneEncoding } from '../src/engine/encoding.js';
import { R, bigintToBytes, bytesToBigint } from '../src/engine/scalar.js';
import { MULTI_PAIRING_MAX, type Bytes, type Engine } from '../src/engine/types.js';
import { badG1, badG2 } from './fixtures/engine-bad-inputs.js';

const engines = await availableEngines();
const fast = engines[engines.length - 1]!;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const scalar = (): Uint8Array => bigintToBytes((bytesToBigint(randomBytes(48)) % (R - 1n)) + 1n, 32);

/** n random pairs: hashes to curve, some given uncompressed. */
async function randomPairs(n: number): Promise<Array<[Bytes, Bytes]>> {
  const out: Array<[Bytes, Bytes]> = [];
  for (let i = 0; i < n; i++) {
    const p = await fast.hashToG1(randomBytes(16), 'multi-pairing test');
    const q = await fast.hashToG2(randomBytes(16), 'multi-pairing test');
    out.push([i % 2 ? await fast.g1Encode(p, 'uncompressed') : p, i % 3 === 2 ? await fast.g2Encode(q, 'uncompressed') : q]);
  }
  return out;
}

describe.each(engines.map((e) => [e.name, e] as [string, Engine]))('%s engine: multiPairing', (_name, engine) => {
  it('equals the product of the single pairings (1..4 pairs)', async () => {
    for (let n = 1; n <= 4; n++) {
      const pairs = await randomPairs(n);
      let want = await engine.pairing(pairs[0]![0], pairs[0]![1]);
      for (const [p, q] of pairs.slice(1)) want = await engine.gtMul(want, await engine.pairing(p, q));
      expect(hex(await engine.multiPairing(pairs)), `${n} pairs`).toBe(hex(want));
    }
  });

  it('e(-P, [k]Q) · e([k]P, Q) is the GT identity; a wrong k is not', async () => {
    const k = scalar();
    const P = engine.g1Generator();
    const negP = await engine.g1Mul(P, bigintToBytes(R - 1n, 32));
    const Q = await fast.hashToG2(randomBytes(16), 'multi-pairing test');
    const kQ = await engine.g2Mul(Q, k);
    const kP = await engine.g1Mul(P, k);
    expect(hex(await engine.multiPairing([[negP, kQ], [kP, Q]]))).toBe(hex(gtOneEncoding()));
    const k2P = await engine.g1Add(kP, P);
    expect(hex(await engine.multiPairing([[negP, kQ], [k2P, Q]]))).not.toBe(hex(gtOneEncoding()));
  });

  it('takes MULTI_PAIRING_MAX pairs and refuses the shape errors', async () => {
    const [[p, q]] = (await randomPairs(1)) as [[Bytes, Bytes]];
    const many = Array.from({ length: MULTI_PAIRING_MAX }, () => [p, q] as [Bytes, Bytes]);
    const want = await engine.gtPow(await engine.pairing(p, q), bigintToBytes(BigInt(MULTI_PAIRING_MAX), 32));
    expect(hex(await engine.multiPairing(many))).toBe(hex(want));
    const shapes: Array<[string, unknown, string]> = [
      ['no pairs', [], 'length'],
      ['too many pairs', [...many, [p, q]], 'length'],
      ['not an array', { 0: [p, q], length: 1 }, 'type'],
      ['undefined', undefined, 'type'],
      ['a pair of one', [[p]], 'type'],
      ['a pair of three', [[p, q, q]], 'type'],
      ['a pair that is bytes', [p], 'type'],
      ['a string point', [[hex(p), q]], 'type'],
    ];
    const got = [];
    for (const [name, arg, reason] of shapes) {
      got.push(`${name}: ${await engineReason(() => engine.multiPairing(arg as never))} (want ${reason})`);
    }
    expect(got).toEqual(shapes.map(([name, , reason]) => `${name}: ${reason} (want ${reason})`));
  });

  it('rejects every bad point at every position, with pairing’s reason, first bad argument first', async () => {
    const good = await randomPairs(2);
    const got: string[] = [];
    const want: string[] = [];
    for (const c of badG1()) {
      for (const pos of [0, 1]) {
        const pairs = good.map((x) => [...x] as [Bytes, Bytes]);
        pairs[pos]![0] = c.bytes as Bytes;
        got.push(`G1 ${c.name} @${pos}: ${await engineReason(() => engine.multiPairing(pairs))}`);
        want.push(`G1 ${c.name} @${pos}: ${c.reason}`);
      }
    }
    for (const c of badG2()) {
      for (const pos of [0, 1]) {
        const pairs = good.map((x) => [...x] as [Bytes, Bytes]);
        pairs[pos]![1] = c.bytes as Bytes;
        got.push(`G2 ${c.name} @${pos}: ${await engineReason(() => engine.multiPairing(pairs))}`);
        want.push(`G2 ${c.name} @${pos}: ${c.reason}`);
      }
    }
    expect(got).toEqual(want);
    // Order: a bad G2 in pair 0 is reported before a bad G1 in pair 1, and vice versa.
    const g1Bad = badG1().find((c) => c.reason === 'not-on-curve')!;
    const g2Bad = badG2().find((c) => c.reason === 'not-in-subgroup')!;
    expect(await engineReason(() => engine.multiPairing([[good[0]![0], g2Bad.bytes as Bytes], [g1Bad.bytes as Bytes, good[1]![1]]]))).toBe(
      'not-in-subgroup',
    );
    expect(await engineReason(() => engine.multiPairing([[g1Bad.bytes as Bytes, good[0]![1]], [good[1]![0], g2Bad.bytes as Bytes]]))).toBe(
      'not-on-curve',
    );
  });
});

describe(`multiPairing across engines (${engines.map((e) => e.name).join(',')})`, () => {
  it('gives the same bytes on every engine for random inputs (1..5 pairs, 12 cases)', async () => {
    for (let i = 0; i < 12; i++) {
      const pairs = await randomPairs(1 + (i % 5));
      const outs = [];
      for (const e of engines) outs.push(`${e.name}:${hex(await e.multiPairing(pairs))}`);
      const ref = outs[0]!.slice(outs[0]!.indexOf(':') + 1);
      expect(outs).toEqual(engines.map((e) => `${e.name}:${ref}`));
    }
  });
});
