// A/B of two builds of the native addon in ONE process, calls alternated (ABBA) so that the
// shared machine's speed changes hit both alike; prints medians and the median of paired
// ratios B/A for: pairing (unchanged code: a control), prepared pairing, fixed-base GT pow,
// and fixed-base GT pow + fixed-base G1 (uncompressed) issued together (IBE encryption core).
// Usage: cp build/Release/ibaked_native_adx.node /tmp/old.node   (before a change)
//        node native/bench/ab.mjs /tmp/old.node build/Release/ibaked_native_adx.node [N=250]
// The B addon's parallel-section counters (parInfo) are printed when it has them.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
const require = createRequire(import.meta.url);
const N = Number(process.argv[4] ?? 250);
async function setup(path) {
  const a = require(resolve(path));
  const G1 = a.runSync(0, []), G2 = a.runSync(1, []);
  const prep = await a.run(17, [G2]);
  const gt = await a.run(9, [G1, G2]);
  const tab = await a.run(18, [gt]);
  const g1t = await a.run(16, [G1]);
  return { a, G1, G2, prep, tab, g1t };
}
const A = await setup(process.argv[2]), B = await setup(process.argv[3]);
const k = new Uint8Array(32); k[31] = 7; k[5] = 99; k[0] = 0x11;
const U = await A.a.run(2, [await A.a.run(5, [A.G1, k]), new Uint8Array([0])]);
const ops = {
  pairing: (s) => s.a.run(9, [U, s.G2]),
  prepared: (s) => s.prep.run(20, [U]),
  gtTablePow: (s) => s.tab.run(22, [k]),
  encryptCore: (s) => Promise.all([s.tab.run(22, [k]), s.g1t.run(23, [k])]),
};
const med = (v) => { v = [...v].sort((x, y) => x - y); return v[v.length >> 1]; };
const res = {};
for (const n of Object.keys(ops)) res[n] = { A: [], B: [] };
for (let i = 0; i < N; i++) {
  for (const [n, f] of Object.entries(ops)) {
    const order = i & 1 ? ['A', 'B'] : ['B', 'A'];
    for (const w of order) {
      const s = w === 'A' ? A : B;
      const t0 = process.hrtime.bigint(); await f(s); res[n][w].push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
  }
}
for (const [n, r] of Object.entries(res)) {
  const ratios = r.A.map((a, i) => r.B[i] / a);
  console.log(`${n.padEnd(12)} A ${med(r.A).toFixed(1).padStart(7)} us  B ${med(r.B).toFixed(1).padStart(7)} us  median B/A ${med(ratios).toFixed(3)}`);
}
const pA = med(res.pairing.A), pB = med(res.pairing.B);
console.log(`vs own pairing: prepared A ${(med(res.prepared.A) / pA).toFixed(3)} B ${(med(res.prepared.B) / pB).toFixed(3)}; gtTablePow A ${(med(res.gtTablePow.A) / pA).toFixed(3)} B ${(med(res.gtTablePow.B) / pB).toFixed(3)}`);
if (B.a.parInfo) { const x = B.a.parInfo(); for (const k of Object.keys(x)) if (typeof x[k] === 'number' && !Number.isInteger(x[k])) x[k] = +x[k].toFixed(1); console.log('B par', JSON.stringify(x)); }
