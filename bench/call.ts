// Call-setup benchmark: a complete in-process MIKEY-IBAKE call (I_MESSAGE_1 -> R_MESSAGE_1 ->
// I_MESSAGE_2 -> R_MESSAGE_2 and the initiator's check of R_MESSAGE_2; both sides, sequential;
// KMS provisioning excluded) on every available engine, with warm caches (repeat peers: g_ID
// tables and prepared own keys reused) and cold (fresh IBE contexts every call), interleaved
// with one native pairing in the same run as the unit. Targets on native: warm <= 4.5
// pairings, cold <= 7. Writes bench/results/call-<date>.json and .md (bench/lib/report.ts).
// Run: npm run bench:call [-- --json] [--engines native,wasm,ts] [--rounds N] [--time MS]
import { DEFAULT_LOADERS, ENGINE_NAMES } from '../src/engine/select.js';
import type { Engine, EngineName } from '../src/engine/types.js';
import { extractBls, setupBls } from '../src/ibe/bls12381/bf.js';
import { identityBytes, periodStart } from '../src/ibe/identity.js';
import { runScenario } from '../src/ibake/scenario.js';
import type { IbeKeyring } from '../src/ibake/keyring.js';
import { runInterleaved, type InterleavedTask } from './lib/interleave.js';
import { writeResults } from './lib/report.js';

const args = process.argv.slice(2);
const arg = (f: string) => (args.indexOf(f) >= 0 ? args[args.indexOf(f) + 1] : undefined);
const JSON_OUT = args.includes('--json');
const WANTED = (arg('--engines') ?? ENGINE_NAMES.join(',')).split(',') as EngineName[];
const ROUNDS = Number(arg('--rounds') ?? 3);
const TIME = Number(arg('--time') ?? 1500);
const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';

interface Setup {
  engine: Engine;
  Ppub: Uint8Array;
  keys: Map<string, { period: string; key: Uint8Array }>;
  warm: Map<string, IbeKeyring>;
}

async function prepare(engine: Engine): Promise<Setup> {
  const { s, Ppub } = await setupBls(engine);
  const now = Date.now();
  const keys = new Map<string, { period: string; key: Uint8Array }>();
  for (const id of [A, B]) keys.set(id, { period: periodStart(now, 'month'), key: await extractBls(engine, s, identityBytes(id, now, 'month')) });
  s.fill(0);
  return { engine, Ppub, keys, warm: new Map() };
}

function call(st: Setup, warm: boolean) {
  return async () => {
    const r = await runScenario({
      scenario: 'basic',
      from: A,
      to: B,
      engine: st.engine,
      Ppub: st.Ppub,
      provision: async (id) => {
        const k = st.keys.get(id)!;
        return { period: k.period, key: k.key.slice() };
      },
      ...(warm ? { keyrings: st.warm } : {}),
    });
    if (!r.ok) throw new Error(`call failed: ${r.problems.join('; ')}`);
  };
}

const setups: Setup[] = [];
for (const n of WANTED) {
  try {
    setups.push(await prepare(await DEFAULT_LOADERS[n]()));
  } catch {
    if (!JSON_OUT) console.error(`engine ${n}: not available, skipped`);
  }
}
if (setups.length === 0) throw new Error('no engine available');

const tasks: InterleavedTask[] = [];
for (const st of setups) {
  const slow = st.engine.name === 'ts';
  await call(st, true)(); // fill the warm caches once
  tasks.push({ group: st.engine.name, op: 'call warm', fn: call(st, true), iterations: slow ? 2 : 5, timeMs: slow ? TIME * 2 : TIME });
  tasks.push({ group: st.engine.name, op: 'call cold', fn: call(st, false), iterations: slow ? 2 : 5, timeMs: slow ? TIME * 2 : TIME });
}
const native = setups.find((s) => s.engine.name === 'native');
if (native) {
  const e = native.engine;
  const Q = await e.hashToG2(new TextEncoder().encode('bench'), 'BENCH-DST');
  const P = native.Ppub;
  tasks.push({ group: 'native', op: 'pairing', fn: () => e.pairing(P, Q), iterations: 50, timeMs: Math.min(TIME, 500) });
}

const rows = await runInterleaved(tasks, ROUNDS, (r) => {
  if (!JSON_OUT) console.error(`round ${r}/${ROUNDS} done`);
});
const out: object[] = [];
for (const r of rows) {
  if (r.op === 'pairing') out.push({ engine: r.group, op: 'pairing', median_us: r.median_us, p99_us: r.p99_us, samples: r.samples });
  else out.push({ engine: r.group, caches: r.op === 'call warm' ? 'warm' : 'cold', median_us: r.median_us, p99_us: r.p99_us, samples: r.samples });
}
const pairing = rows.find((r) => r.op === 'pairing')?.median_us;
const md = [
  '## In-process call setup (4 messages, both sides, sequential; KMS provisioning excluded)',
  '',
  `Interleaved tinybench, ${ROUNDS} rounds; medians and p99 of pooled per-call latencies.`,
  '',
  '| engine | caches | median (ms) | p99 (ms) | samples | median / native pairing |',
  '|---|---|---|---|---|---|',
  ...rows
    .filter((r) => r.op !== 'pairing')
    .map((r) => `| ${r.group} | ${r.op === 'call warm' ? 'warm' : 'cold'} | ${(r.median_us / 1000).toFixed(2)} | ${(r.p99_us / 1000).toFixed(2)} | ${r.samples} | ${pairing ? (r.median_us / pairing).toFixed(2) : 'n/a'} |`),
  '',
  pairing ? `One native pairing in the same run: median ${pairing} µs. Targets (native): warm ≤ 4.5 pairings, cold ≤ 7.` : 'No native engine: no pairing reference.',
  '',
  'Warm = repeat peers (recipient g_ID fixed-base tables and prepared own keys reused); cold = fresh IBE contexts every call (hash to G2, g_ID pairing and table build each time).',
].join('\n');
const files = writeResults('call', out, md);
if (JSON_OUT) process.stdout.write(JSON.stringify(out) + '\n');
else console.log(md + `\n\nwritten: ${files.json}, ${files.md}`);
