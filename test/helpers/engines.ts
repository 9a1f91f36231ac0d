// Test helper: the engine backends available on this machine, so every engine test runs on
// every backend. ts must always load; wasm must load wherever mcl-wasm is installed; native may
// be absent only when its addon was not built (IBAKED_REQUIRE_NATIVE=1 makes absence an error,
// as CI sets). TEST_ENGINES=ts,wasm restricts the list.
import type { Engine, EngineName } from '../../src/engine/types.js';

const LOADERS: Record<EngineName, { path: string; fn: string }> = {
  ts: { path: '../../src/engine/ts/index.js', fn: 'loadTsEngine' },
  wasm: { path: '../../src/engine/wasm/index.js', fn: 'loadWasmEngine' },
  native: { path: '../../src/engine/native/index.js', fn: 'loadNativeEngine' },
};

const cache = new Map<EngineName, Promise<Engine | undefined>>();

async function tryLoad(name: EngineName): Promise<Engine | undefined> {
  const { path, fn } = LOADERS[name];
  let mod: Record<string, unknown>;
  try {
    mod = (await import(new URL(path, import.meta.url).href)) as Record<string, unknown>;
  } catch (e) {
    if (name === 'ts') throw e;
    if (name === 'native' && process.env.IBAKED_REQUIRE_NATIVE === '1') throw e;
    return undefined;
  }
  try {
    return await (mod[fn] as () => Promise<Engine>)();
  } catch (e) {
    if (name === 'ts' || name === 'wasm') throw e;
    if (process.env.IBAKED_REQUIRE_NATIVE === '1') throw e;
    return undefined;
  }
}

export function loadEngine(name: EngineName): Promise<Engine | undefined> {
  let p = cache.get(name);
  if (!p) {
    p = tryLoad(name);
    cache.set(name, p);
  }
  return p;
}

export async function availableEngines(): Promise<Engine[]> {
  const wanted = (process.env.TEST_ENGINES ?? 'ts,wasm,native').split(',') as EngineName[];
  const out: Engine[] = [];
  for (const n of wanted) {
    const e = await loadEngine(n);
    if (e) out.push(e);
  }
  return out;
}

/** The fastest available backend (native, else wasm, else the first one available): for tests
 * whose subject is not the engine and that need only one. */
export async function fastestEngine(): Promise<Engine> {
  const all = await availableEngines();
  const e = all.find((x) => x.name === 'native') ?? all.find((x) => x.name === 'wasm') ?? all[0];
  if (!e) throw new Error('no engine available (TEST_ENGINES?)');
  return e;
}
