// Entry point of the native backend: loadNativeEngine() resolves to the Engine over our blst
// addon, or rejects with EngineError('unavailable', why) when the addon is not built/loadable.
import type { Engine } from '../types.js';
import { loadAddon } from './addon.js';
import { createNativeEngine, type NativeEngineOptions } from './engine.js';

export { createNativeEngine, type NativeEngineOptions } from './engine.js';

/** Which compiled variant was loaded ('adx' or 'portable') and from where; for diagnostics. */
export function nativeBuildInfo(): { variant: 'adx' | 'portable'; path: string } {
  const { addon, path } = loadAddon();
  return { variant: addon.variant, path };
}

export async function loadNativeEngine(o: NativeEngineOptions = {}): Promise<Engine> {
  const { addon } = loadAddon();
  return createNativeEngine(addon, o);
}
