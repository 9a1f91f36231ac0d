// `ibake selftest`: runs the power-on known-answer tests on one engine and says which engine
// was selected and why. Exit 0 only if every check passes.
import { selectEngine, ENGINE_NAMES } from '../engine/select.js';
import type { EngineName } from '../engine/types.js';
import { runSelftest } from '../selftest/index.js';
import { parseFlags, UsageError, type Command } from './command.js';

export const command: Command = {
  name: 'selftest',
  summary: 'known-answer self-test of a pairing engine (RFC 9380, encodings, IBE, RFC 5091)',
  usage: `usage: ibake selftest [--engine ts|wasm|native] [--json]

Runs the known-answer tests the daemon runs at start (like a FIPS power-on self-test):
RFC 9380 hash-to-G1/G2 vectors, ZCash point encodings, pairing bilinearity, precomputed tables
equal to plain operations, rejection of an off-curve point, an IBE round trip with tamper and
wrong-key rejection, and the RFC 5091 §7.5 vector.

  --engine NAME  test this engine (default: the one selected: native, else wasm, else ts;
                 IBAKED_ENGINE overrides)
  --json         {"engine","passed","failed","checks":[{"name","ok"}], "selection"}
Exit status: 0 all passed, 1 a check failed or the engine is unavailable, 2 usage.
`,
  async run(argv, io) {
    const { values } = parseFlags(argv, { engine: { type: 'string' }, json: { type: 'boolean' } });
    const name = values.engine as string | undefined;
    if (name !== undefined && !ENGINE_NAMES.includes(name as EngineName)) {
      throw new UsageError(`--engine must be one of ${ENGINE_NAMES.join(', ')}`);
    }
    const sel = await selectEngine(name ? { name: name as EngineName } : undefined);
    const report = await runSelftest(sel.engine);
    if (values.json) {
      io.stdout(JSON.stringify({ ...report, selection: { reason: sel.reason, tried: sel.tried } }) + '\n');
    } else {
      io.stdout(`engine: ${sel.engine.name} (${sel.reason})\n`);
      for (const c of report.checks) io.stdout(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${c.error ? `: ${c.error}` : ''}\n`);
      io.stdout(`${report.passed} passed, ${report.failed} failed\n`);
    }
    return report.failed === 0 ? 0 : 1;
  },
};
