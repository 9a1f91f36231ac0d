// Engine benchmark: every operation on every available backend (native, wasm, ts), side by side
// in one process and interleaved (bench/lib/interleave.ts), medians and p99 in µs.
// Ops: pairing, pairing with prepared G2 lines, Miller loop, final exponentiation, G1/G2 mul
// (secret scalar), fixed-base G1 mul, GT pow, fixed-base GT pow, hash to G2, and IBE
// encrypt (cached recipient) / decrypt from src/ibe.
//
// Run: npm run bench:engine [-- --json] [--rounds N] [--engines ts,wasm,native] [--out DIR]
// Writes bench/results/engine-<YYYY-MM-DD>.json and .md (bench/lib/report.ts).
import { randomBytes } from 'node:crypto';
import { DEFAULT_LOADERS } from '../src/engine/select.js';
import { randomScalar } from '../src/engine/scalar.js';
import type { Engine, EngineName } from '../src/engine/types.js';
import { runInterleaved, type InterleavedTask } from './lib/interleave.js';
import { benchArgs } from './lib/cli.js';
import { writeResults } from './lib/report.js';

const ARGS = benchArgs({
  name: 'engine',
  command: 'npm run bench:engine --',
  summary: 'Every engine operation (pairing, Miller loop, final exponentiation, scalar and fixed-base multiplications, GT powers, hash to G2, IBE encrypt/decrypt) on every available engine, interleaved.',
  flags: ['json', 'engines', 'rounds', 'out'],
  defaults: { rounds: 10 },
});
const JSON_OUT = ARGS.json;
const ROUNDS = ARGS.rounds;
const WANTED = ARGS.engines;
const log = (s: string): void => void process.stderr.write(s + '\n');

/** Per-round budget: the ts backend is ~25 ms per pairing, so it gets a few calls per round. */
const BUDGET: Record<EngineName, { iterations: number; timeMs: number }> = {
  native: { iterations: 5, timeMs: 100 },
  wasm: { iterations: 3, timeMs: 100 },
  ts: { iterations: 2, timeMs: 0 },
};

const engines: Engine[] = [];
for (const name of WANTED) {
  try {
    engines.push(await DEFAULT_LOADERS[name]());
  } catch (e) {
    log(`engine ${name}: unavailable (${(e as Error).message.split('\n')[0]})`);
  }
}
if (engines.length === 0) throw new Error('no engine available');

interface IbeApi {
  setup(suite: 'bls12381-bf', engine?: Engine): Promise<{ master: Uint8Array; params: unknown }>;
  extract(master: Uint8Array, params: unknown, id: Uint8Array, engine?: Engine): Promise<Uint8Array>;
  createContext(
    params: unknown,
    engine?: Engine,
    opts?: { recipients?: number; keys?: number },
  ): Promise<{
    encryptTo(id: Uint8Array, m: Uint8Array): Promise<Uint8Array>;
    decryptWith(key: Uint8Array, ct: Uint8Array): Promise<Uint8Array>;
    close(): void;
  }>;
}
let ibe: IbeApi | undefined;
try {
  ibe = (await import('../src/ibe/index.js')) as unknown as IbeApi;
} catch (e) {
  log(`src/ibe unavailable, IBE ops skipped: ${(e as Error).message.split('\n')[0]}`);
}

// ---- inputs (same for every engine) ---------------------------------------------------------
const ref = engines[engines.length - 1]!; // fastest loaded
const DST = 'IBAKED-BENCH-V01-with-BLS12381G2_XMD:SHA-256_SSWU_RO_';
const P = await ref.hashToG1(randomBytes(32), DST);
const Q = await ref.hashToG2(randomBytes(32), DST);
const G = await ref.pairing(P, Q);
const SCALARS = Array.from({ length: 64 }, () => randomScalar());
const MSGS = Array.from({ length: 64 }, () => randomBytes(40));
let si = 0;
const nextK = (): Uint8Array => SCALARS[si++ & 63]!;
const nextMsg = (): Uint8Array => MSGS[si++ & 63]!;
const ibeSetup = ibe ? await ibe.setup('bls12381-bf', ref) : undefined;
const ID = new TextEncoder().encode('sip:bob@example.org\u00002026-11-01');

const tasks: InterleavedTask[] = [];
const cleanups: (() => void)[] = [];
for (const e of engines) {
  const budget = BUDGET[e.name];
  const add = (op: string, fn: () => Promise<unknown>): void => void tasks.push({ group: e.name, op, fn, ...budget });
  const ml = await e.millerLoop(P, Q);
  const g1t = await e.g1FixedBase(e.g1Generator());
  const gtt = await e.gtFixedBase(G);
  const prep = await e.g2Prepare(Q);
  cleanups.push(() => g1t.free(), () => gtt.free(), () => prep.free());

  add('pairing', () => e.pairing(P, Q));
  add('pairing (prepared G2)', () => prep.pairing(P));
  add('miller loop', () => e.millerLoop(P, Q));
  add('multi-pairing (2 pairs)', () => e.multiPairing([[P, Q], [P, Q]]));
  add('final exp', () => e.finalExp(ml));
  add('G1 mul', () => e.g1Mul(P, nextK()));
  add('G2 mul', () => e.g2Mul(Q, nextK()));
  add('fixed-base G1 mul', () => g1t.mul(nextK()));
  add('GT pow', () => e.gtPow(G, nextK()));
  add('fixed-base GT pow', () => gtt.pow(nextK()));
  add('hash to G2', () => e.hashToG2(nextMsg(), DST));
  if (ibe && ibeSetup) {
    const ctx = await ibe.createContext(ibeSetup.params, e);
    const key = await ibe.extract(ibeSetup.master, ibeSetup.params, ID, e);
    const pt = randomBytes(32);
    const ct = await ctx.encryptTo(ID, pt); // warms the recipient cache
    await ctx.decryptWith(key, ct); // warms the prepared key
    cleanups.push(() => ctx.close());
    add('IBE encrypt (cached recipient)', () => ctx.encryptTo(ID, pt));
    add('IBE decrypt', () => ctx.decryptWith(key, ct));
    const api = ibe as unknown as {
      extractSigningKey(m: Uint8Array, p: unknown, id: Uint8Array, e?: Engine): Promise<Uint8Array>;
      sign(p: unknown, id: Uint8Array, k: Uint8Array, m: Uint8Array, e?: Engine): Promise<Uint8Array>;
      verify(p: unknown, id: Uint8Array, m: Uint8Array, s: Uint8Array, e?: Engine): Promise<boolean>;
    };
    const d = await api.extractSigningKey(ibeSetup.master, ibeSetup.params, ID, e);
    const sig = await api.sign(ibeSetup.params, ID, d, pt, e);
    add('IBS sign (uncached Q_sig)', () => api.sign(ibeSetup.params, ID, d, pt, e));
    add('IBS verify (uncached Q_sig)', () => api.verify(ibeSetup.params, ID, pt, sig, e));
  }
}

log(`engines: ${engines.map((e) => e.name).join(', ')}; ${ROUNDS} rounds`);
const t0 = Date.now();
const raw = await runInterleaved(tasks, ROUNDS, (r) => log(`round ${r}/${ROUNDS} (${((Date.now() - t0) / 1000).toFixed(1)} s)`));
for (const c of cleanups) c();

const rows = raw.map((r) => ({ engine: r.group, op: r.op, median_us: r.median_us, p99_us: r.p99_us, samples: r.samples }));

// ---- Markdown: one row per op, engines side by side, ratios vs ts and vs native pairing ------
const names = engines.map((e) => e.name);
const med = (engine: string, op: string): number | undefined => rows.find((r) => r.engine === engine && r.op === op)?.median_us;
const nativePairing = med('native', 'pairing');
const fmt = (v: number | undefined): string => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '—' : (a / b).toFixed(2) + '×');
const ops = [...new Set(rows.map((r) => r.op))];
const header = [
  '| op | ' + names.map((n) => `${n} median µs (p99)`).join(' | ') + ' | ' + names.filter((n) => n !== 'ts').map((n) => `ts / ${n}`).join(' | ') + ' | ' + names.map((n) => `${n} / native pairing`).join(' | ') + ' |',
];
header.push('|' + '---|'.repeat(1 + names.length + names.filter((n) => n !== 'ts').length + names.length));
const lines = ops.map((op) => {
  const cells = names.map((n) => {
    const r = rows.find((x) => x.engine === n && x.op === op);
    return r ? `${fmt(r.median_us)} (${fmt(r.p99_us)})` : '—';
  });
  const vsTs = names.filter((n) => n !== 'ts').map((n) => ratio(med('ts', op), med(n, op)));
  const vsNative = names.map((n) => ratio(med(n, op), nativePairing));
  return `| ${op} | ${cells.join(' | ')} | ${vsTs.join(' | ')} | ${vsNative.join(' | ')} |`;
});
const samplesLine = names.map((n) => `${n}: ${rows.filter((r) => r.engine === n).map((r) => r.samples).join('/')}`).join('; ');
const md = [
  '## Results',
  '',
  `Command: \`npm run bench:engine -- --rounds ${ROUNDS}\` (tinybench, ${ROUNDS} interleaved rounds, samples pooled; ` +
    `medians and p99 of single calls in µs). "ts / X" = how many times faster X is than ts; ` +
    `"X / native pairing" = cost in native pairings${nativePairing === undefined ? ' (native not available on this run: —)' : ''}.`,
  '',
  ...header,
  ...lines,
  '',
  `Samples per op (in the order above): ${samplesLine}.`,
  '',
  `Engines unavailable on this run: ${WANTED.filter((n) => !names.includes(n)).join(', ') || 'none'}. Total wall time ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
].join('\n');

const files = writeResults('engine', rows, md, { dir: ARGS.out });
log(`wrote ${files.json} and ${files.md}`);
if (JSON_OUT) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
else process.stdout.write(md + '\n');
