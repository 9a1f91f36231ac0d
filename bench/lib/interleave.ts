// Interleaved measurement with tinybench: every (group, op) task runs for a short budget in each
// of several rounds, with the group order rotated per round, and the samples of all rounds are
// pooled. Noise on a shared machine then hits every group alike instead of whichever ran last.
// Reports the median and p99 of the pooled per-call latencies in µs.
import { Bench } from 'tinybench';

export interface InterleavedTask {
  /** e.g. the engine name */
  group: string;
  op: string;
  fn: () => unknown | Promise<unknown>;
  /** per round: minimum calls and time budget (ms); both must be met */
  iterations: number;
  timeMs: number;
}

export interface LatencyRow {
  group: string;
  op: string;
  median_us: number;
  p99_us: number;
  samples: number;
  /** the pooled samples (ms), with opts.keepSamples */
  samples_ms?: number[];
}

/** Linear-interpolated quantile of ascending-sorted values (q in [0, 1]). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Runs the tasks for `rounds` rounds and pools each (group, op)'s samples. Default order per
 * round: op by op, the groups rotated each round. `asListed`: the tasks exactly in the given
 * order every round; a (group, op) may then appear several times (its samples are pooled),
 * e.g. a reference measured right next to each task it is compared with. `onSamples` sees each
 * task's samples (ms) of each round, for per-round statistics such as paired A/B ratios.
 */
export async function runInterleaved(
  tasks: readonly InterleavedTask[],
  rounds: number,
  onRound?: (round: number) => void,
  opts: { asListed?: boolean; keepSamples?: boolean; onSamples?: (t: InterleavedTask, round: number, samplesMs: readonly number[]) => void } = {},
): Promise<LatencyRow[]> {
  const keyOf = (t: InterleavedTask) => `${t.group}\u0000${t.op}`;
  const pooled = new Map<string, number[]>();
  const firsts: InterleavedTask[] = [];
  for (const t of tasks) {
    if (!pooled.has(keyOf(t))) firsts.push(t);
    pooled.set(keyOf(t), []);
  }
  const groups = [...new Set(tasks.map((t) => t.group))];
  const ops = [...new Set(tasks.map((t) => t.op))];
  const roundOrder = (r: number): InterleavedTask[] => {
    if (opts.asListed) return [...tasks];
    const out: InterleavedTask[] = [];
    for (const op of ops) {
      for (const g of groups.map((_, i) => groups[(i + r) % groups.length]!)) {
        const t = tasks.find((x) => x.group === g && x.op === op);
        if (t) out.push(t);
      }
    }
    return out;
  };
  for (let r = 0; r < rounds; r++) {
    for (const t of roundOrder(r)) {
      const g = t.group;
      const op = t.op;
      const bench = new Bench({
        iterations: t.iterations,
        time: t.timeMs,
        warmup: r === 0,
        warmupIterations: 1,
        warmupTime: 0,
        retainSamples: true,
        throws: true,
      });
      // async: true — without it tinybench finds out whether the function is async by calling it
      // once and not awaiting the result, so one extra task ran in the background beside the
      // first measured iterations of every task in every round (seen as two deferred calls racing
      // for the mailbox's last prekey).
      bench.add(`${g}/${op}`, t.fn, { async: true });
      await bench.run();
      const res = bench.tasks[0]!.result as { latency?: { samples?: readonly number[] } };
      const samples = res.latency?.samples;
      if (!samples || samples.length === 0) throw new Error(`${g}/${op}: no samples`);
      pooled.get(keyOf(t))!.push(...samples);
      opts.onSamples?.(t, r, samples);
    }
    onRound?.(r + 1);
  }
  return firsts.map((t) => {
    const s = [...pooled.get(keyOf(t))!].sort((a, b) => a - b);
    return {
      group: t.group,
      op: t.op,
      median_us: Math.round(quantile(s, 0.5) * 1000 * 10) / 10,
      p99_us: Math.round(quantile(s, 0.99) * 1000 * 10) / 10,
      samples: s.length,
      ...(opts.keepSamples ? { samples_ms: s } : {}),
    };
  });
}
