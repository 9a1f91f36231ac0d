// bench:daemon and bench:gate (bench/daemon.ts, bench/gate.ts): both validate their command
// line like the other benches (--help, usage errors with exit 2), and a smoke run of the gate's
// machinery (bench/lib/gate-run.ts: in-process calls, crypto floor, a real ibaked under load)
// on the ts engine with the budgets not enforced, so the gate cannot rot between CI runs. Also
// the SVG chart writer. No timing is asserted: only that every figure was measured.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { budgetsOf, failing, runAttempt, verdicts } from '../bench/lib/gate-run.js';
import { daemonNodeFlags, measureWindow, oneCall, REQUESTS_PER_CALL, runLoad, startDaemonProc } from '../bench/lib/daemon-load.js';
import { lineChartSvg } from '../bench/lib/svg-chart.js';
import { loadEngine } from './helpers/engines.js';
import type { Engine } from '../src/engine/types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const bench = (name: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('bench:daemon and bench:gate command lines', () => {
  it.each(['daemon', 'gate'])('%s: --help prints the usage; bad flags exit 2', (name) => {
    const h = bench(name, ['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain(`usage: npm run bench:${name} --`);
    expect(h.stdout).toContain('--duration MS');
    for (const bad of [['--bogus'], ['--n', '0'], ['--workers', 'x'], ['--duration', '5'], ['--engines', 'foo']]) {
      const r = bench(name, bad);
      expect(r.status, `${name} ${bad.join(' ')}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`bench ${name}: .*see --help`));
    }
  });

  it('the gate takes exactly two --n and two --workers values; the daemon bench one engine', () => {
    expect(bench('gate', ['--n', '1,2,3']).stderr).toMatch(/--n takes two values/);
    expect(bench('gate', ['--workers', '1']).stderr).toMatch(/--workers takes two values/);
    expect(bench('daemon', ['--engines', 'ts,wasm']).stderr).toMatch(/--engines takes one engine/);
    for (const bad of [['--alternate', '101'], ['--alternate', 'x'], ['--alternate']]) expect(bench('daemon', bad).status, bad.join(' ')).toBe(2);
    expect(bench('daemon', ['--help']).stdout).toMatch(/--alternate N .*default 6/);
    expect(bench('gate', ['--alternate', '2']).stderr).toMatch(/unknown argument "--alternate"/);
    expect(bench('gate', ['--help']).stdout).toMatch(/--advisory LIST .*\(warm, cold, n1, cpu, main; default none\)/);
    for (const bad of [['--advisory', 'speed'], ['--advisory', 'cpu,cpu'], ['--advisory']]) {
      const r = bench('gate', bad);
      expect(r.status, bad.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/bench gate: .*see --help/);
    }
    expect(bench('daemon', ['--advisory', 'cpu']).stderr).toMatch(/unknown argument "--advisory"/);
  });
});

describe('gate machinery (smoke, ts engine, budgets not enforced)', () => {
  it('measures every figure of one attempt and derives every budget', async () => {
    const engine = (await loadEngine('ts')) as Engine;
    const a = await runAttempt({
      engine, engineName: 'ts', rounds: 1, timeMs: 10, durationMs: 600, nLow: 1, nHigh: 2, workersLow: 0, workersHigh: 2, pool: 2, floorBatch: 1,
    });
    for (const v of [a.pairingMs, a.warmMs, a.coldMs, a.floor.floorMs, a.high.cpuPerCallMs, a.high.mainCpuPerCallMs]) expect(Number.isFinite(v) && v > 0).toBe(true);
    expect(a.low.calls + a.high.calls).toBeGreaterThan(0);
    expect(a.high.errors + a.low.errors).toBe(0);
    expect(a.budgets.map((b) => b.limit)).toEqual(['≤ 4.5 pairings', '≤ 7 pairings', '≤ 0.3 ms', '≤ 1.2', '≤ 0.125']);
    expect(a.budgets.every((b) => typeof b.pass === 'boolean')).toBe(true);
  }, 30_000);

  it('a window counts the requests answered in it, a call being REQUESTS_PER_CALL of them; a point pools windows up to its call count', async () => {
    const d = await startDaemonProc({ engine: 'ts', workers: 0 });
    try {
      let steps = 0;
      await oneCall(d, () => steps++);
      expect(steps).toBe(REQUESTS_PER_CALL);
      const w = await measureWindow(d, 2, 400, 50);
      expect(w.calls).toBeGreaterThan(0);
      // a fraction of a call counts (calls in flight at the window's edges), in sevenths
      expect(Math.abs(w.calls * REQUESTS_PER_CALL - Math.round(w.calls * REQUESTS_PER_CALL))).toBeLessThan(1e-9);
      // a point short of minCalls pools more windows, up to maxWindows; one that has them stops
      const pooled = await runLoad(d, 1, 300, { warmMs: 0, minCalls: 1e6, maxWindows: 3 });
      expect(pooled.seconds).toBeGreaterThan(0.85);
      expect(pooled.seconds).toBeLessThan(1.5);
      const single = await runLoad(d, 1, 300, { warmMs: 0, minCalls: 1, maxWindows: 3 });
      expect(single.seconds).toBeLessThan(0.5);
    } finally {
      await d.stop();
    }
  }, 30_000);

  it('a budget fails only when it missed in every attempt', () => {
    const base = {
      pairingMs: 1, warmMs: 4, coldMs: 6, floor: { floorMs: 3, ops: {} as never },
      low: { n: 1, workers: 0, p50Ms: 4.2 } as never, high: { n: 64, workers: 2, cpuPerCallMs: 3.3, mainCpuPerCallMs: 0.3 } as never,
    };
    const good = { ...base, budgets: budgetsOf(base) };
    expect(good.budgets.map((b) => b.pass)).toEqual([true, true, true, true, true]);
    const slowBase = { ...base, warmMs: 5, low: { n: 1, workers: 0, p50Ms: 6 } as never };
    const slow = { ...slowBase, budgets: budgetsOf(slowBase) };
    expect(slow.budgets.map((b) => b.pass)).toEqual([false, true, false, true, true]);
    expect(verdicts([slow, good]).every((v) => v.pass)).toBe(true);
    const v = verdicts([slow, slow]);
    expect(v.map((x) => x.pass)).toEqual([false, true, false, true, true]);
    expect(v[0]!.measuredAll).toEqual([5, 5]);
    expect(v.map((x) => x.id)).toEqual(['warm', 'cold', 'n1', 'cpu', 'main']);
    // --advisory: a budget named there is reported but fails nothing; the others still do
    expect(failing(v, []).map((x) => x.id)).toEqual(['warm', 'n1']);
    expect(failing(v, ['warm']).map((x) => x.id)).toEqual(['n1']);
    expect(failing(v, ['warm', 'n1'])).toEqual([]);
    expect(failing(verdicts([good]), ['cpu'])).toEqual([]);
  });
});

describe('the daemon\'s node flags', () => {
  it('bin/ibaked.js runs itself with the young-generation cap, and the benches start the daemon with the same flags', () => {
    expect(daemonNodeFlags()).toEqual(['--max-semi-space-size=4', '--single-threaded-gc', '--heap-growing-percent=200']);
    // executed directly (as the npm bin link and the systemd unit do), the shebang's flags apply
    const r = spawnSync(`${ROOT}bin/ibaked.js`, ['--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ibaked \d+\.\d+\.\d+/m);
  });
});

describe('SVG chart', () => {
  it('writes a well-formed SVG with one path per series and escaped text', () => {
    const svg = lineChartSvg(
      [
        { title: 'T <1>', yLabel: 'calls/s', series: [{ label: 'a & b', color: '#000', points: [[1, 10], [2, 20], [8, 15]] }] },
        { title: 'L', yLabel: 'ms', yLog: true, series: [{ label: 'p50', color: '#f00', points: [[1, 1], [2, 2], [8, NaN]] }, { label: 'p99', color: '#00f', dashed: true, points: [[1, 3], [2, 9], [8, 30]] }] },
      ],
      [1, 2, 8],
      'caption',
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(3);
    expect(svg).toContain('T &lt;1&gt;');
    expect(svg).toContain('a &amp; b');
    expect(svg).not.toContain('NaN');
    expect(svg).toContain('stroke-dasharray');
  });
});
