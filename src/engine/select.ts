// Engine selection (DESIGN §4): native, else wasm, else ts. IBAKED_ENGINE=native|wasm|ts (or
// opts.name) forces one backend; if that one cannot load, selection fails with
// EngineError('unavailable') — an explicit request never falls back silently.
// Backends are imported lazily (dynamic import), so a missing or broken native addon or
// mcl-wasm never breaks startup of a process that does not end up using it.
import { EngineError } from './errors.js';
import type { Engine, EngineName } from './types.js';

export const ENGINE_NAMES: readonly EngineName[] = ['native', 'wasm', 'ts'];

export type EngineLoader = () => Promise<Engine>;

export interface EngineAttempt {
  name: EngineName;
  ok: boolean;
  error?: string;
}

export interface EngineSelection {
  engine: Engine;
  /** One line for logs/status: which engine and why. */
  reason: string;
  tried: EngineAttempt[];
}

/**
 * Imports a backend module relative to this file and calls its loader. The specifier is built
 * at run time so the type checker and bundlers do not require the (optional) native module.
 */
function lazy(path: string, fn: string): EngineLoader {
  return async () => {
    const mod = (await import(new URL(path, import.meta.url).href)) as Record<string, unknown>;
    const load = mod[fn];
    if (typeof load !== 'function') throw new Error(`${path} does not export ${fn}()`);
    return (load as EngineLoader)();
  };
}

/** The production loaders: each imports its backend module only when called. */
export const DEFAULT_LOADERS: Readonly<Record<EngineName, EngineLoader>> = {
  native: lazy('./native/index.js', 'loadNativeEngine'),
  wasm: lazy('./wasm/index.js', 'loadWasmEngine'),
  ts: lazy('./ts/index.js', 'loadTsEngine'),
};

function isEngineName(v: string): v is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(v);
}

function describe(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 300);
}

/**
 * Like selectEngine, with the loaders and environment given explicitly (for tests and for
 * callers that bring their own backends).
 */
export async function selectEngineWith(
  loaders: Readonly<Record<EngineName, EngineLoader>>,
  opts: { name?: EngineName } = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<EngineSelection> {
  let forced: EngineName | undefined;
  let source = '';
  if (opts.name !== undefined) {
    if (typeof opts.name !== 'string' || !isEngineName(opts.name)) {
      throw new EngineError('unavailable', `unknown engine ${JSON.stringify(opts.name)}; expected native, wasm or ts`);
    }
    forced = opts.name;
    source = 'requested by the caller';
  } else {
    const v = env.IBAKED_ENGINE?.trim();
    if (v) {
      if (!isEngineName(v)) {
        throw new EngineError('unavailable', `IBAKED_ENGINE=${JSON.stringify(v)} is not an engine; expected native, wasm or ts`);
      }
      forced = v;
      source = `IBAKED_ENGINE=${v}`;
    }
  }

  const tried: EngineAttempt[] = [];
  const order = forced ? [forced] : ENGINE_NAMES;
  for (const name of order) {
    try {
      const engine = await loaders[name]();
      if (engine.name !== name) throw new Error(`loader returned the ${engine.name} engine`);
      tried.push({ name, ok: true });
      const skipped = tried.filter((t) => !t.ok).map((t) => `${t.name}: ${t.error}`);
      const reason = forced
        ? `${name} engine (${source})`
        : skipped.length === 0
          ? `${name} engine (preferred)`
          : `${name} engine (fallback; ${skipped.join('; ')})`;
      return { engine, reason, tried };
    } catch (e) {
      tried.push({ name, ok: false, error: describe(e) });
      if (forced) {
        throw new EngineError('unavailable', `${name} engine (${source}) is unavailable: ${describe(e)}`);
      }
    }
  }
  throw new EngineError('unavailable', `no engine could be loaded: ${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}`);
}

/** Picks the engine for this process: native, else wasm, else ts, unless one is forced. */
export function selectEngine(opts?: { name?: EngineName }): Promise<EngineSelection> {
  return selectEngineWith(DEFAULT_LOADERS, opts);
}
