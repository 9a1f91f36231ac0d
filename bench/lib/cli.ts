// Command-line flags and tinybench result reading shared by the benches in bench/: `--flag value`
// lookup, `--json`, the `--engines a,b,c` list (default: every engine, fastest first), and a
// task's median latency and sample count, so every bench reads its flags and results alike.
import type { Task } from 'tinybench';
import { ENGINE_NAMES } from '../../src/engine/select.js';
import type { EngineName } from '../../src/engine/types.js';

const ARGS = process.argv.slice(2);

/** The value after `flag` on the command line, if the flag is there. */
export function argValue(flag: string): string | undefined {
  const i = ARGS.indexOf(flag);
  return i >= 0 ? ARGS[i + 1] : undefined;
}

/** True when the bare flag is on the command line. */
export function hasFlag(flag: string): boolean {
  return ARGS.includes(flag);
}

/** Engines named by --engines (comma-separated), else all of them (native, wasm, ts). */
export function wantedEngines(): EngineName[] {
  return (argValue('--engines') ?? ENGINE_NAMES.join(',')).split(',') as EngineName[];
}

/** Median latency (ms, NaN when the task did not run) and sample count of a finished task. */
export function taskMedian(t: Task): { medianMs: number; samples: number } {
  const r = t.result as { latency?: { p50?: number; samplesCount?: number; samples?: readonly number[] } } | undefined;
  return { medianMs: r?.latency?.p50 ?? NaN, samples: r?.latency?.samplesCount ?? r?.latency?.samples?.length ?? 0 };
}
