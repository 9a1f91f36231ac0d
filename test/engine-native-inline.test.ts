// The native engine's inline mode (createNativeEngine(addon, { inline: true }), what the daemon's
// shard workers run): every operation runs on the calling thread instead of the libuv pool. It
// must be the same engine in every observable way but where the work runs: the same bytes for
// the same random inputs as the pool-dispatched engine (whose agreement with the ts and wasm
// backends test/engine-cross.test.ts checks), the same EngineError reasons for bad inputs and
// for handles used after free(), and promises that are already settled when returned. One
// engine can also switch at run time (engine.setInline, as the daemon's main thread does while
// one exchange request is in flight): later operations follow the switch, handles made in one
// mode work in the other, and the bytes stay the same.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { randomScalar } from '../src/engine/scalar.js';
import type { Bytes, Engine } from '../src/engine/types.js';
import { loadAddon } from '../src/engine/native/addon.js';
import { createNativeEngine } from '../src/engine/native/engine.js';
import { loadEngine } from './helpers/engines.js';
import { engineReason } from './helpers/outcome.js';

const pooled = await loadEngine('native');
const run = describe.runIf(!!pooled);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const DST = 'IBAKED-INLINE-TEST';

/** Uses a precompute handle once, then frees it. */
async function withHandle<H extends { free(): void }>(made: Promise<H>, use: (h: H) => Promise<Bytes>): Promise<Bytes> {
  const h = await made;
  try {
    return await use(h);
  } finally {
    h.free();
  }
}

/** Whether p has settled before any macrotask runs (inline work settles before it is returned). */
async function settledBeforeMacrotask(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

run('native engine, inline mode', () => {
  const pool = pooled as Engine;
  const inl = createNativeEngine(loadAddon().addon, { inline: true });

  it('gives the bytes the pool-dispatched engine gives, on random inputs, for every operation', async () => {
    for (let i = 0; i < 12; i++) {
      const msg = randomBytes(1 + (i * 7) % 64);
      const [k1, k2] = [randomScalar(), randomScalar()];
      const same = async (what: string, f: (e: Engine) => Promise<Bytes | boolean | void>) => {
        const [a, b] = await Promise.all([f(pool), f(inl)]);
        const show = (v: unknown) => (v instanceof Uint8Array ? hex(v) : String(v));
        expect(show(b), `${what} (case ${i})`).toBe(show(a));
      };
      const P = await pool.hashToG1(msg, DST);
      const Q = await pool.hashToG2(msg, DST);
      await same('hashToG1', (e) => e.hashToG1(msg, DST));
      await same('hashToG2', (e) => e.hashToG2(msg, DST));
      await same('g1Mul', (e) => e.g1Mul(P, k1));
      await same('g2Mul', (e) => e.g2Mul(Q, k2));
      await same('g1Add', async (e) => e.g1Add(P, await e.g1Mul(P, k1)));
      await same('g2Add', async (e) => e.g2Add(Q, await e.g2Mul(Q, k1)));
      await same('g1Encode', (e) => e.g1Encode(P, 'uncompressed'));
      await same('g2Encode', (e) => e.g2Encode(Q, 'uncompressed'));
      await same('pairing', (e) => e.pairing(P, Q));
      await same('millerLoop+finalExp', async (e) => e.finalExp(await e.millerLoop(P, Q)));
      await same('multiPairing', (e) => e.multiPairing([[P, Q], [e.g1Generator(), Q]]));
      await same('gtPow', async (e) => e.gtPow(await e.pairing(P, Q), k1));
      await same('gtMul', async (e) => e.gtMul(await e.pairing(P, Q), await e.pairing(P, Q)));
      await same('gtValidate', async (e) => e.gtValidate(await e.pairing(P, Q)));
      await same('g1FixedBase', (e) => withHandle(e.g1FixedBase(P), (t) => t.mul(k2)));
      await same('g2Prepare', (e) => withHandle(e.g2Prepare(Q), (h) => h.pairing(P)));
      await same('gtFixedBase', async (e) => withHandle(e.gtFixedBase(await e.pairing(P, Q)), (t) => t.pow(k1)));
      if (pool.p256Mul) {
        // [k]G for a valid point, then [k2]([k]G)
        const { createECDH } = await import('node:crypto');
        const ec = createECDH('prime256v1');
        ec.generateKeys();
        const q = new Uint8Array(ec.getPublicKey(null, 'uncompressed'));
        await same('p256Mul', (e) => e.p256Mul!(k1, q));
      }
    }
  });

  it('the Boneh–Franklin core (bfCore) round-trips across the two modes', async () => {
    const core = inl.bfCore!;
    expect(core).toBeDefined();
    const Ppub = await pool.g1Mul(pool.g1Generator(), randomScalar());
    const id = randomBytes(24);
    const [ra, rb] = await Promise.all([pool.bfCore!.recipient(Ppub, id, new TextEncoder().encode(DST)), core.recipient(Ppub, id, new TextEncoder().encode(DST))]);
    expect(hex(rb.qId)).toBe(hex(ra.qId));
    expect(hex(rb.gId)).toBe(hex(ra.gId));
    const m = randomBytes(40);
    const rho = randomBytes(32);
    const [ca, cb] = await Promise.all([pool.bfCore!.encrypt(ra.gId, m, rho), core.encrypt(rb.gId, m, rho)]);
    expect(hex(cb.w)).toBe(hex(ca.w));
    expect(hex(cb.u)).toBe(hex(ca.u));
  });

  it('bad inputs and freed handles reject with the pool engine\'s reasons', async () => {
    const g1 = inl.g1Generator();
    const bad = [new Uint8Array(47), new Uint8Array(48).fill(0xff), 'x' as unknown as Uint8Array];
    for (const b of bad) {
      expect(await engineReason(inl.g1Mul(b, randomScalar()))).toBe(await engineReason(pool.g1Mul(b, randomScalar())));
      expect(await engineReason(inl.pairing(b, inl.g2Generator()))).toBe(await engineReason(pool.pairing(b, pool.g2Generator())));
    }
    const zero = new Uint8Array(32);
    expect(await engineReason(inl.g1Mul(g1, zero))).toBe(await engineReason(pool.g1Mul(g1, zero)));
    const h = await inl.g2Prepare(inl.g2Generator());
    h.free();
    expect(await engineReason(h.pairing(g1))).toBe('freed');
    // a rejection is a rejected promise, never a throw from the call itself
    expect(() => inl.g1Mul(new Uint8Array(3), zero).catch(() => {})).not.toThrow();
  });

  it('returns settled promises; the pool engine\'s settle only after a hop to the pool', async () => {
    const g1 = inl.g1Generator();
    const g2 = inl.g2Generator();
    expect(await settledBeforeMacrotask(inl.pairing(g1, g2))).toBe(true);
    expect(await settledBeforeMacrotask(inl.g1Mul(new Uint8Array(3), randomScalar()))).toBe(true);
    // the pool's work cannot have finished before this thread yielded to the event loop once
    // at least: a pairing takes hundreds of µs, a setImmediate turn a few
    const p = pool.pairing(g1, g2);
    let done = false;
    void p.then(() => (done = true));
    expect(done).toBe(false);
    await p;
  });

  it('setInline switches later operations of one engine, with the same bytes and handles that work across the switch', async () => {
    const e = createNativeEngine(loadAddon().addon);
    expect(typeof e.setInline).toBe('function');
    const g1 = e.g1Generator();
    const g2 = e.g2Generator();
    const k = randomScalar();
    const pooledBytes = hex(await e.g1Mul(g1, k));
    const h = await e.g2Prepare(await e.g2Mul(g2, k)); // made on the pool
    const viaPool = hex(await h.pairing(g1));
    e.setInline!(true);
    expect(await settledBeforeMacrotask(e.pairing(g1, g2))).toBe(true);
    expect(hex(await e.g1Mul(g1, k))).toBe(pooledBytes);
    expect(await settledBeforeMacrotask(h.pairing(g1))).toBe(true); // a pool-made handle, used inline
    expect(hex(await h.pairing(g1))).toBe(viaPool);
    const t = await e.g1FixedBase(g1); // made inline
    e.setInline!(false);
    expect(hex(await t.mul(k))).toBe(pooledBytes); // used on the pool
    const p = e.pairing(g1, g2);
    let done = false;
    void p.then(() => (done = true));
    expect(done).toBe(false);
    await p;
    h.free();
    t.free();
  });
});
