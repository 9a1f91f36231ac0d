// Entry point of the wasm engine backend (mcl-wasm): the loader that the engine selector and
// test/helpers/engines.ts call. Loading initialises mcl-wasm once per process; a missing or
// broken mcl-wasm surfaces as EngineError('unavailable').
import type { Engine } from '../types.js';
import { loadMcl } from './mcl.js';
import { createWasmEngine } from './engine.js';

let engine: Promise<Engine> | undefined;

export function loadWasmEngine(): Promise<Engine> {
  if (!engine) {
    engine = loadMcl().then(createWasmEngine);
    engine.catch(() => {
      engine = undefined;
    });
  }
  return engine;
}

export { createWasmEngine } from './engine.js';
