// The power-on self-test (like a FIPS POST): known-answer and algebraic checks of the selected
// engine and of the IBE layer on it. Run by `ibake selftest` and by `ibaked` before it serves.
import type { Engine } from '../engine/types.js';
import { engineChecks } from './engine-checks.js';
import { ibeChecks } from './ibe-checks.js';

export interface SelftestReport {
  engine: string;
  passed: number;
  failed: number;
  checks: { name: string; ok: boolean; error?: string }[];
}

export async function runSelftest(engine: Engine): Promise<SelftestReport> {
  const checks = [...engineChecks(engine), ...ibeChecks(engine)];
  const out: SelftestReport = { engine: engine.name, passed: 0, failed: 0, checks: [] };
  for (const c of checks) {
    let ok = false;
    let error: string | undefined;
    try {
      ok = await c.run();
    } catch (e) {
      error = (e as Error)?.message ?? String(e);
    }
    if (ok) out.passed++;
    else out.failed++;
    out.checks.push(error === undefined ? { name: c.name, ok } : { name: c.name, ok, error });
  }
  return out;
}
