// Command-line flags and tinybench result reading shared by the benches in bench/: one parser
// for the flags every bench understands (--json, --engines a,b,c, --rounds N, --time MS,
// --out DIR, --help; the daemon benches also --n LIST, --workers LIST, --duration MS, --alternate N,
// --no-budgets, --advisory LIST), so each bench validates its command line alike: an unknown flag, a
// missing or malformed value or an unknown engine is a usage error (exit 2) instead of being
// ignored, and --help prints the bench's usage. Also a task's median latency and sample count.
import { availableParallelism } from 'node:os';
import type { Task } from 'tinybench';
import { ENGINE_NAMES } from '../../src/engine/select.js';
import type { EngineName } from '../../src/engine/types.js';

/** Flags a bench may accept (each bench lists its own). */
export type BenchFlag = 'json' | 'engines' | 'rounds' | 'time' | 'out' | 'n' | 'workers' | 'duration' | 'alternate' | 'no-budgets' | 'advisory';

export interface BenchSpec {
  /** the bench's name, e.g. "call" (prefixes error messages) */
  name: string;
  /** how to run it, shown in the usage, e.g. "npm run bench:call --" */
  command: string;
  /** one line on what the bench measures */
  summary: string;
  flags: readonly BenchFlag[];
  /** defaults (shown in the usage) */
  defaults?: { rounds?: number; time?: number; n?: number[]; workers?: number[]; duration?: number; alternate?: number; engines?: EngineName[] };
  /** the ids of the bench's budgets (what --advisory may name) */
  budgetIds?: readonly string[];
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
  /** --n: concurrency levels */
  n: number[];
  /** --workers: shard worker settings ('cores' resolved to this machine's core count) */
  workers: number[];
  /** --duration: timed window per load point, ms */
  duration: number;
  /** --alternate: rounds of the worker settings alternated at one load point (0: none) */
  alternate: number;
  /** --no-budgets: measure and report, never fail */
  noBudgets: boolean;
  /** --advisory: budgets measured and reported whose miss does not fail the run */
  advisory: string[];
}

export class BenchUsageError extends Error {}

const LIMITS = { rounds: [1, 1000], time: [10, 600_000], duration: [100, 600_000], alternate: [0, 100], n: [1, 4096], workers: [0, 256] } as const;

const FLAG_HELP: Record<BenchFlag, string> = {
  json: '--json            print the result rows as one JSON line on stdout',
  engines: `--engines LIST    comma-separated engines to run (${ENGINE_NAMES.join(', ')}; default all, unavailable ones skipped)`,
  rounds: '--rounds N        interleaved rounds (1..1000)',
  time: '--time MS         time budget per task and round in ms (10..600000)',
  out: '--out DIR         write the results files to DIR instead of bench/results',
  n: '--n LIST          concurrent calls, comma-separated (each 1..4096)',
  workers: `--workers LIST    shard worker settings, comma-separated (each 0..256 or "cores" = ${availableParallelism()} here)`,
  duration: '--duration MS     timed window per load point in ms (100..600000)',
  alternate: '--alternate N     rounds of 1.5 s windows, the worker settings taking turns, at N = 64 (0..100; 0 = none)',
  'no-budgets': '--no-budgets      measure and report only: no budget can fail the run',
  advisory: '--advisory LIST   budgets to report without failing the run on a miss, comma-separated',
};

/** The usage text of a bench. */
export function benchUsage(spec: BenchSpec): string {
  const lines = [`usage: ${spec.command} [options]`, '', spec.summary, '', 'options:'];
  for (const f of spec.flags) {
    let h = FLAG_HELP[f];
    const d = f === 'json' || f === 'out' || f === 'no-budgets' || f === 'advisory' ? undefined : spec.defaults?.[f];
    if (d !== undefined) h += `; default ${Array.isArray(d) ? d.join(',') : d}`;
    if (f === 'advisory') h += ` (${(spec.budgetIds ?? []).join(', ')}; default none)`;
    lines.push('  ' + h);
  }
  lines.push('  --help            this text');
  return lines.join('\n') + '\n';
}

function intValue(flag: keyof typeof LIMITS, v: string): number {
  const [lo, hi] = LIMITS[flag];
  if (!/^[0-9]+$/.test(v) || Number(v) < lo || Number(v) > hi) {
    throw new BenchUsageError(`--${flag} must be an integer from ${lo} to ${hi}, not ${JSON.stringify(v)}`);
  }
  return Number(v);
}

function listValue(flag: 'n' | 'workers', v: string): number[] {
  const out = v.split(',').map((x) => (flag === 'workers' && x === 'cores' ? availableParallelism() : intValue(flag, x)));
  if (new Set(out).size !== out.length) throw new BenchUsageError(`--${flag}: a value is given twice`);
  return out;
}

function advisoryValue(spec: BenchSpec, v: string): string[] {
  const ids = v.split(',');
  const known = new Set(spec.budgetIds ?? []);
  for (const id of ids) {
    if (!known.has(id)) throw new BenchUsageError(`--advisory: unknown budget ${JSON.stringify(id)} (known: ${[...known].join(', ')})`);
  }
  if (new Set(ids).size !== ids.length) throw new BenchUsageError('--advisory: a budget is named twice');
  return ids;
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
    engines: [...(spec.defaults?.engines ?? ENGINE_NAMES)],
    rounds: spec.defaults?.rounds ?? 1,
    time: spec.defaults?.time ?? 500,
    n: [...(spec.defaults?.n ?? [1])],
    workers: [...(spec.defaults?.workers ?? [0])],
    duration: spec.defaults?.duration ?? 3000,
    alternate: spec.defaults?.alternate ?? 0,
    noBudgets: false,
    advisory: [],
  };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    const name = a.startsWith('--') ? (a.slice(2) as BenchFlag) : undefined;
    if (!name || !spec.flags.includes(name)) throw new BenchUsageError(`unknown argument ${JSON.stringify(a)}`);
    if (seen.has(name)) throw new BenchUsageError(`${a} given twice`);
    seen.add(name);
    if (name === 'json' || name === 'no-budgets') {
      if (name === 'json') out.json = true;
      else out.noBudgets = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined || v.startsWith('--')) throw new BenchUsageError(`${a} needs a value`);
    if (name === 'engines') out.engines = enginesValue(v);
    else if (name === 'advisory') out.advisory = advisoryValue(spec, v);
    else if (name === 'rounds' || name === 'time' || name === 'duration' || name === 'alternate') out[name] = intValue(name, v);
    else if (name === 'n' || name === 'workers') out[name] = listValue(name, v);
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
