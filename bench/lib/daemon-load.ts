// A real ibaked under load, for bench:daemon and bench:gate: starts the daemon as its own
// process (development mode, temp var dir and socket, the package's build under dist/),
// registers two identities, and drives N concurrent calls through the socket — alice's app and
// bob's app each on their own connection, every call I_MESSAGE_1 → R_MESSAGE_1 → I_MESSAGE_2 →
// R_MESSAGE_2 and then exchange.close on both sides. For a timed window it reports calls/s,
// call latency p50/p99 (initiate → the initiator's keys), and the daemon's CPU time split by
// thread (Linux /proc/<pid>/task/*/schedstat, names from comm: main thread, shard workers,
// the native par helper, the rest = libuv pool + V8), RSS, and CPU per call.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IbakedClient } from '../../src/client/ipc.js';
import type { EngineName } from '../../src/engine/types.js';
import { quantile } from './interleave.js';
import { untilSteady } from './steady.js';
import { repoRoot } from './report.js';

const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';

export interface DaemonProc {
  pid: number;
  socket: string;
  workers: number;
  alice: IbakedClient;
  bob: IbakedClient;
  stop(): Promise<void>;
}

/**
 * The node flags bin/ibaked.js runs the daemon with (its `#!/usr/bin/env -S node …` line), so
 * a benchmark's daemon, started from dist/ directly, runs as an installed one does.
 */
export function daemonNodeFlags(): string[] {
  const first = readFileSync(join(repoRoot(), 'bin', 'ibaked.js'), 'utf8').split('\n', 1)[0]!;
  const m = /^#!\S*env -S node((?: --?\S+)*)\s*$/.exec(first);
  if (!m) throw new Error(`bin/ibaked.js: unexpected first line ${JSON.stringify(first)}`);
  return m[1]!.trim().split(/\s+/).filter((f) => f.length > 0);
}

/** Starts ibaked (compiled sources under build-bench/) with `workers` shard workers. */
export async function startDaemonProc(o: { engine: EngineName; workers: number; env?: Record<string, string>; nodeArgs?: string[]; daemonArgs?: string[] }): Promise<DaemonProc> {
  // The package's build (dist/, what operators run; `npm run bench:daemon` builds it first),
  // else, from sources under a test runner without a build, main.ts through tsx.
  const loader: string[] = [];
  let main = join(repoRoot(), 'dist', 'daemon', 'main.js');
  if (!existsSync(main)) {
    main = join(repoRoot(), 'src', 'daemon', 'main.ts');
    loader.push('--import', 'tsx');
  }
  const dir = mkdtempSync(join(tmpdir(), 'ibaked-bench-'));
  const socket = join(dir, 'ibaked.sock');
  // Every call of the load is between the same two identities, so all N half-open exchanges
  // belong to one peer, and each app pipelines all N on its one connection; those limits are
  // lifted so that no N (or a wider --n) is cut by them.
  const cfgFile = join(dir, 'ibaked.json');
  writeFileSync(cfgFile, JSON.stringify({ maxHalfOpenPerPeer: 100_000, maxInFlightPerConnection: 100_000 }));
  const args = [...loader, ...daemonNodeFlags(), ...(o.nodeArgs ?? []), main, '--config', cfgFile, '--socket', socket, '--var-dir', join(dir, 'var'), '--engine', o.engine, '--workers', String(o.workers), '--skip-selftest', '--max-in-flight', '4096', ...(o.daemonArgs ?? [])];
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { ...process.env, IBAKED_DAEMON_ENTRY: '1', UV_THREADPOOL_SIZE: String(Math.max(4, availableParallelism())), ...o.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = ''; // the log's last 4 KiB, for an error message
  child.stderr!.on('data', (c) => (err = (err + c).slice(-4096)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // Ready once its socket accepts a connection (whatever the log level says).
  let clients: [IbakedClient, IbakedClient] | undefined;
  for (let i = 0; i < 600 && child.exitCode === null; i++) {
    try {
      clients = await Promise.all([IbakedClient.connect(socket), IbakedClient.connect(socket)]);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (!clients) {
    child.kill('SIGKILL');
    throw new Error(`ibaked did not start:\n${err}`);
  }
  const [alice, bob] = clients;
  await alice.request('identity.add', { uri: ALICE });
  await bob.request('identity.add', { uri: BOB });
  return {
    pid: child.pid!,
    socket,
    workers: o.workers,
    alice,
    bob,
    stop: async () => {
      alice.close();
      bob.close();
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Recv { reply?: Uint8Array; established?: unknown }

/** Requests of one call: exchange.initiate, four exchange.receive, two exchange.close. */
export const REQUESTS_PER_CALL = 7;

/**
 * One complete call through the daemon, closed on both sides; resolves to its latency (ms, up
 * to the initiator's keys). `step` runs as each of its REQUESTS_PER_CALL requests is answered.
 */
export async function oneCall(d: DaemonProc, step: () => void = () => {}): Promise<number> {
  const t0 = performance.now();
  const init = await d.alice.request<{ csbId: number; message: Uint8Array }>('exchange.initiate', { from: ALICE, to: BOB });
  step();
  let msg: Uint8Array | undefined = init.message;
  let toBob = true;
  let done = false;
  while (msg) {
    const r: Recv = await (toBob ? d.bob : d.alice).request<Recv>('exchange.receive', { identity: toBob ? BOB : ALICE, message: msg });
    step();
    if (!toBob && r.established) done = true;
    msg = r.reply;
    toBob = !toBob;
  }
  const ms = performance.now() - t0;
  if (!done) throw new Error('call did not establish on the initiator side');
  await Promise.all([
    d.alice.request('exchange.close', { identity: ALICE, csbId: init.csbId }).then(step),
    d.bob.request('exchange.close', { identity: BOB, csbId: init.csbId }).then(step),
  ]);
  return ms;
}

/** CPU time (ns) of every thread of a process, with its name; empty off Linux. */
export function threadCpu(pid: number): Map<number, { name: string; ns: number }> {
  const out = new Map<number, { name: string; ns: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      const name = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim();
      out.set(Number(t), { name, ns });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

export type ThreadClass = 'main' | 'shards' | 'par' | 'rest';

/** main = the process's first thread; shards = ibaked-shard-*; par = the native helper; rest = libuv pool, V8. */
export function classOf(pid: number, tid: number, name: string): ThreadClass {
  if (tid === pid) return 'main';
  if (name.startsWith('ibaked-shard')) return 'shards';
  if (name === 'ibaked-par') return 'par';
  return 'rest';
}

export interface LoadResult {
  workers: number;
  n: number;
  calls: number;
  seconds: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** daemon CPU over the window, % of one core, by thread class and total */
  cpuPct: Record<ThreadClass | 'total', number>;
  /** daemon CPU time per call (ms), total and main thread */
  cpuPerCallMs: number;
  mainCpuPerCallMs: number;
  rssMiB: number;
  errors: number;
}

/** One timed window's raw figures (pooled over several windows by summarize). */
export interface LoadWindow {
  workers: number;
  n: number;
  /** latencies (ms) of calls that started and ended inside the window */
  lat: number[];
  /** calls' worth of work done in the window: requests answered ÷ REQUESTS_PER_CALL */
  calls: number;
  seconds: number;
  cpuNs: Record<ThreadClass | 'total', number>;
  rssMiB: number;
  errors: number;
}

/**
 * Runs N concurrent call loops for warm-up then a timed window of `ms`; only calls that start
 * and end inside the window count toward latency. Throughput, and CPU per call, count the
 * requests answered in the window, a call being REQUESTS_PER_CALL of them: counting whole
 * calls completed made a window's figure depend on where its edges fell among calls in flight
 * (at N = 256 with one worker, calls move in waves of about 0.5 s, and a 3 s window read 512 or
 * 597 calls/s by chance), while the CPU time counts the work done inside it.
 */
export async function measureWindow(d: DaemonProc, n: number, ms: number, warmMs = Math.min(1000, ms / 2)): Promise<LoadWindow> {
  let phase: 'warm' | 'measure' | 'stop' = 'warm';
  const lat: number[] = [];
  let steps = 0;
  const step = () => {
    if (phase === 'measure') steps++;
  };
  let errors = 0;
  let firstError: unknown;
  const loop = async () => {
    while (phase !== 'stop') {
      const started = phase;
      try {
        const l = await oneCall(d, step);
        if (phase === 'measure' && started === 'measure') lat.push(l);
      } catch (e) {
        firstError ??= e;
        if (++errors > 100) phase = 'stop'; // reported below, once every loop has ended
      }
    }
  };
  const loops = Array.from({ length: n }, loop);
  await new Promise((r) => setTimeout(r, warmMs));
  phase = 'measure';
  const windowStart = performance.now();
  const cpu0 = threadCpu(d.pid);
  await new Promise((r) => setTimeout(r, ms));
  const cpu1 = threadCpu(d.pid);
  const seconds = (performance.now() - windowStart) / 1000;
  const calls = steps / REQUESTS_PER_CALL;
  phase = 'stop';
  const rss = rssMiB(d.pid);
  await Promise.all(loops);
  if (errors > 100) {
    const e = firstError as { code?: string; message?: string } | undefined;
    throw new Error(`more than 100 failed calls at N=${n} (first: ${e?.code ?? ''} ${e?.message ?? String(e)})`);
  }
  const cpuNs: Record<ThreadClass | 'total', number> = { main: 0, shards: 0, par: 0, rest: 0, total: 0 };
  for (const [tid, t1] of cpu1) {
    const dns = t1.ns - (cpu0.get(tid)?.ns ?? 0);
    cpuNs[classOf(d.pid, tid, t1.name)] += dns;
    cpuNs.total += dns;
  }
  return { workers: d.workers, n, lat, calls, seconds, cpuNs, rssMiB: rss, errors };
}

/** Pools windows of one (workers, N) point: latencies pooled, CPU and calls summed. */
export function summarize(ws: readonly LoadWindow[]): LoadResult {
  const w0 = ws[0]!;
  const lat = ws.flatMap((w) => w.lat).sort((a, b) => a - b);
  const calls = ws.reduce((a, w) => a + w.calls, 0);
  const seconds = ws.reduce((a, w) => a + w.seconds, 0);
  const ns = (k: ThreadClass | 'total') => ws.reduce((a, w) => a + w.cpuNs[k], 0);
  const pct = (v: number) => Math.round((v / 1e9 / seconds) * 1000) / 10;
  const perCall = (v: number) => (calls ? Math.round((v / 1e6 / calls) * 1000) / 1000 : NaN);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return {
    workers: w0.workers,
    n: w0.n,
    calls: Math.round(calls * 10) / 10,
    seconds: r2(seconds),
    callsPerSec: Math.round(calls / seconds),
    p50Ms: r2(quantile(lat, 0.5)),
    p99Ms: r2(quantile(lat, 0.99)),
    cpuPct: { main: pct(ns('main')), shards: pct(ns('shards')), par: pct(ns('par')), rest: pct(ns('rest')), total: pct(ns('total')) },
    cpuPerCallMs: perCall(ns('total')),
    mainCpuPerCallMs: perCall(ns('main')),
    rssMiB: Math.max(...ws.map((w) => w.rssMiB)),
    errors: ws.reduce((a, w) => a + w.errors, 0),
  };
}

/**
 * Warms a daemon until it stops getting cheaper (steady.ts): windows of `stepMs` at concurrency
 * n, until two in a row are not 3 % below the best before them (after minMs), or maxMs. `by`: what must settle — the call latency's p50
 * (a latency point) or the daemon's CPU time per call (a load point).
 * A fresh daemon's JavaScript tiers up over its first seconds, and the V8 threads compiling it
 * take CPU meanwhile (native, 2 cores, N = 64: about 3.6–3.9 ms of CPU per call in the first
 * 1.5 s, 2.9–3.0 ms after 5 s, a steady 2.7 ms from 8–10 s, the "rest" threads going from
 * 45 % of a core to 8 %; N = 1: p50 about 5.8 ms in the first 0.7 s, a steady 2.4–2.7 ms after
 * 5–6 s; docs/performance.md "Warm-up"), so a fixed short warm-up leaves that in the windows.
 * Returns the windows' values and the time spent.
 */
export async function warmUntilSteady(d: DaemonProc, n: number, o: { minMs: number; maxMs: number; stepMs: number; by?: 'p50' | 'cpu' }): Promise<{ ms: number; values: number[] }> {
  return untilSteady(async () => {
    const w = await measureWindow(d, n, o.stepMs, 0);
    return o.by === 'cpu' ? (w.calls ? w.cpuNs.total / 1e6 / w.calls : NaN) : quantile(w.lat.sort((a, b) => a - b), 0.5);
  }, o);
}

/**
 * Calls a point's latencies should pool before its p99 is read: 2 000 puts 20 of them above it.
 * At N = 1 a 3 s window holds about 1 200 calls (native, 2 cores), so its p99 rested on 12, and
 * moved between 1.4 and 2.0 × p50 from run to run of the same code (docs/performance.md).
 */
export const TAIL_CALLS = 2000;

/**
 * One point: warm-up, then timed windows of `ms`, summarized (pooled). A window that leaves the
 * point short of `minCalls` calls is followed by another, up to `maxWindows` in all.
 */
export async function runLoad(d: DaemonProc, n: number, ms: number, o: { warmMs?: number; minCalls?: number; maxWindows?: number } = {}): Promise<LoadResult> {
  const ws = [await measureWindow(d, n, ms, o.warmMs ?? Math.min(1000, ms / 2))];
  const enough = () => ws.reduce((a, w) => a + w.calls, 0) >= (o.minCalls ?? 0);
  while (!enough() && ws.length < (o.maxWindows ?? 1)) ws.push(await measureWindow(d, n, ms, 0));
  return summarize(ws);
}
