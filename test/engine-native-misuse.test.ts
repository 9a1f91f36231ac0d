// Misuse of the native engine and of the raw addon: wrong types, wrong lengths, detached
// ArrayBuffers, buffers mutated or detached while work is in flight, calls after free(),
// huge inputs, hand-made native calls. Every case must end in a JS rejection/exception
// (an EngineError with the contract's reason where the contract defines one), never a crash,
// and results must still be right (checked against the ts backend or algebraic identities).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, R, randomScalar } from '../src/engine/scalar.js';
import type { Engine } from '../src/engine/types.js';
import { loadEngine } from './helpers/engines.js';
import { engineReason } from './helpers/outcome.js';

const native = await loadEngine('native');
const ts = await loadEngine('ts');
const run = describe.runIf(!!native);

const DST = 'IBAKED-NATIVE-MISUSE';
const k7 = bigintToBytes(7n, 32);

function detached(len: number): Uint8Array {
  const u = new Uint8Array(len).fill(1);
  structuredClone(u.buffer, { transfer: [u.buffer] });
  return u;
}

const WRONG_TYPES: unknown[] = [
  undefined,
  null,
  0,
  1.5,
  'abc',
  {},
  [1, 2, 3],
  new ArrayBuffer(48),
  new DataView(new ArrayBuffer(48)),
  new Uint16Array(24),
  new Int8Array(48),
  new Uint8ClampedArray(48),
  new Float64Array(6),
  Symbol('x'),
  () => 1,
  10n,
];

run('native engine misuse', () => {
  const e = native as Engine;

  it('wrong argument types reject with EngineError type, in every operation', async () => {
    const g1 = e.g1Generator();
    const g2 = e.g2Generator();
    const gt = await e.pairing(g1, g2);
    for (const bad of WRONG_TYPES) {
      const b = bad as Uint8Array;
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['g1Encode', () => e.g1Encode(b)],
        ['g2Encode', () => e.g2Encode(b)],
        ['gtValidate', () => e.gtValidate(b)],
        ['g1Mul p', () => e.g1Mul(b, k7)],
        ['g1Mul k', () => e.g1Mul(g1, b)],
        ['g2Mul k', () => e.g2Mul(g2, b)],
        ['g1Add b', () => e.g1Add(g1, b)],
        ['g2Add a', () => e.g2Add(b, g2)],
        ['pairing p2', () => e.pairing(g1, b)],
        ['millerLoop p1', () => e.millerLoop(b, g2)],
        ['finalExp', () => e.finalExp(b)],
        ['gtMul b', () => e.gtMul(gt, b)],
        ['gtPow k', () => e.gtPow(gt, b)],
        ['hashToG2 msg', () => e.hashToG2(b, DST)],
        ['g1FixedBase', () => e.g1FixedBase(b)],
        ['g2Prepare', () => e.g2Prepare(b)],
        ['gtFixedBase', () => e.gtFixedBase(b)],
      ];
      if (typeof bad !== 'string') calls.push(['hashToG1 dst', () => e.hashToG1(new Uint8Array(3), b)]);
      for (const [name, call] of calls) {
        expect(`${name}(${String(typeof bad === 'symbol' ? 'symbol' : bad)}) -> ${await engineReason(call)}`).toBe(
          `${name}(${String(typeof bad === 'symbol' ? 'symbol' : bad)}) -> type`,
        );
      }
    }
    expect(await engineReason(() => e.g1Encode(g1, 'packed' as never))).toBe('type');
  });

  it('wrong lengths reject with length (including empty and 64 MiB inputs)', async () => {
    const g1 = e.g1Generator();
    const huge = new Uint8Array(64 * 1024 * 1024);
    for (const len of [0, 1, 31, 33, 47, 49, 95, 97, 191, 193, 575, 577]) {
      const b = new Uint8Array(len).fill(0x80);
      if (len !== 48 && len !== 96) expect(await engineReason(() => e.g1Mul(b, k7))).toBe('length');
      if (len !== 96 && len !== 192) expect(await engineReason(() => e.g2Encode(b))).toBe('length');
      if (len !== 576) expect(await engineReason(() => e.gtValidate(b))).toBe('length');
      if (len !== 32) expect(await engineReason(() => e.g1Mul(g1, b))).toBe('length');
    }
    expect(await engineReason(() => e.g1Add(g1, huge))).toBe('length');
    expect(await engineReason(() => e.finalExp(huge))).toBe('length');
    expect(await engineReason(() => e.hashToG2(new Uint8Array(1), new Uint8Array(256)))).toBe('length');
    expect(await engineReason(() => e.hashToG2(new Uint8Array(1), ''))).toBe('length');
  });

  it('detached ArrayBuffers are empty inputs: length, never a crash', async () => {
    const g1 = e.g1Generator();
    expect(await engineReason(() => e.g1Mul(detached(48), k7))).toBe('length');
    expect(await engineReason(() => e.g1Mul(g1, detached(32)))).toBe('length');
    expect(await engineReason(() => e.gtPow(detached(576), k7))).toBe('length');
    expect(await engineReason(() => e.hashToG1(new Uint8Array(2), detached(10)))).toBe('length');
    // An empty message is legal (RFC 9380): a detached message hashes like an empty one.
    expect(await e.hashToG2(detached(5), DST)).toEqual(await e.hashToG2(new Uint8Array(0), DST));
  });

  it('inputs are copied at call time: mutating or detaching them during the work is harmless', async () => {
    const g1 = e.g1Generator();
    const g2 = e.g2Generator();
    const want = await e.pairing(g1, g2);
    for (let i = 0; i < 8; i++) {
      const a = g1.slice();
      const b = g2.slice();
      const p = e.pairing(a, b);
      if (i % 2) {
        a.fill(0xff);
        b.fill(0);
      } else {
        structuredClone(a.buffer, { transfer: [a.buffer] });
        structuredClone(b.buffer, { transfer: [b.buffer] });
      }
      expect(await p).toEqual(want);
    }
    const k = randomScalar();
    const kCopy = k.slice();
    const pm = e.g1Mul(g1, k);
    k.fill(0);
    expect(await pm).toEqual(await e.g1Mul(g1, kCopy));
  });

  it('does not modify the caller\'s scalar buffers', async () => {
    const k = randomScalar();
    const copy = k.slice();
    await e.g1Mul(e.g1Generator(), k);
    await e.gtPow(await e.pairing(e.g1Generator(), e.g2Generator()), k);
    expect(k).toEqual(copy);
  });

  it('handles: use after free rejects with freed, free is idempotent, in-flight work completes', async () => {
    const g1 = e.g1Generator();
    const g2 = e.g2Generator();
    const gt = await e.pairing(g1, g2);
    const t1 = await e.g1FixedBase(g1);
    const t2 = await e.g2Prepare(g2);
    const t3 = await e.gtFixedBase(gt);
    const k = randomScalar();
    const inflight = [t1.mul(k), t2.pairing(g1), t3.pow(k)];
    t1.free();
    t2.free();
    t3.free();
    t3.free();
    const [m, p, w] = await Promise.all(inflight);
    expect(m).toEqual(await e.g1Mul(g1, k));
    expect(p).toEqual(gt);
    expect(w).toEqual(await e.gtPow(gt, k));
    expect(await engineReason(() => t1.mul(k))).toBe('freed');
    expect(await engineReason(() => t2.pairing(g1))).toBe('freed');
    expect(await engineReason(() => t2.millerLoop(g1))).toBe('freed');
    expect(await engineReason(() => t3.pow(k))).toBe('freed');
    // freed wins over bad arguments, as on the other backends
    expect(await engineReason(() => t1.mul(null as never))).toBe('freed');
    expect(t1.point).toEqual(g1);
  });

  it('many concurrent operations all complete with the right values', async () => {
    const g1 = e.g1Generator();
    const g2 = e.g2Generator();
    const gt = await e.pairing(g1, g2);
    const ks = Array.from({ length: 24 }, () => randomScalar());
    const powered = await Promise.all(ks.map((k) => e.gtPow(gt, k)));
    const viaG1 = await Promise.all(ks.map(async (k) => e.pairing(await e.g1Mul(g1, k), g2)));
    expect(viaG1).toEqual(powered);
  });

  it('huge messages hash like the ts backend; r-1 and 1 are accepted scalars, r is not', async () => {
    const msg = new Uint8Array(1 << 20).map((_, i) => i * 7);
    expect(await e.hashToG2(msg, DST)).toEqual(await (ts as Engine).hashToG2(msg, DST));
    const g1 = e.g1Generator();
    const rm1 = bigintToBytes(R - 1n, 32);
    const neg = await e.g1Mul(g1, rm1);
    expect(await e.g1Add(neg, g1)).toEqual(Uint8Array.from([0xc0, ...new Uint8Array(47)]));
    expect(await engineReason(() => e.g1Mul(g1, bigintToBytes(R, 32)))).toBe('scalar-range');
    expect(await engineReason(() => e.g1Mul(g1, new Uint8Array(32)))).toBe('scalar-range');
    expect(await engineReason(() => e.g1Mul(g1, new Uint8Array(32).fill(0xff)))).toBe('scalar-range');
  });

  it('raw addon: bad op codes, bad argument lists and hand-made handles never crash', async () => {
    const { loadAddon } = await import('../src/engine/native/addon.js');
    const { addon } = loadAddon();
    const a = addon as unknown as Record<string, (...x: unknown[]) => unknown>;
    const bad: unknown[][] = [
      [],
      [99, []],
      [-1, []],
      [1.5, []],
      ['5', []],
      [5, 'not-an-array'],
      [5, new Array(100).fill(new Uint8Array(1))],
      [5, [new Uint8Array(48)]],
      [19, [k7]], // handle op without a handle
      [NaN, []],
    ];
    for (const args of bad) {
      await expect(Promise.resolve().then(() => a.run!(...args))).rejects.toBeInstanceOf(Error);
    }
    expect(() => a.runSync!(9, [])).toThrow();
    expect(() => a.runSync!()).toThrow();
    // a generator called with arguments is a misuse: an error, never an empty result
    expect(() => a.runSync!(1, [e.g1Generator()])).toThrow(expect.objectContaining({ reason: 'type' }));
    expect(() => a.runSync!(0, [new Uint8Array(1)])).toThrow(expect.objectContaining({ reason: 'type' }));
    expect((a.runSync!(1, []) as Uint8Array).length).toBe(96);
    const h = (await addon.run(16, [e.g1Generator()])) as { constructor: new (...x: unknown[]) => unknown; run: (...x: unknown[]) => Promise<unknown> };
    expect(() => new h.constructor()).toThrow();
    expect(() => new h.constructor({})).toThrow();
    await expect(h.run(9, [])).rejects.toBeInstanceOf(Error); // not a handle op
    await expect(h.run(20, [e.g1Generator()])).rejects.toBeInstanceOf(Error); // wrong handle kind
    await expect(h.run()).rejects.toBeInstanceOf(Error);
  });

  it('free() releases and wipes at once (no GC): a private key\'s G2 lines, tables; the live-handle count drops by one each', async () => {
    const { loadAddon } = await import('../src/engine/native/addon.js');
    const { addon } = loadAddon();
    const base = addon.liveHandles();
    // a "private key": [s]Q for a random s, prepared as G2 lines (what a keyring does)
    const S = await e.g2Mul(e.g2Generator(), randomScalar());
    const key = await e.g2Prepare(S);
    const table = await e.gtFixedBase(await e.pairing(e.g1Generator(), S));
    const g1 = await e.g1FixedBase(e.g1Generator());
    expect(addon.liveHandles()).toBe(base + 3);
    key.free();
    expect(addon.liveHandles()).toBe(base + 2);
    await expect(key.pairing(e.g1Generator())).rejects.toMatchObject({ reason: 'freed' });
    table.free();
    g1.free();
    expect(addon.liveHandles()).toBe(base);
    // in-flight work keeps its own reference: free() during a call, released when it ends
    const k2 = await e.g2Prepare(S);
    const pending = k2.pairing(e.g1Generator());
    k2.free();
    expect((await pending).length).toBe(576);
    await new Promise((r) => setTimeout(r, 10));
    expect(addon.liveHandles()).toBe(base);
  });

  it('handles dropped without free() are released by the garbage collector', () => {
    const script = `
      const { loadNativeEngine } = await import(${JSON.stringify(new URL('../src/engine/native/index.ts', import.meta.url).href)});
      const { loadAddon } = await import(${JSON.stringify(new URL('../src/engine/native/addon.ts', import.meta.url).href)});
      const e = await loadNativeEngine();
      const { addon } = loadAddon();
      const gt = await e.pairing(e.g1Generator(), e.g2Generator());
      const before = addon.liveHandles();
      const kept = await e.gtFixedBase(gt);
      for (let i = 0; i < 200; i++) {
        await e.gtFixedBase(gt);
        await e.g1FixedBase(e.g1Generator());
        await e.g2Prepare(e.g2Generator());
        if (i % 40 === 0) globalThis.gc();
      }
      for (let i = 0; i < 5; i++) {
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 20));
      }
      const afterGc = addon.liveHandles();
      const still = await kept.pow(${JSON.stringify(Array.from(k7))}.length ? Uint8Array.from(${JSON.stringify(Array.from(k7))}) : null);
      kept.free();
      console.log(JSON.stringify({ before, afterGc, afterFree: addon.liveHandles(), ok: still.length === 576 }));
    `;
    const root = fileURLToPath(new URL('..', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'ibaked-gc-'));
    const file = join(dir, 'gc.mts');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file], {
      cwd: root,
      encoding: 'utf8',
      env: process.env,
      timeout: 60_000,
    });
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).not.toMatch(/Segmentation|Abort|double free/);
    expect(r.status).toBe(0);
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as { before: number; afterGc: number; afterFree: number; ok: boolean };
    expect(got.before).toBe(0);
    // 600 dropped tables; after GC only the kept one (and maybe a few not yet finalised) remain.
    expect(got.afterGc).toBeLessThan(50);
    expect(got.afterGc).toBeGreaterThanOrEqual(1);
    expect(got.ok).toBe(true);
    expect(got.afterFree).toBe(got.afterGc - 1);
  });
});
