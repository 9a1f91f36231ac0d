// Daemon throughput benchmark: a real ibaked process (development mode, temp var dir and
// socket) driven through its socket with N concurrent calls (two identities, each app on its
// own connection, every call closed on both sides), for each worker setting (default: 1 and one
// per core). Per point: calls/s, call latency p50/p99, the daemon's CPU % split into the main
// thread, the shard workers, the native par helper and the rest (libuv pool, V8), RSS, and
// daemon CPU per call. In the same run: the crypto floor (bench/lib/floor.ts; rounds at the start
// and one before each load point, pooled), and the
// projected throughput of a 16-core host = min(16 / CPU per call, 1 / main-thread CPU per call).
// Then (--alternate R, default 6) the worker settings' daemons take turns at N = 64, R rounds of
// one 1.5 s window each (with a floor round before each): the machine's speed drifts over
// minutes, so a setting measured alone minutes after another can differ by 10 % on its own; the
// CPU per call, its ratio to the floor and the projection come from these alternated windows
// (medians), the sweep's rows give the curves. With N = 1 among the points, also the N = 1
// overhead, the gate's: each setting's p50 at N = 1 − the p50 of a warm in-process call
// (bench:call's, bench/lib/calls.ts) measured in the same run, warmed to its steady state and
// sampled at the start and before each N = 1 point.
// Writes bench/results/daemon-<date>.json, .md and .svg (throughput and p50/p99 against N,
// one line per worker setting; bench/lib/svg-chart.ts).
// Run: npm run bench:daemon [-- --engines native] [--n 1,2,8,64,256] [--workers 1,cores] [--duration MS] [--rounds N] [--alternate R] [--out DIR]
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { DEFAULT_LOADERS } from '../src/engine/select.js';
import { call, prepare, warmInProcess, warmUp } from './lib/calls.js';
import { benchArgs } from './lib/cli.js';
import { measureWindow, runLoad, startDaemonProc, TAIL_CALLS, warmUntilSteady, type DaemonProc, type LoadResult, type LoadWindow } from './lib/daemon-load.js';
import { quantile } from './lib/interleave.js';
import { floorEngine, floorMeter } from './lib/floor.js';
import { r3, RESULTS_DIR, today, writeResults } from './lib/report.js';
import { lineChartSvg, type Series } from './lib/svg-chart.js';

const CORES = availableParallelism();
const ARGS = benchArgs({
  name: 'daemon',
  command: 'npm run bench:daemon --',
  summary:
    'A real ibaked driven through its socket with N concurrent calls per worker setting: calls/s, p50/p99, daemon CPU by thread, RSS, CPU per call; the crypto floor in the same run; a 16-core projection. Writes JSON, Markdown and an SVG chart.',
  flags: ['engines', 'n', 'workers', 'duration', 'rounds', 'alternate', 'out'],
  defaults: { engines: ['native'], n: [1, 2, 8, 64, 256], workers: [...new Set([1, CORES])], duration: 3000, rounds: 12, alternate: 6 },
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

// The in-process warm call of the N = 1 overhead (only with N = 1 among the points).
const slowEngine = ENGINE === 'ts';
const inProcess = ARGS.n.includes(1) ? await prepare(engine, slowEngine ? { pool: 2 } : {}) : undefined;
const inProcessMs: number[] = [];
const sampleInProcess = async () => {
  if (!inProcess) return;
  const warm = call(inProcess, 'warm');
  for (let i = 0; i < (slowEngine ? 3 : 100); i++) {
    const t = performance.now();
    await warm();
    inProcessMs.push(performance.now() - t);
  }
};
if (inProcess) {
  await warmUp(inProcess);
  if (!slowEngine) await warmInProcess(inProcess, { minMs: 3000, maxMs: 10_000 });
  await sampleInProcess();
}

const rows: LoadResult[] = [];
/** the daemons, kept for the alternated rounds (stopped at the end) */
const daemons = new Map<number, DaemonProc>();
/** The load point of the alternated rounds: N = 64 (the gate's), else the largest N below it. */
const N_ALT = ARGS.n.includes(64) ? 64 : Math.max(...ARGS.n.filter((n) => n <= 64), ARGS.n[0]!);
const alternated = new Map<number, LoadWindow[]>();
try {
  for (const w of ARGS.workers) {
    const d = await startDaemonProc({ engine: ENGINE, workers: w });
    daemons.set(w, d);
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
      if (n === 1) await sampleInProcess();
      // at low N a point pools windows until its p99 rests on enough calls (TAIL_CALLS), up to 4
      const r = await runLoad(d, n, ARGS.duration, { minCalls: TAIL_CALLS, maxWindows: 4 });
      rows.push(r);
      console.error(`workers ${w} N ${n}: ${r.callsPerSec} calls/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, CPU ${r.cpuPct.total} % (main ${r.cpuPct.main} %), ${r.cpuPerCallMs} ms/call`);
    }
    // An idle daemon costs nothing measurable; stopping it here would only lose its warm state.
  }
  for (let r = 0; r < ARGS.alternate; r++) {
    // rotated order: no setting always runs right after the same other one
    const order = ARGS.workers.map((_, i) => ARGS.workers[(i + r) % ARGS.workers.length]!);
    for (const w of order) {
      await meter.round();
      const win = await measureWindow(daemons.get(w)!, N_ALT, 1500, 300);
      alternated.set(w, [...(alternated.get(w) ?? []), win]);
    }
    console.error(`alternated round ${r + 1}/${ARGS.alternate} at N ${N_ALT}: ${ARGS.workers.map((w) => { const x = alternated.get(w)!.at(-1)!; return `workers ${w} ${(x.cpuNs.total / 1e6 / x.calls).toFixed(3)} ms/call`; }).join(', ')}`);
  }
} finally {
  for (const d of daemons.values()) await d.stop();
  for (const ring of inProcess ? [...inProcess.warm.values(), ...inProcess.cold.values()] : []) ring.close();
}

const floor = meter.result();
meter.close();
console.error(`crypto floor ${floor.floorMs} ms CPU per call`);

/** A setting's figures at the projection's load point: CPU per call, main-thread CPU per call, calls/s. */
interface PerCall { workers: number; n: number; cpuPerCallMs: number; mainCpuPerCallMs: number; callsPerSec: number; windows: number }
const med = (v: number[]) => quantile([...v].sort((a, b) => a - b), 0.5);
/** From the alternated windows: medians of the per-window figures. */
const fromAlternated = (w: number): PerCall | undefined => {
  const ws = alternated.get(w)?.filter((x) => x.calls > 0);
  if (!ws?.length) return undefined;
  return {
    workers: w,
    n: N_ALT,
    cpuPerCallMs: r3(med(ws.map((x) => x.cpuNs.total / 1e6 / x.calls))),
    mainCpuPerCallMs: r3(med(ws.map((x) => x.cpuNs.main / 1e6 / x.calls))),
    callsPerSec: Math.round(med(ws.map((x) => x.calls / x.seconds))),
    windows: ws.length,
  };
};
/** Without alternated rounds: the sweep's row at N = 64 (the gate's load point), else its largest N. */
const fromSweep = (w: number): PerCall | undefined => {
  const mine = rows.filter((r) => r.workers === w);
  const r = mine.find((x) => x.n === 64) ?? mine.sort((a, b) => b.n - a.n)[0];
  return r && { workers: w, n: r.n, cpuPerCallMs: r.cpuPerCallMs, mainCpuPerCallMs: r.mainCpuPerCallMs, callsPerSec: r.callsPerSec, windows: 1 };
};
const perCall = ARGS.workers.map((w) => fromAlternated(w) ?? fromSweep(w)).filter((r): r is PerCall => !!r);

/** 16-core projection from a setting's per-call CPU: crypto capacity vs one router thread. */
function projection(r: PerCall) {
  const byCores = HOST_CORES / (r.cpuPerCallMs / 1000);
  const byMain = 1 / (r.mainCpuPerCallMs / 1000);
  return { ...r, floorRatio: r3(r.cpuPerCallMs / floor.floorMs), mainShare: r3(r.mainCpuPerCallMs / r.cpuPerCallMs), byCores: Math.round(byCores), byMainThread: Math.round(byMain), projected: Math.round(Math.min(byCores, byMain)) };
}
const projections = perCall.map(projection);

/** The N = 1 overhead per setting: its p50 at N = 1 − the in-process warm call's p50. */
const inProcessP50 = inProcessMs.length ? r3(med(inProcessMs)) : undefined;
const overheads = inProcessP50 === undefined ? [] : rows.filter((r) => r.n === 1).map((r) => ({ workers: r.workers, p50Ms: r.p50Ms, overheadMs: r3(r.p50Ms - inProcessP50) }));

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
  `Two identities in one daemon, each app on its own connection; every call is the four messages and then exchange.close on both sides. ${ARGS.duration} ms timed window per point after a warm-up (up to 4 pooled at a point whose first window held fewer than ${TAIL_CALLS} calls, so that its p99 rests on enough of them); latency = exchange.initiate → the initiator's keys. The load generator runs on the same machine and shares its cores.`,
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
  ...(inProcessP50 !== undefined
    ? [
        `**N = 1 overhead** (the gate's budget: ≤ 0.3 ms): p50 at N = 1 − the p50 of a warm in-process call (bench:call's: both parties in one process, the engine's operations on libuv's pool) measured in the same run, ${inProcessP50} ms over ${inProcessMs.length} calls sampled at the start and before each N = 1 point:`,
        '',
        '| workers | p50 at N = 1 ms | in-process warm p50 ms | overhead ms |',
        '|---:|---:|---:|---:|',
        ...overheads.map((o) => `| ${o.workers} | ${o.p50Ms} | ${inProcessP50} | ${o.overheadMs} |`),
        '',
      ]
    : []),
  ARGS.alternate > 0
    ? `**CPU per call and the projected ${HOST_CORES}-core host**, from ${ARGS.alternate} rounds at N = ${N_ALT} in which the worker settings' daemons took turns (one 1.5 s window each per round, a floor round before each; medians of the windows): projected = min(${HOST_CORES} ÷ CPU per call, 1 ÷ main-thread CPU per call).`
    : `**Projected ${HOST_CORES}-core host** = min(${HOST_CORES} ÷ CPU per call, 1 ÷ main-thread CPU per call), from each worker setting's row at N = 64 (else its largest N):`,
  '',
  '| workers | at N | windows | calls/s | CPU/call ms | ÷ floor | main CPU/call ms | main share | by cores (calls/s) | by main thread (calls/s) | projected calls/s |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...projections.map((p) => `| ${p.workers} | ${p.n} | ${p.windows} | ${p.callsPerSec} | ${p.cpuPerCallMs} | ${p.floorRatio.toFixed(2)} | ${p.mainCpuPerCallMs} | ${p.mainShare.toFixed(3)} | ${p.byCores} | ${p.byMainThread} | ${p.projected} |`),
].join('\n');

const files = writeResults('daemon', { engine: ENGINE, cores: CORES, durationMs: ARGS.duration, floor, rows, alternate: { rounds: ARGS.alternate, n: N_ALT, windows: Object.fromEntries([...alternated].map(([w, ws]) => [w, ws.map(({ lat: _lat, ...x }) => x)])) }, projections, ...(inProcessP50 !== undefined ? { n1Overhead: { inProcessWarmP50Ms: inProcessP50, inProcessCalls: inProcessMs.length, overheads } } : {}) }, md, { dir, date });
writeFileSync(path.join(dir, svgName), svg);
console.log(md + `\n\nwritten: ${files.json}, ${files.md}, ${path.join(dir, svgName)}`);
