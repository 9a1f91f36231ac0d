// Which pairing engine the IBE API uses when the caller passes none: the project's selector
// (src/engine/select.ts: native, else wasm, else ts; IBAKED_ENGINE overrides), asked once per
// process (per requested name). Backends load lazily, so rfc5091-bf never pays for them.
import { selectEngine } from '../engine/select.js';
import type { Engine, EngineName } from '../engine/types.js';

const chosen = new Map<string, Promise<Engine>>();

/** The engine to use: `engine` if given, else the selector's choice (optionally by name). */
export async function resolveEngine(engine?: Engine, name?: EngineName): Promise<Engine> {
  if (engine) return engine;
  const k = name ?? '';
  let p = chosen.get(k);
  if (!p) {
    p = selectEngine(name ? { name } : undefined).then((s) => s.engine);
    p.catch(() => chosen.delete(k));
    chosen.set(k, p);
  }
  return p;
}
