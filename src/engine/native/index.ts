// Entry point of the native backend: loadNativeEngine() resolves to the Engine over our blst
// addon, or rejects with EngineError('unavailable', why) when the addon is not built/loadable.
import type { Engine } from '../types.js';
import { loadAddon } from './addon.js';
import { createNativeEngine } from './engine.js';

export { createNativeEngine } from './engine.js';

/** Which compiled variant was loaded ('adx' or 'portable') and from where; for diagnostics. */
export function nativeBuildInfo(): { variant: 'adx' | 'portable'; path: string } {
  const { addon, path } = loadAddon();
  return { variant: addon.variant, path };
}

export async function loadNativeEngine(): Promise<Engine> {
  const { addon } = loadAddon();
  return createNativeEngine(addon);
}
