// Quick median timings of the native engine (tinybench), and ratios to the pairing.
// Run: node --import tsx native/bench.mjs   (IBAKED_NATIVE_VARIANT=portable for the mulq build)
// Each op is timed through the Engine interface, so the numbers include argument copies,
// full input validation (subgroup checks) and the thread-pool round trip.
import { Bench } from 'tinybench';
import { loadNativeEngine, nativeBuildInfo } from '../src/engine/native/index.ts';
import { randomScalar } from '../src/engine/scalar.ts';

const e = await loadNativeEngine();
const g1 = e.g1Generator();
const g2 = e.g2Generator();
const P = await e.g1Mul(g1, randomScalar());
const Q = await e.hashToG2(new TextEncoder().encode('bench-id'), 'BENCH');
const gt = await e.pairing(P, Q);
const f = await e.millerLoop(P, Q);
const gtTab = await e.gtFixedBase(gt);
const g1Tab = await e.g1FixedBase(g1);
const prep = await e.g2Prepare(Q);
const ks = Array.from({ length: 64 }, () => randomScalar());
let i = 0;
const k = () => ks[i++ & 63];
const msg = new TextEncoder().encode('alice@example.org\u00002026-11-01');
const DST = 'MIKEY-IBAKE-V01-CS01-with-BLS12381G2_XMD:SHA-256_SSWU_RO_';

const bench = new Bench({ time: Number(process.env.BENCH_MS ?? 1500), warmupTime: 200 });
bench
  .add('pairing', () => e.pairing(P, Q))
  .add('millerLoop', () => e.millerLoop(P, Q))
  .add('finalExp', () => e.finalExp(f))
  .add('prepared pairing (G2 lines)', () => prep.pairing(P))
  .add('gtPow (CT, Frobenius split)', () => e.gtPow(gt, k()))
  .add('gtFixedBase pow (CT)', () => gtTab.pow(k()))
  .add('g1Mul (CT)', () => e.g1Mul(P, k()))
  .add('g1FixedBase mul (CT)', () => g1Tab.mul(k()))
  .add('g2Mul (CT)', () => e.g2Mul(Q, k()))
  .add('hashToG2', () => e.hashToG2(msg, DST))
  .add('gtMul', () => e.gtMul(gt, gt))
  .add('IBE encrypt core (g1 table + GT table)', () => Promise.all([g1Tab.mul(k()), gtTab.pow(k())]))
  .add('IBE encrypt core sequential', async () => {
    await g1Tab.mul(k());
    await gtTab.pow(k());
  });
await bench.run();
const med = Object.fromEntries(bench.tasks.map((t) => [t.name, t.result.latency.p50 * 1000]));
const pair = med.pairing;
console.log(`native variant: ${nativeBuildInfo().variant}`);
for (const [name, us] of Object.entries(med)) {
  console.log(`${name.padEnd(42)} ${us.toFixed(1).padStart(8)} µs   ${(us / pair).toFixed(3)} × pairing`);
}
