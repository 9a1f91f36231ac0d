// G1Table.mul's output form on every backend: the uncompressed result equals the plain
// multiplication re-encoded uncompressed, the default stays compressed, and a bad form is
// rejected like g1Encode rejects it; backends agree byte for byte.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../src/engine/errors.js';
import { randomScalar } from '../src/engine/scalar.js';
import { availableEngines } from './helpers/engines.js';

const engines = await availableEngines();

describe.each(engines.map((e) => [e.name, e] as const))('G1Table.mul form on %s', (_n, e) => {
  it('uncompressed = g1Encode(g1Mul(B, k), uncompressed); default compressed', async () => {
    const B = await e.hashToG1(Uint8Array.of(1, 2, 3), 'TABLE-FORM-TEST');
    const t = await e.g1FixedBase(B);
    try {
      for (let i = 0; i < 8; i++) {
        const k = randomScalar();
        const plain = await e.g1Mul(B, k);
        expect(Buffer.from(await t.mul(k)).toString('hex')).toBe(Buffer.from(plain).toString('hex'));
        expect(Buffer.from(await t.mul(k, 'compressed')).toString('hex')).toBe(Buffer.from(plain).toString('hex'));
        const u = await t.mul(k, 'uncompressed');
        expect(u.length).toBe(96);
        expect(Buffer.from(u).toString('hex')).toBe(Buffer.from(await e.g1Encode(plain, 'uncompressed')).toString('hex'));
      }
      await expect(t.mul(randomScalar(), 'raw' as never)).rejects.toBeInstanceOf(EngineError);
    } finally {
      t.free();
    }
    await expect(t.mul(randomScalar(), 'uncompressed')).rejects.toMatchObject({ reason: 'freed' });
  });
});

describe('G1Table.mul uncompressed agrees across engines', () => {
  it.runIf(engines.length > 1)('same bytes for the same scalar', async () => {
    const k = randomScalar();
    const outs = [];
    for (const e of engines) {
      const t = await e.g1FixedBase(e.g1Generator());
      outs.push(Buffer.from(await t.mul(k, 'uncompressed')).toString('hex'));
      t.free();
    }
    expect(new Set(outs).size).toBe(1);
  });
});
