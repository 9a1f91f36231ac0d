// IBE-layer benchmark (tinybench, medians in ms): bls12381-bf on every available engine —
// encryption uncached (hash to G2 + pairing + GT pow + G1 mul) vs to a cached recipient
// (fixed-base GT pow + fixed-base G1 mul), decryption with a cached prepared key vs one-shot
// (which also runs the key check) — and rfc5091-bf (pure bigint) at RFC 5091 levels 1024/2048.
// Run: npm run bench:ibe [-- --engines ts,wasm,native] [--time MS] (prints its table; writes no file)
import { randomBytes } from 'node:crypto';
import { Bench } from 'tinybench';
import { DEFAULT_LOADERS } from '../src/engine/select.js';
import type { Engine } from '../src/engine/types.js';
import { createContext, decrypt, encrypt, extract, identityBytes, setup } from '../src/ibe/index.js';
import { benchArgs, taskMedian } from './lib/cli.js';

const ARGS = benchArgs({
  name: 'ibe',
  command: 'npm run bench:ibe --',
  summary: 'IBE layer: bls12381-bf encryption uncached vs to a cached recipient, decryption with a prepared key vs one-shot, per engine; rfc5091-bf at RFC 5091 levels 1024/2048.',
  flags: ['engines', 'time'],
  defaults: { time: 1500 },
});
const WANTED = ARGS.engines;
const TIME = ARGS.time;
const ID = identityBytes('sip:bob@example.org', '2026-11-28', 'month');
const M = randomBytes(142); // ≈ an I_MESSAGE_1 IBAKE plaintext (spec/ibe-bf.md §8.3)

const rows: Array<{ task: string; median_ms: number; samples: number }> = [];
async function run(name: string, tasks: Record<string, () => Promise<unknown>>): Promise<void> {
  const bench = new Bench({ time: TIME, iterations: 3, warmupIterations: 1 });
  for (const [t, fn] of Object.entries(tasks)) bench.add(`${name} ${t}`, fn, { async: true }); // no detection call (lib/interleave.ts)
  await bench.run();
  for (const t of bench.tasks) {
    const { medianMs, samples } = taskMedian(t);
    rows.push({ task: t.name, median_ms: Number(medianMs.toFixed(3)), samples });
  }
}

for (const n of WANTED) {
  let e: Engine;
  try {
    e = await DEFAULT_LOADERS[n]();
  } catch {
    continue;
  }
  const { master, params } = await setup('bls12381-bf', e);
  const key = await extract(master, params, ID, e);
  const ctx = await createContext(params, e);
  const ct = await ctx.encryptTo(ID, M);
  await ctx.decryptWith(key, ct);
  await run(`bls12381-bf/${n}`, {
    'encrypt uncached': () => encrypt(params, ID, M, e),
    'encrypt cached recipient': () => ctx.encryptTo(ID, M),
    'decrypt cached key': () => ctx.decryptWith(key, ct),
    'decrypt one-shot (+key check)': () => decrypt(params, ID, key, ct, e),
    extract: () => extract(master, params, ID, e),
  });
  ctx.close();
}

for (const level of [1024, 2048] as const) {
  const { master, params } = await setup('rfc5091-bf', undefined, { rfc5091Level: level });
  const key = await extract(master, params, ID);
  const ctx = await createContext(params);
  const ct = await ctx.encryptTo(ID, M);
  await run(`rfc5091-bf/${level}`, {
    'encrypt cached recipient': () => ctx.encryptTo(ID, M),
    'decrypt': () => ctx.decryptWith(key, ct),
  });
}
console.table(rows);
