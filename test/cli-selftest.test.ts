// `ibake selftest`: passes on every available engine, reports the selection, and actually
// detects a faulty engine (a wrapper that corrupts one operation makes the right checks fail).
import { describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.js';
import { runSelftest } from '../src/selftest/index.js';
import { availableEngines } from './helpers/engines.js';
import { runCli } from './helpers/cli.js';

const engines = await availableEngines();

describe.each(engines.map((e) => [e.name, e] as const))('selftest on %s', (name) => {
  it('passes every check, JSON shape as documented', async () => {
    const r = await runCli(['selftest', '--engine', name, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.engine).toBe(name);
    expect(j.failed).toBe(0);
    expect(j.passed).toBe(j.checks.length);
    expect(j.checks.length).toBeGreaterThanOrEqual(10);
    for (const c of j.checks) expect(c).toMatchObject({ name: expect.any(String), ok: true });
  });
});

describe('selftest', () => {
  it('without --engine reports which engine was chosen and why', async () => {
    const r = await runCli(['selftest']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^engine: (native|wasm|ts) \(.+\)/);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
  });

  it('rejects an unknown engine as a usage error', async () => {
    const r = await runCli(['selftest', '--engine', 'gpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--engine must be one of/);
  });

  it('detects a faulty engine', async () => {
    const ts = engines.find((e) => e.name === 'ts')!;
    const faulty: Engine = Object.create(ts);
    Object.defineProperty(faulty, 'hashToG2', {
      value: async (m: Uint8Array, d: Uint8Array | string) => ts.g2Mul(await ts.hashToG2(m, d), Uint8Array.of(...new Uint8Array(31), 2)),
    });
    const rep = await runSelftest(faulty);
    const failedNames = rep.checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failedNames.some((n) => n.startsWith('rfc9380-hash-to-g2'))).toBe(true);
    expect(rep.failed).toBeGreaterThan(0);
  });
});
