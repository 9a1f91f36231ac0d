// Command-line flags and tinybench result reading shared by the benches in bench/: one parser
// for the flags every bench understands (--json, --engines a,b,c, --rounds N, --time MS,
// --out DIR, --help), so each bench validates its command line alike: an unknown flag, a
// missing or malformed value or an unknown engine is a usage error (exit 2) instead of being
// ignored, and --help prints the bench's usage. Also a task's median latency and sample count.
import type { Task } from 'tinybench';
import { ENGINE_NAMES } from '../../src/engine/select.js';
import type { EngineName } from '../../src/engine/types.js';

/** Flags a bench may accept (each bench lists its own). */
export type BenchFlag = 'json' | 'engines' | 'rounds' | 'time' | 'out';

export interface BenchSpec {
  /** the bench's name, e.g. "call" (prefixes error messages) */
  name: string;
  /** how to run it, shown in the usage, e.g. "npm run bench:call --" */
  command: string;
  /** one line on what the bench measures */
  summary: string;
  flags: readonly BenchFlag[];
  /** defaults for --rounds and --time (shown in the usage) */
  defaults?: { rounds?: number; time?: number };
}

export interface BenchArgs {
  json: boolean;
  /** --engines, else every engine (native, wasm, ts) */
  engines: EngineName[];
  rounds: number;
  /** per-task time budget in ms */
  time: number;
  /** results directory (--out), else bench/results */
  out?: string;
}

export class BenchUsageError extends Error {}

const LIMITS = { rounds: [1, 1000], time: [10, 600_000] } as const;

const FLAG_HELP: Record<BenchFlag, string> = {
  json: '--json            print the result rows as one JSON line on stdout',
  engines: `--engines LIST    comma-separated engines to run (${ENGINE_NAMES.join(', ')}; default all, unavailable ones skipped)`,
  rounds: '--rounds N        interleaved rounds (1..1000)',
  time: '--time MS         time budget per task and round in ms (10..600000)',
  out: '--out DIR         write the results files to DIR instead of bench/results',
};

/** The usage text of a bench. */
export function benchUsage(spec: BenchSpec): string {
  const lines = [`usage: ${spec.command} [options]`, '', spec.summary, '', 'options:'];
  for (const f of spec.flags) {
    let h = FLAG_HELP[f];
    const d = f === 'rounds' ? spec.defaults?.rounds : f === 'time' ? spec.defaults?.time : undefined;
    if (d !== undefined) h += `; default ${d}`;
    lines.push('  ' + h);
  }
  lines.push('  --help            this text');
  return lines.join('\n') + '\n';
}

function intValue(flag: 'rounds' | 'time', v: string): number {
  const [lo, hi] = LIMITS[flag];
  if (!/^[0-9]+$/.test(v) || Number(v) < lo || Number(v) > hi) {
    throw new BenchUsageError(`--${flag} must be an integer from ${lo} to ${hi}, not ${JSON.stringify(v)}`);
  }
  return Number(v);
}

function enginesValue(v: string): EngineName[] {
  const names = v.split(',');
  const known = new Set<string>(ENGINE_NAMES);
  for (const n of names) {
    if (!known.has(n)) throw new BenchUsageError(`--engines: unknown engine ${JSON.stringify(n)} (known: ${ENGINE_NAMES.join(', ')})`);
  }
  if (new Set(names).size !== names.length) throw new BenchUsageError('--engines: an engine is named twice');
  return names as EngineName[];
}

/**
 * Parses a bench's command line. Returns 'help' for --help / -h; throws BenchUsageError for an
 * unknown or repeated flag, a positional argument, or a missing or malformed value.
 */
export function parseBenchArgs(spec: BenchSpec, argv: readonly string[]): BenchArgs | 'help' {
  const out: BenchArgs = {
    json: false,
    engines: [...ENGINE_NAMES],
    rounds: spec.defaults?.rounds ?? 1,
    time: spec.defaults?.time ?? 500,
  };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    const name = a.startsWith('--') ? (a.slice(2) as BenchFlag) : undefined;
    if (!name || !spec.flags.includes(name)) throw new BenchUsageError(`unknown argument ${JSON.stringify(a)}`);
    if (seen.has(name)) throw new BenchUsageError(`${a} given twice`);
    seen.add(name);
    if (name === 'json') {
      out.json = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined || v.startsWith('--')) throw new BenchUsageError(`${a} needs a value`);
    if (name === 'engines') out.engines = enginesValue(v);
    else if (name === 'rounds' || name === 'time') out[name] = intValue(name, v);
    else if (name === 'out') {
      if (v === '') throw new BenchUsageError('--out needs a directory');
      out.out = v;
    }
  }
  return out;
}

/** parseBenchArgs on this process's arguments: prints the usage and exits 0 for --help, prints
 *  the problem and exits 2 for a usage error. */
export function benchArgs(spec: BenchSpec): BenchArgs {
  try {
    const r = parseBenchArgs(spec, process.argv.slice(2));
    if (r === 'help') {
      process.stdout.write(benchUsage(spec));
      process.exit(0);
    }
    return r;
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    process.stderr.write(`bench ${spec.name}: ${e.message} (see --help)\n`);
    process.exit(2);
  }
}

/** Median latency (ms, NaN when the task did not run) and sample count of a finished task. */
export function taskMedian(t: Task): { medianMs: number; samples: number } {
  const r = t.result as { latency?: { p50?: number; samplesCount?: number; samples?: readonly number[] } } | undefined;
  return { medianMs: r?.latency?.p50 ?? NaN, samples: r?.latency?.samplesCount ?? r?.latency?.samples?.length ?? 0 };
}
