// Loading one of the daemon's tiny optional OS addons (ibaked_peercred, ibaked_sched: plain
// N-API C, no crypto, built beside the engine addon): once, from build/Release unless an
// environment variable names another file, switched off by another, its exports checked.
// When it cannot be used the reason is kept for the start-up log and the caller falls back.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../engine/native/addon.js';

export interface SmallAddonSpec {
  /** file name under build/Release, e.g. 'ibaked_sched.node' */
  file: string;
  /** variable that names another file instead */
  pathVar: string;
  /** variable and value that switch the addon off */
  off: { name: string; value: string };
  /** exports that must be functions */
  functions: readonly string[];
}

/** A lazily loaded addon: `get()` gives it or null, `why` says why not. */
export function smallAddon<T>(spec: SmallAddonSpec): { get(): T | null; readonly why: string } {
  let addon: T | null | undefined;
  let why = '';
  const get = (): T | null => {
    if (addon !== undefined) return addon;
    const path = process.env[spec.pathVar] ?? join(packageRoot(), 'build', 'Release', spec.file);
    addon = null;
    if (process.env[spec.off.name] === spec.off.value) why = `disabled (${spec.off.name}=${spec.off.value})`;
    else if (!existsSync(path)) why = `${path} not built`;
    else {
      try {
        const m = createRequire(import.meta.url)(path) as Record<string, unknown>;
        if (spec.functions.every((f) => typeof m[f] === 'function')) addon = m as T;
        else why = `${path} has an unexpected interface`;
      } catch (e) {
        why = `${path} does not load: ${(e as Error).message}`;
      }
    }
    return addon;
  };
  return {
    get,
    get why() {
      return why;
    },
  };
}
