// Engine selection: preference order native > wasm > ts, the IBAKED_ENGINE / opts.name
// override, no silent fallback when a backend is asked for explicitly, and lazy loading (a
// loader that is not needed is never called). Fake loaders make every branch reachable on any
// machine; the real loaders are checked against the backends that this machine has.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineError } from '../src/engine/errors.js';
import { DEFAULT_LOADERS, selectEngine, selectEngineWith, type EngineLoader } from '../src/engine/select.js';
import type { Engine, EngineName } from '../src/engine/types.js';
import { loadEngine } from './helpers/engines.js';

const fakeEngine = (name: EngineName): Engine => ({ name }) as unknown as Engine;

function fakes(ok: Partial<Record<EngineName, boolean>>) {
  const calls: EngineName[] = [];
  const mk =
    (name: EngineName): EngineLoader =>
    async () => {
      calls.push(name);
      if (!ok[name]) throw new Error(`${name} backend missing`);
      return fakeEngine(name);
    };
  return { loaders: { native: mk('native'), wasm: mk('wasm'), ts: mk('ts') }, calls };
}

async function rejection(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected a rejection');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('selectEngineWith (fake backends)', () => {
  it('prefers native and loads nothing else', async () => {
    const { loaders, calls } = fakes({ native: true, wasm: true, ts: true });
    const s = await selectEngineWith(loaders, {}, {});
    expect(s.engine.name).toBe('native');
    expect(calls).toEqual(['native']);
    expect(s.tried).toEqual([{ name: 'native', ok: true }]);
    expect(s.reason).toMatch(/native/);
  });

  it('falls back native -> wasm -> ts and reports why', async () => {
    let f = fakes({ wasm: true, ts: true });
    let s = await selectEngineWith(f.loaders, {}, {});
    expect(s.engine.name).toBe('wasm');
    expect(f.calls).toEqual(['native', 'wasm']);
    expect(s.tried).toEqual([
      { name: 'native', ok: false, error: 'native backend missing' },
      { name: 'wasm', ok: true },
    ]);
    expect(s.reason).toMatch(/wasm.*fallback.*native backend missing/);

    f = fakes({ ts: true });
    s = await selectEngineWith(f.loaders, {}, {});
    expect(s.engine.name).toBe('ts');
    expect(f.calls).toEqual(['native', 'wasm', 'ts']);
    expect(s.tried.map((t) => t.ok)).toEqual([false, false, true]);
  });

  it('nothing loadable is EngineError(unavailable) listing every attempt', async () => {
    const { loaders } = fakes({});
    const e = await rejection(selectEngineWith(loaders, {}, {}));
    expect(e.reason).toBe('unavailable');
    expect(e.message).toMatch(/native backend missing.*wasm backend missing.*ts backend missing/);
  });

  it('IBAKED_ENGINE forces a backend even when a preferred one exists', async () => {
    const { loaders, calls } = fakes({ native: true, wasm: true, ts: true });
    const s = await selectEngineWith(loaders, {}, { IBAKED_ENGINE: 'ts' });
    expect(s.engine.name).toBe('ts');
    expect(calls).toEqual(['ts']);
    expect(s.reason).toMatch(/IBAKED_ENGINE=ts/);
  });

  it('an unavailable forced backend fails clearly, with no silent fallback', async () => {
    const { loaders, calls } = fakes({ wasm: true, ts: true });
    const e = await rejection(selectEngineWith(loaders, {}, { IBAKED_ENGINE: 'native' }));
    expect(e.reason).toBe('unavailable');
    expect(e.code).toBe('ENGINE_UNAVAILABLE');
    expect(e.message).toMatch(/native.*IBAKED_ENGINE=native.*unavailable.*native backend missing/);
    expect(calls).toEqual(['native']);
  });

  it('opts.name beats IBAKED_ENGINE and is equally strict', async () => {
    const { loaders, calls } = fakes({ native: true, wasm: true, ts: true });
    const s = await selectEngineWith(loaders, { name: 'wasm' }, { IBAKED_ENGINE: 'ts' });
    expect(s.engine.name).toBe('wasm');
    expect(calls).toEqual(['wasm']);
    const f2 = fakes({ ts: true });
    const e = await rejection(selectEngineWith(f2.loaders, { name: 'wasm' }, {}));
    expect(e.reason).toBe('unavailable');
    expect(f2.calls).toEqual(['wasm']);
  });

  it('unknown engine names are rejected; empty IBAKED_ENGINE means automatic', async () => {
    const { loaders } = fakes({ native: true, wasm: true, ts: true });
    expect((await rejection(selectEngineWith(loaders, {}, { IBAKED_ENGINE: 'gpu' }))).reason).toBe('unavailable');
    expect((await rejection(selectEngineWith(loaders, { name: 'WASM' as EngineName }, {}))).reason).toBe('unavailable');
    expect((await selectEngineWith(loaders, {}, { IBAKED_ENGINE: ' ' })).engine.name).toBe('native');
    expect((await selectEngineWith(loaders, {}, { IBAKED_ENGINE: ' wasm ' })).engine.name).toBe('wasm');
  });

  it('a loader returning the wrong backend counts as a failure', async () => {
    const loaders = {
      native: async () => fakeEngine('ts'),
      wasm: async () => fakeEngine('wasm'),
      ts: async () => fakeEngine('ts'),
    };
    const s = await selectEngineWith(loaders, {}, {});
    expect(s.engine.name).toBe('wasm');
    expect(s.tried[0]).toEqual({ name: 'native', ok: false, error: 'loader returned the ts engine' });
  });
});

describe('selectEngine (real backends)', () => {
  it('ts and wasm load on demand and compute like the helper-loaded backends', async () => {
    for (const name of ['ts', 'wasm'] as const) {
      const s = await selectEngine({ name });
      expect(s.engine.name).toBe(name);
      expect(s.tried).toEqual([{ name, ok: true }]);
      const ref = (await loadEngine('ts'))!;
      const k = new Uint8Array(32);
      k[31] = 7;
      expect(Buffer.from(await s.engine.g1Mul(ref.g1Generator(), k)).toString('hex')).toBe(
        Buffer.from(await ref.g1Mul(ref.g1Generator(), k)).toString('hex'),
      );
    }
  });

  it('automatic selection picks the best backend this machine has', async () => {
    vi.stubEnv('IBAKED_ENGINE', '');
    const s = await selectEngine();
    const native = await DEFAULT_LOADERS.native().then(
      () => true,
      () => false,
    );
    expect(s.engine.name).toBe(native ? 'native' : 'wasm');
    expect(s.tried[s.tried.length - 1]).toEqual({ name: s.engine.name, ok: true });
    if (!native) expect(s.tried[0]!.ok).toBe(false);
  });

  it('IBAKED_ENGINE in the environment is honoured by selectEngine()', async () => {
    vi.stubEnv('IBAKED_ENGINE', 'ts');
    expect((await selectEngine()).engine.name).toBe('ts');
    vi.stubEnv('IBAKED_ENGINE', 'wasm');
    expect((await selectEngine()).engine.name).toBe('wasm');
    vi.stubEnv('IBAKED_ENGINE', 'nope');
    expect((await rejection(selectEngine())).reason).toBe('unavailable');
  });
});
