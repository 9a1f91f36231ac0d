// The call-setup latency gate's machinery (bench:gate; a smoke test runs it on the ts engine):
// one attempt measures, in one process and one run, in interleaved rounds,
//   * in-process calls (bench/lib/calls.ts), warm and cold, interleaved with the engine's
//     pairing, which is the unit of the call budgets;
//   * the crypto floor (bench/lib/floor.ts);
//   * a real ibaked (bench/lib/daemon-load.ts) at N = low (latency) and N = high (CPU per call),
// The N = low point runs the daemon's default worker setting (what an operator gets), the
// N = high point one shard worker per core (what the main-thread budget is about), and
// checks every budget as a ratio of figures from that same attempt. Both daemons are started
// and warmed once (openGate); the caller reruns a failed attempt once on them; a budget fails
// only if it missed both times.
import type { Engine, EngineName } from '../../src/engine/types.js';
import { call, prepare, warmInProcess, warmUp } from './calls.js';
import { r3 } from './report.js';
import { measureWindow, startDaemonProc, summarize, warmUntilSteady, type DaemonProc, type LoadResult, type LoadWindow } from './daemon-load.js';
import { floorEngine, floorMeter, type FloorResult } from './floor.js';
import { quantile, runInterleaved, type InterleavedTask } from './interleave.js';

export interface GateOptions {
  engine: Engine;
  /**
   * The same engine running its operations inline (native only): its warm in-process call is
   * reported beside the budgets, for information. The daemon runs a lone call's operations
   * inline (par-policy.ts), bench:call's in-process call on libuv's pool, so the N = 1 budget's
   * difference also holds what inline saves; against this call it is the IPC's cost alone.
   */
  inlineEngine?: Engine;
  engineName: EngineName;
  rounds: number;
  timeMs: number;
  durationMs: number;
  /** concurrency for the latency point and for the CPU point */
  nLow: number;
  nHigh: number;
  /** shard workers of the daemon measured at nLow (the default setting) and at nHigh (sharded) */
  workersLow: number;
  workersHigh: number;
  /** cold-call pool size (default: bench:call's) */
  pool?: number;
  floorBatch: number;
  log?: (line: string) => void;
}

/** The gate's budgets, by id (bench:gate --advisory names them). */
export const BUDGET_IDS = ['warm', 'cold', 'n1', 'cpu', 'main'] as const;
export type BudgetId = (typeof BUDGET_IDS)[number];

export interface Budget {
  id: BudgetId;
  name: string;
  /** e.g. "≤ 4.5 pairings" */
  limit: string;
  measured: number;
  /** the measured value's unit, e.g. "pairings" */
  unit: string;
  pass: boolean;
}

export interface Attempt {
  pairingMs: number;
  warmMs: number;
  /** warm in-process call on GateOptions.inlineEngine (information, no budget) */
  warmInlineMs?: number;
  coldMs: number;
  floor: FloorResult;
  low: LoadResult;
  high: LoadResult;
  budgets: Budget[];
}


/** Every budget of the gate, from one attempt's figures. */
export function budgetsOf(a: Omit<Attempt, 'budgets'>): Budget[] {
  const warm = a.warmMs / a.pairingMs;
  const cold = a.coldMs / a.pairingMs;
  const overhead = a.low.p50Ms - a.warmMs;
  const cpu = a.high.cpuPerCallMs / a.floor.floorMs;
  const main = a.high.mainCpuPerCallMs / a.high.cpuPerCallMs;
  return [
    { id: 'warm', name: 'warm in-process call', limit: '≤ 4.5 pairings', measured: r3(warm), unit: 'pairings', pass: warm <= 4.5 },
    { id: 'cold', name: 'cold in-process call', limit: '≤ 7 pairings', measured: r3(cold), unit: 'pairings', pass: cold <= 7 },
    { id: 'n1', name: `daemon (workers ${a.low.workers}) p50 at N=${a.low.n} − in-process warm p50`, limit: '≤ 0.3 ms', measured: r3(overhead), unit: 'ms', pass: overhead <= 0.3 },
    { id: 'cpu', name: `daemon (workers ${a.high.workers}) CPU per call at N=${a.high.n} ÷ crypto floor`, limit: '≤ 1.2', measured: r3(cpu), unit: '×', pass: cpu <= 1.2 },
    { id: 'main', name: `main-thread share of CPU per call at N=${a.high.n}`, limit: '≤ 0.125', measured: r3(main), unit: '×', pass: main <= 0.125 },
  ];
}

/** The gate's fixtures, kept across attempts: in-process parties, the floor meter, both daemons. */
export interface Gate {
  /** One attempt: every figure measured afresh (the rerun of a miss reuses the warm daemons). */
  attempt(): Promise<Attempt>;
  close(): Promise<void>;
}

/**
 * Prepares the in-process parties (warm caches), the floor meter and both daemons, and warms
 * each daemon until it stops getting cheaper at its load point (warmUntilSteady: a fresh
 * daemon's JavaScript takes seconds to tier up, and the V8 threads compiling it take CPU
 * meanwhile): the N = high daemon until its CPU per call settles, the N = low one until its
 * latency does. The attempts then measure daemons in their steady state, as a long-running
 * daemon is.
 */
export async function openGate(o: GateOptions): Promise<Gate> {
  const log = o.log ?? (() => {});
  const st = await prepare(o.engine, o.pool !== undefined ? { pool: o.pool } : {});
  await warmUp(st);
  const slow = o.engineName === 'ts';
  if (!slow) {
    const inProc = await warmInProcess(st, { minMs: 3000, maxMs: 10_000 });
    log(`in process: warmed ${(inProc.ms / 1000).toFixed(1)} s (warm-call medians ${inProc.values.map((v) => v.toFixed(2)).join(', ')} ms)`);
  }
  const Q = await o.engine.hashToG2(new TextEncoder().encode('gate'), 'GATE-DST');
  const pairing: InterleavedTask = { group: o.engineName, op: 'pairing', fn: () => o.engine.pairing(st.Ppub, Q), iterations: slow ? 1 : 30, timeMs: o.timeMs };
  const stInline = o.inlineEngine ? await prepare(o.inlineEngine, { pool: 2 }) : undefined;
  if (stInline) await warmUp(stInline);
  const tasks: InterleavedTask[] = [
    { group: o.engineName, op: 'call warm', fn: call(st, 'warm'), iterations: slow ? 1 : 5, timeMs: o.timeMs },
    pairing,
    { group: o.engineName, op: 'call cold', fn: call(st, 'cold'), iterations: slow ? 1 : 5, timeMs: o.timeMs },
    pairing,
    ...(stInline ? [{ group: o.engineName, op: 'call warm inline', fn: call(stInline, 'warm'), iterations: 5, timeMs: o.timeMs }] : []),
  ];
  const fEngine = await floorEngine(o.engine);
  let dLow: DaemonProc | undefined;
  let dHigh: DaemonProc | undefined;
  const closeAll = async () => {
    for (const ring of [...st.warm.values(), ...st.cold.values(), ...(stInline ? [...stInline.warm.values(), ...stInline.cold.values()] : [])]) ring.close();
    await dLow?.stop();
    await dHigh?.stop();
  };
  try {
    dLow = await startDaemonProc({ engine: o.engineName, workers: o.workersLow });
    dHigh = await startDaemonProc({ engine: o.engineName, workers: o.workersHigh });
    const d = o.durationMs;
    const hot = await warmUntilSteady(dHigh, o.nHigh, { minMs: Math.min(4000, d), maxMs: Math.min(12_000, 3 * d), stepMs: Math.min(1000, d / 2), by: 'cpu' });
    log(`daemon workers ${o.workersHigh}, N=${o.nHigh}: warmed ${(hot.ms / 1000).toFixed(1)} s (window CPU/call ${hot.values.map((v) => v.toFixed(2)).join(', ')} ms)`);
    const warm = await warmUntilSteady(dLow, o.nLow, { minMs: Math.min(5000, 2 * d), maxMs: Math.min(8000, 2 * d), stepMs: Math.min(500, d / 2) });
    log(`daemon workers ${o.workersLow}, N=${o.nLow}: warmed ${(warm.ms / 1000).toFixed(1)} s (window p50s ${warm.values.map((v) => v.toFixed(2)).join(', ')} ms)`);
  } catch (e) {
    await closeAll();
    throw e;
  }
  const low = dLow;
  const high = dHigh;

  /**
   * Every round measures, back to back, the in-process calls and pairings, a window of the
   * daemon at N = low, a round of the crypto floor and a window of the daemon at N = high, so
   * that drifts of the machine's speed hit every figure a budget compares alike. Windows and
   * samples are pooled over the rounds.
   */
  const attempt = async (): Promise<Attempt> => {
    const meter = await floorMeter(fEngine, { batch: o.floorBatch });
    try {
      const samples = new Map<string, number[]>();
      const lows: LoadWindow[] = [];
      const highs: LoadWindow[] = [];
      const windowMs = Math.max(1, Math.round(o.durationMs / o.rounds));
      for (let r = 0; r < o.rounds; r++) {
        for (const row of await runInterleaved(tasks, 1, undefined, { asListed: true, keepSamples: true })) {
          samples.set(row.op, [...(samples.get(row.op) ?? []), ...row.samples_ms!]);
        }
        lows.push(await measureWindow(low, o.nLow, windowMs, 50));
        await meter.round();
        highs.push(await measureWindow(high, o.nHigh, windowMs, 200));
      }
      const med = (op: string) => quantile([...samples.get(op)!].sort((x, y) => x - y), 0.5);
      const pairingMs = med('pairing');
      const warmMs = med('call warm');
      const coldMs = med('call cold');
      const floor = meter.result();
      const lowR = summarize(lows);
      const highR = summarize(highs);
      log(`in process: pairing ${pairingMs.toFixed(3)} ms, warm ${warmMs.toFixed(3)} ms, cold ${coldMs.toFixed(3)} ms${stInline ? `, warm on an inline engine ${med('call warm inline').toFixed(3)} ms` : ''}; crypto floor ${floor.floorMs} ms`);
      log(`daemon workers ${o.workersLow}, N=${o.nLow}: p50 ${lowR.p50Ms} ms, p99 ${lowR.p99Ms} ms`);
      log(`daemon workers ${o.workersHigh}, N=${o.nHigh}: ${highR.callsPerSec} calls/s, CPU ${highR.cpuPerCallMs} ms/call (main ${highR.mainCpuPerCallMs})`);
      const a = { pairingMs: r3(pairingMs), warmMs: r3(warmMs), coldMs: r3(coldMs), ...(stInline ? { warmInlineMs: r3(med('call warm inline')) } : {}), floor, low: lowR, high: highR };
      return { ...a, budgets: budgetsOf(a) };
    } finally {
      meter.close();
    }
  };
  return { attempt, close: closeAll };
}

/** One attempt on fixtures of its own (the smoke test). */
export async function runAttempt(o: GateOptions): Promise<Attempt> {
  const g = await openGate(o);
  try {
    return await g.attempt();
  } finally {
    await g.close();
  }
}

/** A budget fails only if it missed in every attempt. */
export function verdicts(attempts: readonly Attempt[]): Array<Budget & { measuredAll: number[] }> {
  return attempts[0]!.budgets.map((b, i) => ({
    ...b,
    measuredAll: attempts.map((a) => a.budgets[i]!.measured),
    pass: attempts.some((a) => a.budgets[i]!.pass),
  }));
}

/** The verdicts that fail the run: missed in every attempt, and not named advisory (--advisory). */
export function failing<V extends { id: BudgetId; pass: boolean }>(rows: readonly V[], advisory: readonly string[]): V[] {
  return rows.filter((r) => !r.pass && !advisory.includes(r.id));
}
