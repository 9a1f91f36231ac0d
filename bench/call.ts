// Call-setup benchmark: a complete in-process MIKEY-IBAKE call (I_MESSAGE_1 -> R_MESSAGE_1 ->
// I_MESSAGE_2 -> R_MESSAGE_2 and the initiator's check of R_MESSAGE_2; both sides, sequential;
// KMS provisioning excluded) on every available engine, interleaved with one native pairing in
// the same run as the unit. Three cache states:
//   warm          repeat peers: the peer's g_ID table and our prepared key are reused;
//   cold          a peer never met before (per-peer caches empty: Q_ID = hash to G2 and
//                 g_ID = e(P_pub, Q_ID) for it on both sides, one native call each, the
//                 responder's inside the native call of its first decryption; plain GT powers, no table yet), own
//                 prepared key warm;
//   cold-process  fresh IBE contexts for both parties (own-key lines prepared during the call;
//                 the generator's G1 table is shared per engine, so it is warm).
// Targets on native: warm <= 4.5 pairings, cold <= 7. Profile v2 against the v1 derivation on
// warm calls, A B B A in every round, reported as the median of per-round ratios (target
// <= 1.02). Writes bench/results/call-<date>.json
// and .md (bench/lib/report.ts). The machines drift between fast and slow phases and have
// bursts of noise lasting seconds (a lone pairing moves between about 0.9 and 1.6 ms), so the
// default is many short rounds (24 × 150 ms per task, the pairing right after each native
// task): calls and pairings then sample the same mix of phases. With 8 × 400 ms a burst could
// cover several of a mode's few tasks: the cold ratio of twelve runs of the same code spread
// over 5.81–7.63 pairings, against 6.13–6.74 in seven runs of 24 × 150 ms in the same hour
// (docs/performance.md).
// Run: npm run bench:call [-- --json] [--engines native,wasm,ts] [--rounds N] [--time MS] [--out DIR]
import { DEFAULT_LOADERS } from '../src/engine/select.js';
import { call, prepare, warmUp, type Setup } from './lib/calls.js';
import { quantile, runInterleaved, type InterleavedTask } from './lib/interleave.js';
import { benchArgs } from './lib/cli.js';
import { writeResults } from './lib/report.js';

const ARGS = benchArgs({
  name: 'call',
  command: 'npm run bench:call --',
  summary: 'In-process MIKEY-IBAKE call setup (all four messages, both sides) per engine, warm and cold caches, against one native pairing in the same run; targets on native: warm <= 4.5 pairings, cold <= 7.',
  flags: ['json', 'engines', 'rounds', 'time', 'out'],
  defaults: { rounds: 24, time: 150 },
});
const JSON_OUT = ARGS.json;
const WANTED = ARGS.engines;
const ROUNDS = ARGS.rounds;
const TIME = ARGS.time;
const setups: Setup[] = [];
for (const n of WANTED) {
  try {
    setups.push(await prepare(await DEFAULT_LOADERS[n]()));
  } catch {
    if (!JSON_OUT) console.error(`engine ${n}: not available, skipped`);
  }
}
if (setups.length === 0) throw new Error('no engine available');

for (const st of setups) await warmUp(st);
// The native pairing (the unit of the targets) is measured right after each native call task,
// every round, and pooled: the machine's speed drifts over seconds, so the unit must be
// sampled in the same moments as the calls it divides.
const native = setups.find((s) => s.engine.name === 'native');
let pairingTask: InterleavedTask | undefined;
if (native) {
  const e = native.engine;
  const Q = await e.hashToG2(new TextEncoder().encode('bench'), 'BENCH-DST');
  const P = native.Ppub;
  pairingTask = { group: 'native', op: 'pairing', fn: () => e.pairing(P, Q), iterations: 30, timeMs: Math.min(TIME, 300) };
}
const tasks: InterleavedTask[] = [];
const task = (st: Setup, mode: Parameters<typeof call>[1]): InterleavedTask => {
  const slow = st.engine.name === 'ts';
  return { group: st.engine.name, op: `call ${mode}`, fn: call(st, mode), iterations: slow ? 2 : 5, timeMs: slow ? TIME * 2 : TIME };
};
for (const mode of ['warm', 'deferred warm', 'cold', 'cold-process'] as const) {
  for (const st of setups) {
    if (mode === 'warm') {
      // Profile v2 against the v1 derivation, A B B A in every round (both warm, same keyrings):
      // the per-round ratio of medians pairs samples taken in the same seconds.
      const [a, b] = [task(st, 'warm'), task(st, 'warm-v1')];
      tasks.push(a, b, b, a);
    } else tasks.push(task(st, mode));
    if (st === native && pairingTask) tasks.push(pairingTask);
  }
}

/** Per engine and round: the warm samples of v2 and of v1 (ms). */
const ab = new Map<string, { v2: number[]; v1: number[] }[]>();
const rows = await runInterleaved(
  tasks,
  ROUNDS,
  (r) => {
    if (!JSON_OUT) console.error(`round ${r}/${ROUNDS} done`);
  },
  {
    asListed: true,
    onSamples: (t, r, samples) => {
      if (t.op !== 'call warm' && t.op !== 'call warm-v1') return;
      const per = ab.get(t.group) ?? [];
      ab.set(t.group, per);
      per[r] ??= { v2: [], v1: [] };
      per[r]![t.op === 'call warm' ? 'v2' : 'v1'].push(...samples);
    },
  },
);
const med = (xs: number[]) => quantile([...xs].sort((p, q) => p - q), 0.5);
/** Median over rounds of median(v2) / median(v1), and the spread of the per-round ratios. */
const abRows = [...ab].map(([engine, per]) => {
  const ratios = per.filter((x) => x && x.v1.length && x.v2.length).map((x) => med(x.v2) / med(x.v1)).sort((p, q) => p - q);
  return { engine, op: 'warm v2/v1', median_ratio: Math.round(med(ratios) * 10000) / 10000, q25: Math.round(quantile(ratios, 0.25) * 10000) / 10000, q75: Math.round(quantile(ratios, 0.75) * 10000) / 10000, rounds: ratios.length };
});
const out: object[] = [];
for (const r of rows) {
  if (r.op === 'pairing') out.push({ engine: r.group, op: 'pairing', median_us: r.median_us, p99_us: r.p99_us, samples: r.samples });
  else out.push({ engine: r.group, caches: r.op.slice('call '.length), median_us: r.median_us, p99_us: r.p99_us, samples: r.samples });
}
out.push(...abRows);
const pairing = rows.find((r) => r.op === 'pairing')?.median_us;
const md = [
  '## In-process call setup (4 messages, both sides, sequential; KMS provisioning excluded)',
  '',
  `Interleaved tinybench, ${ROUNDS} rounds; medians and p99 of pooled per-call latencies; the native pairing is measured right after each native call task and pooled.`,
  '',
  '| engine | caches | median (ms) | p99 (ms) | samples | median / native pairing |',
  '|---|---|---|---|---|---|',
  ...rows
    .filter((r) => r.op !== 'pairing')
    .map((r) => `| ${r.group} | ${r.op.slice('call '.length)} | ${(r.median_us / 1000).toFixed(2)} | ${(r.p99_us / 1000).toFixed(2)} | ${r.samples} | ${pairing ? (r.median_us / pairing).toFixed(2) : 'n/a'} |`),
  '',
  pairing ? `One native pairing in the same run: median ${pairing} µs. Targets (native): warm ≤ 4.5 pairings, cold ≤ 7, deferred warm ≤ warm + 2.` : 'No native engine: no pairing reference.',
  ...deferredLine(),
  '',
  '### Profile v2 against the v1 derivation (warm calls; A B B A in every round)',
  '',
  '| engine | median over rounds of median(v2) / median(v1) | q25 | q75 | rounds |',
  '|---|---|---|---|---|',
  ...abRows.map((r) => `| ${r.engine} | ${r.median_ratio.toFixed(4)} | ${r.q25.toFixed(4)} | ${r.q75.toFixed(4)} | ${r.rounds} |`),
  '',
  'Target: v2 costs at most +2 % (ratio ≤ 1.02). v1 = K_SESSION the bare point, no clear-field binding, no N_c (internal option, src/ibake/profile-v1.ts; never reachable from the daemon or the CLI).',
  '',
  'warm = repeat peers (the peer\'s g_ID fixed-base table and our prepared key reused); deferred warm = deferred delivery v2 with the same repeat parties: the mailbox answers with a signed prekey of the user, the caller checks it (the bundle signature once per bundle, then its Merkle path), the mailbox stores I_MESSAGE_2, and the user opens it (ESK decryption, prekey ECDH; part of the call); cold = a peer never met before (Q_ID = hash to G2 and g_ID = e(P_pub, Q_ID) for it on both sides, one native call each, the responder\'s inside the native call of its first decryption; plain GT powers instead of the table, which is built only for repeat peers), own prepared key warm; cold-process = fresh IBE contexts for both parties (own-key line preparation during the call; the generator\'s G1 table is shared per engine).',
].join('\n');
function deferredLine(): string[] {
  const m = (op: string) => rows.find((r) => r.group === 'native' && r.op === op)?.median_us;
  const [b, d] = [m('call warm'), m('call deferred warm')];
  if (!pairing || b === undefined || d === undefined) return [];
  return ['', `Deferred delivery v2 (native): ${(d / pairing).toFixed(2)} pairings against ${(b / pairing).toFixed(2)} for a basic call: +${((d - b) / pairing).toFixed(2)} pairings (target ≤ 2).`];
}
const files = writeResults('call', out, md, { dir: ARGS.out });
if (JSON_OUT) process.stdout.write(JSON.stringify(out) + '\n');
else console.log(md + `\n\nwritten: ${files.json}, ${files.md}`);
