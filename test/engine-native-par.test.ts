// The native engine's parallel sections (native/src/par.h, miller.h, GtTable::pow): prepared
// pairings (subgroup check + a tail of the Miller loop on the helper thread) and fixed-base GT
// pow (digit products shared with the helper) must give the same bytes and the same rejection
// reasons as the serial paths, alone, concurrently, and with the helper switched off
// (IBAKED_NATIVE_PAR=0 in a child process). The C++ check (scripts/par-check) compares our
// Miller loop at every cut with blst_miller_loop_lines bit for bit. No timing is asserted.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, randomScalar } from '../src/engine/scalar.js';
import type { Engine } from '../src/engine/types.js';
import { loadEngine } from './helpers/engines.js';
import { engineReason } from './helpers/outcome.js';

const native = await loadEngine('native');
const ts = (await loadEngine('ts')) as Engine;
const run = describe.runIf(!!native);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const P = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaabn;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

/** Uncompressed encodings of on-curve G1 points outside the order-r subgroup (y² = x³ + 4). */
function nonSubgroupPoints(n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let x = 5n; out.length < n; x++) {
    const rhs = (x ** 3n + 4n) % P;
    const y = modPow(rhs, (P + 1n) / 4n, P);
    if ((y * y) % P !== rhs) continue;
    const b = new Uint8Array(96);
    b.set(bigintToBytes(x, 48), 0);
    b.set(bigintToBytes(y, 48), 48);
    out.push(b);
  }
  return out;
}

run('native parallel sections give the serial results', () => {
  const e = native as Engine;

  it('prepared pairing / Miller loop over many random U equal the unprepared pairing and Miller loop', async () => {
    const q = await e.hashToG2(new Uint8Array([7, 7, 7]), 'PAR-TEST');
    const prep = await e.g2Prepare(q);
    for (let i = 0; i < 40; i++) {
      const u = await e.g1Mul(e.g1Generator(), randomScalar());
      const uu = await e.g1Encode(u, 'uncompressed'); // IBE's U is the 96-octet form
      const want = await e.pairing(u, q);
      expect(hex(await prep.pairing(uu))).toBe(hex(want));
      expect(hex(await prep.pairing(u))).toBe(hex(want));
      const ml = await prep.millerLoop(uu);
      expect(hex(await e.finalExp(ml))).toBe(hex(want));
      // blst computes the same lines with and without precomputation: same Miller value.
      expect(hex(ml)).toBe(hex(await e.millerLoop(u, q)));
    }
    // And against the independent ts backend, a few times.
    const tsPrep = await ts.g2Prepare(q);
    for (let i = 0; i < 3; i++) {
      const u = await e.g1Mul(e.g1Generator(), randomScalar());
      expect(hex(await prep.pairing(u))).toBe(hex(await tsPrep.pairing(u)));
    }
    prep.free();
    tsPrep.free();
  });

  it('rejections keep the serial order: not-in-subgroup, not-on-curve, identity, length', async () => {
    const q = await e.hashToG2(new Uint8Array([1]), 'PAR-TEST');
    const prep = await e.g2Prepare(q);
    const tsPrep = await ts.g2Prepare(q);
    for (const bad of nonSubgroupPoints(6)) {
      expect(await engineReason(prep.pairing(bad))).toBe('not-in-subgroup');
      expect(await engineReason(prep.millerLoop(bad))).toBe('not-in-subgroup');
      expect(await engineReason(tsPrep.pairing(bad))).toBe('not-in-subgroup');
    }
    const offCurve = nonSubgroupPoints(1)[0]!.slice();
    offCurve[95] ^= 1;
    expect(await engineReason(prep.pairing(offCurve))).toBe('not-on-curve');
    const inf = new Uint8Array(96);
    inf[0] = 0x40;
    expect(await engineReason(prep.pairing(inf))).toBe('identity');
    expect(await engineReason(prep.pairing(new Uint8Array(95)))).toBe('length');
    prep.free();
    tsPrep.free();
  });

  it('concurrent prepared pairings and table pows (helper busy: inline fallback) agree with sequential ones', async () => {
    const q = await e.hashToG2(new Uint8Array([2]), 'PAR-TEST');
    const prep = await e.g2Prepare(q);
    const g = await e.pairing(e.g1Generator(), q);
    const table = await e.gtFixedBase(g);
    const us = await Promise.all(Array.from({ length: 12 }, () => e.g1Mul(e.g1Generator(), randomScalar())));
    const ks = Array.from({ length: 12 }, () => randomScalar());
    const seqP: string[] = [];
    const seqT: string[] = [];
    for (let i = 0; i < 12; i++) {
      seqP.push(hex(await prep.pairing(us[i]!)));
      seqT.push(hex(await table.pow(ks[i]!)));
    }
    for (let round = 0; round < 3; round++) {
      const [ps, tsOut] = await Promise.all([
        Promise.all(us.map((u) => prep.pairing(u))),
        Promise.all(ks.map((k) => table.pow(k))),
      ]);
      expect(ps.map(hex)).toEqual(seqP);
      expect(tsOut.map(hex)).toEqual(seqT);
    }
    for (let i = 0; i < 12; i++) expect(seqT[i]).toBe(hex(await e.gtPow(g, ks[i]!)));
    prep.free();
    table.free();
  });

  it('the helper exists when there are 2+ CPUs, and the ops went through run2 (counters, not timing)', async () => {
    const { loadAddon } = await import('../src/engine/native/addon.js');
    const { addon } = loadAddon();
    const info = addon.parInfo!();
    expect(info.parallel + info.inline).toBeGreaterThan(0);
    // Whether the helper picked a given task up in time depends on the scheduler (on a
    // saturated machine the caller takes tasks back), so only its existence is asserted;
    // scripts/par-check and scripts/ct-check print how many parts it ran.
    if (availableParallelism() >= 2 && process.env.IBAKED_NATIVE_PAR !== '0') expect(info.available).toBe(true);
  });

  it('Engine.setParallel(false) runs every section inline (counters) with the same bytes; true turns the helper back on', async () => {
    const { loadAddon } = await import('../src/engine/native/addon.js');
    const { addon } = loadAddon();
    const q = await e.hashToG2(new Uint8Array([9]), 'PAR-TEST');
    const prep = await e.g2Prepare(q);
    const us = await Promise.all([1, 2, 3, 4].map(async () => e.g1Encode(await e.g1Mul(e.g1Generator(), randomScalar()), 'uncompressed')));
    const want = await Promise.all(us.map((u) => e.pairing(u, q)));
    expect(typeof e.setParallel).toBe('function');
    try {
      e.setParallel!(false);
      const before = addon.parInfo!();
      for (let i = 0; i < us.length; i++) expect(hex(await prep.pairing(us[i]!))).toBe(hex(want[i]!));
      const after = addon.parInfo!();
      expect(after.parallel).toBe(before.parallel);
      expect(after.inline - before.inline).toBeGreaterThanOrEqual(us.length);
    } finally {
      e.setParallel!(true);
    }
    for (let i = 0; i < us.length; i++) expect(hex(await prep.pairing(us[i]!))).toBe(hex(want[i]!));
    expect(() => (addon.setParEnabled as unknown as (x: unknown) => void)('yes')).toThrow(/setParEnabled\(boolean\)/);
    prep.free();
  });

  it('with the helper switched off (IBAKED_NATIVE_PAR=0) the same bytes come out', async () => {
    const q = await e.hashToG2(new Uint8Array([3]), 'PAR-TEST');
    const u = await e.g1Encode(await e.g1Mul(e.g1Generator(), randomScalar()), 'uncompressed');
    const k = randomScalar();
    const g = await e.pairing(e.g1Generator(), q);
    const prep = await e.g2Prepare(q);
    const table = await e.gtFixedBase(g);
    const want = [hex(await prep.pairing(u)), hex(await prep.millerLoop(u)), hex(await table.pow(k))];
    prep.free();
    table.free();
    const script = `
      const { loadAddon } = await import(${JSON.stringify(new URL('../src/engine/native/addon.ts', import.meta.url).href)});
      const { loadEngine } = await import(${JSON.stringify(new URL('./helpers/engines.ts', import.meta.url).href)});
      const e = await loadEngine('native');
      const h = (s) => Uint8Array.from(Buffer.from(s, 'hex'));
      const prep = await e.g2Prepare(h('${hex(q)}'));
      const table = await e.gtFixedBase(h('${hex(g)}'));
      const u = h('${hex(u)}'), k = h('${hex(k)}');
      const out = [await prep.pairing(u), await prep.millerLoop(u), await table.pow(k)].map((b) => Buffer.from(b).toString('hex'));
      console.log(JSON.stringify({ out, info: loadAddon().addon.parInfo() }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, IBAKED_NATIVE_PAR: '0' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as { out: string[]; info: { available: boolean; parallel: number } };
    expect(got.out).toEqual(want);
    expect(got.info.available).toBe(false);
    expect(got.info.parallel).toBe(0);
  }, 60_000);

  it('worker_threads loading the addon share the helper; terminated workers and exit are clean', async () => {
    const { loadAddon } = await import('../src/engine/native/addon.js');
    const { path } = loadAddon();
    const worker = [
      "const { parentPort } = require('node:worker_threads');",
      `const a = require(${JSON.stringify(path)});`,
      '(async () => {',
      '  const G1 = a.runSync(0, []), G2 = a.runSync(1, []);',
      '  const prep = await a.run(17, [G2]);',
      '  const tab = await a.run(18, [await a.run(9, [G1, G2])]);',
      '  const k = new Uint8Array(32); k[31] = 9;',
      '  const outs = await Promise.all([prep.run(20, [G1]), tab.run(22, [k]), prep.run(20, [G1])]);',
      "  parentPort.postMessage(outs.map((o) => Buffer.from(o).toString('hex')).join(','));",
      '})();',
    ].join('\n');
    const script = [
      "const { Worker } = require('node:worker_threads');",
      'const ws = [0, 1, 2].map(() => new Worker(process.env.PAR_WORKER, { eval: true }));',
      'Promise.all(ws.map((w) => new Promise((r) => w.once("message", (m) => { r(m); w.terminate(); }))))',
      '  .then((got) => console.log(JSON.stringify(got)));',
    ].join('\n');
    const r = spawnSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { ...process.env, PAR_WORKER: worker },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const got = JSON.parse(r.stdout.trim()) as string[];
    expect(new Set(got).size).toBe(1);
    const [pair, pow, pair2] = got[0]!.split(',');
    expect(pair).toBe(pair2);
    expect(pair).toBe(hex(await e.pairing(e.g1Generator(), e.g2Generator())));
    const k = new Uint8Array(32);
    k[31] = 9;
    expect(pow).toBe(hex(await e.gtPow(await e.pairing(e.g1Generator(), e.g2Generator()), k)));
  }, 60_000);
});

// The C++ check needs the compiler and the blst archives the addon build left behind.
const haveCxx = spawnSync('g++', ['--version']).status === 0;
const haveLib = existsSync(`${ROOT}build/Release/obj.target/blst_portable.a`);
describe.runIf(!!native && haveCxx && haveLib)('scripts/par-check (C++)', () => {
  it('our Miller loop at every cut and the parallel paths equal blst bit for bit', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ITERS: '60' };
    delete env.LD_PRELOAD; // under test:sanitize: the compiler and this binary are not instrumented
    const r = spawnSync('bash', ['scripts/par-check'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(r.stdout).toMatch(/0 mismatches/);
    expect(r.status).toBe(0);
  }, 180_000);
});
