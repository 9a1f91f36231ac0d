// Native engine edge cases checked against the ts backend (an independent implementation):
// scalars on the boundaries of the base-|z| split used by the constant-time GT exponentiation
// (|z|^i ± 1, digits all 0 or all |z|-1), Booth-window boundaries of the fixed-base G1/GT
// combs (2^(6j) ± 1), 1, 2, r-1, r-2; and the portable (mulq) and ADX (mulx) builds of the
// addon agreeing bit for bit.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, R, randomScalar } from '../src/engine/scalar.js';
import type { Engine } from '../src/engine/types.js';
import { loadEngine } from './helpers/engines.js';

const native = await loadEngine('native');
const ts = (await loadEngine('ts')) as Engine;
const run = describe.runIf(!!native);
const Z = 0xd201000000010000n;

function edgeScalars(): bigint[] {
  const out = new Set<bigint>([1n, 2n, 3n, R - 1n, R - 2n, (R - 1n) / 2n, (1n << 64n) - 1n, 1n << 64n]);
  for (let i = 1n; i <= 3n; i++) {
    const zi = Z ** i;
    for (const d of [-1n, 0n, 1n]) out.add(zi + d);
    out.add(zi * (Z - 1n)); // one digit at its maximum
  }
  out.add(Z - 1n + (Z - 1n) * Z + (Z - 1n) * Z * Z); // three low digits maximal
  for (let j = 1n; j < 43n; j += 7n) for (const d of [-1n, 0n, 1n]) out.add((1n << (6n * j)) + d);
  out.add((1n << 254n) + 12345n);
  return [...out].filter((v) => v > 0n && v < R);
}

run('native engine edge cases against ts', () => {
  const e = native as Engine;

  it('gtPow and GT fixed-base tables on split and window boundaries', async () => {
    const gt = await ts.pairing(ts.g1Generator(), ts.g2Generator());
    const table = await e.gtFixedBase(gt);
    const tsTable = await ts.gtFixedBase(gt);
    for (const v of edgeScalars()) {
      const k = bigintToBytes(v, 32);
      const want = await tsTable.pow(k);
      expect(await e.gtPow(gt, k)).toEqual(want);
      expect(await table.pow(k)).toEqual(want);
    }
    table.free();
    tsTable.free();
  });

  it('G1 fixed-base comb and g1Mul on the same boundaries', async () => {
    const p = await ts.hashToG1(new Uint8Array([1, 2, 3]), 'EDGES');
    const table = await e.g1FixedBase(p);
    for (const v of edgeScalars()) {
      const k = bigintToBytes(v, 32);
      const want = await ts.g1Mul(p, k);
      expect(await table.mul(k)).toEqual(want);
      expect(await e.g1Mul(p, k)).toEqual(want);
    }
    table.free();
  });

  it('portable and ADX builds give identical bytes', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const paths = ['ibaked_native.node', 'ibaked_native_adx.node'].map((f) => `${root}build/Release/${f}`);
    if (process.env.IBAKED_NATIVE_PATH || !paths.every((p) => existsSync(p))) return;
    const cpu = (createRequire(import.meta.url)(paths[0]!) as { cpu(): { adx: boolean; bmi2: boolean } }).cpu();
    if (!cpu.adx || !cpu.bmi2) return;
    const [a, b] = paths.map((p) => createRequire(import.meta.url)(p) as { run(op: number, args: unknown[]): Promise<Uint8Array> });
    const g1 = e.g1Generator();
    const q = await e.hashToG2(new Uint8Array([9]), 'EDGES');
    for (let i = 0; i < 3; i++) {
      const k = randomScalar();
      const pa = await a!.run(5, [g1, k]);
      expect(await b!.run(5, [g1, k])).toEqual(pa);
      const ea = await a!.run(9, [pa, q]);
      expect(await b!.run(9, [pa, q])).toEqual(ea);
      expect(await b!.run(13, [ea, k])).toEqual(await a!.run(13, [ea, k]));
      expect(await b!.run(6, [q, k])).toEqual(await a!.run(6, [q, k]));
    }
  });
});
