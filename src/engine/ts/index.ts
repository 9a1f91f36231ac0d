// Entry point of the pure-TypeScript engine backend (@noble/curves): the loader that
// test/helpers/engines.ts and the engine selector call.
export { createTsEngine, loadTsEngine } from './engine.js';
