// Which pairing engine the IBE API uses when the caller passes none: the project's selector
// (src/engine/select.ts: native, else wasm, else ts; IBAKED_ENGINE overrides) when present,
// otherwise the pure-TypeScript engine. Loaded lazily so rfc5091-bf never pays for it.
import type { Engine, EngineName } from '../engine/types.js';

type Selector = (name?: EngineName) => Promise<Engine>;

let selectorP: Promise<Selector> | undefined;

async function loadSelector(): Promise<Selector> {
  const selectPath = '../engine/select.js';
  try {
    const mod = (await import(selectPath)) as { selectEngine?: Selector };
    if (typeof mod.selectEngine === 'function') return mod.selectEngine;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
  }
  const ts = await import('../engine/ts/index.js');
  return async (name?: EngineName) => {
    if (name && name !== 'ts') {
      const { EngineError } = await import('../engine/errors.js');
      throw new EngineError('unavailable', `engine '${name}' is not available (no engine selector yet)`);
    }
    return ts.loadTsEngine();
  };
}

/** The engine to use: `engine` if given, else the selector's choice (optionally by name). */
export async function resolveEngine(engine?: Engine, name?: EngineName): Promise<Engine> {
  if (engine) return engine;
  selectorP ??= loadSelector();
  return (await selectorP)(name);
}
