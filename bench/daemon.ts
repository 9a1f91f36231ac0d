// Daemon throughput benchmark: a real ibaked process (development mode, temp var dir and
// socket) driven through its socket with N concurrent calls (two identities, each app on its
// own connection, every call closed on both sides), for each worker setting (default: 1 and one
// per core). Per point: calls/s, call latency p50/p99, the daemon's CPU % split into the main
// thread, the shard workers, the native par helper and the rest (libuv pool, V8), RSS, and
// daemon CPU per call. In the same run: the crypto floor (bench/lib/floor.ts; rounds at the start
// and one before each load point, pooled), and the
// projected throughput of a 16-core host = min(16 / CPU per call, 1 / main-thread CPU per call).
// Writes bench/results/daemon-<date>.json, .md and .svg (throughput and p50/p99 against N,
// one line per worker setting; bench/lib/svg-chart.ts).
// Run: npm run bench:daemon [-- --engines native] [--n 1,2,8,64,256] [--workers 1,cores] [--duration MS] [--rounds N] [--out DIR]
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { DEFAULT_LOADERS } from '../src/engine/select.js';
import { benchArgs } from './lib/cli.js';
import { runLoad, startDaemonProc, warmUntilSteady, type LoadResult } from './lib/daemon-load.js';
import { floorEngine, floorMeter } from './lib/floor.js';
import { RESULTS_DIR, today, writeResults } from './lib/report.js';
import { lineChartSvg, type Series } from './lib/svg-chart.js';

const CORES = availableParallelism();
const ARGS = benchArgs({
  name: 'daemon',
  command: 'npm run bench:daemon --',
  summary:
    'A real ibaked driven through its socket with N concurrent calls per worker setting: calls/s, p50/p99, daemon CPU by thread, RSS, CPU per call; the crypto floor in the same run; a 16-core projection. Writes JSON, Markdown and an SVG chart.',
  flags: ['engines', 'n', 'workers', 'duration', 'rounds', 'out'],
  defaults: { engines: ['native'], n: [1, 2, 8, 64, 256], workers: [...new Set([1, CORES])], duration: 3000, rounds: 12 },
});
if (ARGS.engines.length !== 1) {
  process.stderr.write('bench daemon: --engines takes one engine here (see --help)\n');
  process.exit(2);
}
const ENGINE = ARGS.engines[0]!;
const HOST_CORES = 16;

const engine = await DEFAULT_LOADERS[ENGINE]();
// The floor is measured a round at a time between the load points (and --rounds at the start),
// pooled: the machine's speed drifts over minutes, so it must be sampled across the whole run.
const meter = await floorMeter(await floorEngine(engine), { batch: ENGINE === 'ts' ? 1 : 10 });
for (let i = 0; i < ARGS.rounds; i++) await meter.round();

const rows: LoadResult[] = [];
for (const w of ARGS.workers) {
  const d = await startDaemonProc({ engine: ENGINE, workers: w });
  try {
    // A fresh daemon tiers up over its first seconds (warmUntilSteady): warm it under load
    // (N = 64, or the largest N below) until its CPU per call settles, then at the first N until
    // its latency does, or the first points would carry the warm-up (runLoad's own warm-up is
    // ≤ 1 s). Not above 64: at N = 256 a call takes longer than a 1 s warm-up window.
    const nMax = Math.max(...ARGS.n.filter((n) => n <= 64), ARGS.n[0]!);
    const hot = await warmUntilSteady(d, nMax, { minMs: 4000, maxMs: 15000, stepMs: 1000, by: 'cpu' });
    const warm = await warmUntilSteady(d, ARGS.n[0]!, { minMs: 1500, maxMs: 6000, stepMs: 500 });
    console.error(`workers ${w}: warmed ${(hot.ms / 1000).toFixed(1)} s at N ${nMax} (CPU/call ${hot.values.map((v) => v.toFixed(2)).join(', ')} ms), ${(warm.ms / 1000).toFixed(1)} s at N ${ARGS.n[0]} (p50s ${warm.values.map((v) => v.toFixed(2)).join(', ')} ms)`);
    for (const n of ARGS.n) {
      await meter.round();
      const r = await runLoad(d, n, ARGS.duration);
      rows.push(r);
      console.error(`workers ${w} N ${n}: ${r.callsPerSec} calls/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, CPU ${r.cpuPct.total} % (main ${r.cpuPct.main} %), ${r.cpuPerCallMs} ms/call`);
    }
  } finally {
    await d.stop();
  }
}

const floor = meter.result();
meter.close();
console.error(`crypto floor ${floor.floorMs} ms CPU per call`);

/** 16-core projection from a row's per-call CPU: crypto capacity vs one router thread. */
function projection(r: LoadResult) {
  const byCores = HOST_CORES / (r.cpuPerCallMs / 1000);
  const byMain = 1 / (r.mainCpuPerCallMs / 1000);
  return { workers: r.workers, n: r.n, cpuPerCallMs: r.cpuPerCallMs, mainCpuPerCallMs: r.mainCpuPerCallMs, byCores: Math.round(byCores), byMainThread: Math.round(byMain), callsPerSec: Math.round(Math.min(byCores, byMain)) };
}
/** The row a projection uses: N = 64 (the gate's load point), else the largest N measured. */
const projectFrom = (w: number) => {
  const mine = rows.filter((r) => r.workers === w);
  return mine.find((r) => r.n === 64) ?? mine.sort((a, b) => b.n - a.n)[0];
};
const projections = ARGS.workers.map(projectFrom).filter((r): r is LoadResult => !!r).map(projection);

const date = today();
const dir = ARGS.out ?? RESULTS_DIR;
const svgName = `daemon-${date}.svg`;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const wlabel = (w: number) => (w === 0 ? 'in process (workers 0)' : `workers ${w}`);
const tput: Series[] = ARGS.workers.map((w, i) => ({ label: wlabel(w), color: COLORS[i % COLORS.length]!, points: rows.filter((r) => r.workers === w).map((r) => [r.n, r.callsPerSec]) }));
const lat: Series[] = ARGS.workers.flatMap((w, i) => [
  { label: `${wlabel(w)} p50`, color: COLORS[i % COLORS.length]!, points: rows.filter((r) => r.workers === w).map((r) => [r.n, r.p50Ms] as [number, number]) },
  { label: `${wlabel(w)} p99`, color: COLORS[i % COLORS.length]!, dashed: true, points: rows.filter((r) => r.workers === w).map((r) => [r.n, r.p99Ms] as [number, number]) },
]);
const svg = lineChartSvg(
  [
    { title: 'Throughput', yLabel: 'calls/s', series: tput },
    { title: 'Call latency', yLabel: 'ms (log scale)', yLog: true, series: lat },
  ],
  ARGS.n,
  `ibaked ${ENGINE} engine, ${CORES} cores, ${date}; load generator on the same machine`,
);

const md = [
  `## ibaked through its socket (${ENGINE} engine, ${CORES} cores)`,
  '',
  `Two identities in one daemon, each app on its own connection; every call is the four messages and then exchange.close on both sides. ${ARGS.duration} ms timed window per point after a warm-up; latency = exchange.initiate → the initiator's keys. The load generator runs on the same machine and shares its cores.`,
  '',
  `![throughput and latency against N](${svgName})`,
  '',
  '| workers | N | calls/s | p50 ms | p99 ms | p99/p50 | CPU % total | main | shards | par | rest | CPU/call ms | main CPU/call ms | RSS MiB | errors |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.workers} | ${r.n} | ${r.callsPerSec} | ${r.p50Ms} | ${r.p99Ms} | ${(r.p99Ms / r.p50Ms).toFixed(2)} | ${r.cpuPct.total} | ${r.cpuPct.main} | ${r.cpuPct.shards} | ${r.cpuPct.par} | ${r.cpuPct.rest} | ${r.cpuPerCallMs} | ${r.mainCpuPerCallMs} | ${r.rssMiB} | ${r.errors} |`),
  '',
  `**Crypto floor** (same run; CPU time of each operation run alone, single-threaded, medians of ${ARGS.rounds} rounds at the start and one before each load point): ${floor.floorMs} ms per call =`,
  ...Object.entries(floor.ops).map(([op, v]) => `${v.count} × ${op} ${v.cpuUs} µs CPU (${v.wallUs} µs wall)`).map((s) => `- ${s}`),
  '',
  `**Projected ${HOST_CORES}-core host** = min(${HOST_CORES} ÷ CPU per call, 1 ÷ main-thread CPU per call), from each worker setting's row at N = 64 (else its largest N):`,
  '',
  '| workers | from N | CPU/call ms | ÷ floor | main CPU/call ms | main share | by cores (calls/s) | by main thread (calls/s) | projected calls/s |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...projections.map((p) => `| ${p.workers} | ${p.n} | ${p.cpuPerCallMs} | ${(p.cpuPerCallMs / floor.floorMs).toFixed(2)} | ${p.mainCpuPerCallMs} | ${(p.mainCpuPerCallMs / p.cpuPerCallMs).toFixed(3)} | ${p.byCores} | ${p.byMainThread} | ${p.callsPerSec} |`),
].join('\n');

const files = writeResults('daemon', { engine: ENGINE, cores: CORES, durationMs: ARGS.duration, floor, rows, projections }, md, { dir, date });
writeFileSync(path.join(dir, svgName), svg);
console.log(md + `\n\nwritten: ${files.json}, ${files.md}, ${path.join(dir, svgName)}`);
