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
}

/** Linear-interpolated quantile of ascending-sorted values (q in [0, 1]). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export async function runInterleaved(
  tasks: readonly InterleavedTask[],
  rounds: number,
  onRound?: (round: number) => void,
): Promise<LatencyRow[]> {
  const pooled = new Map<InterleavedTask, number[]>();
  for (const t of tasks) pooled.set(t, []);
  const groups = [...new Set(tasks.map((t) => t.group))];
  const ops = [...new Set(tasks.map((t) => t.op))];
  for (let r = 0; r < rounds; r++) {
    for (const op of ops) {
      const order = groups.map((_, i) => groups[(i + r) % groups.length]!);
      for (const g of order) {
        const t = tasks.find((x) => x.group === g && x.op === op);
        if (!t) continue;
        const bench = new Bench({
          iterations: t.iterations,
          time: t.timeMs,
          warmup: r === 0,
          warmupIterations: 1,
          warmupTime: 0,
          retainSamples: true,
          throws: true,
        });
        bench.add(`${g}/${op}`, t.fn);
        await bench.run();
        const res = bench.tasks[0]!.result as { latency?: { samples?: readonly number[] } };
        const samples = res.latency?.samples;
        if (!samples || samples.length === 0) throw new Error(`${g}/${op}: no samples`);
        pooled.get(t)!.push(...samples);
      }
    }
    onRound?.(r + 1);
  }
  return tasks.map((t) => {
    const s = [...pooled.get(t)!].sort((a, b) => a - b);
    return {
      group: t.group,
      op: t.op,
      median_us: Math.round(quantile(s, 0.5) * 1000 * 10) / 10,
      p99_us: Math.round(quantile(s, 0.99) * 1000 * 10) / 10,
      samples: s.length,
    };
  });
}
