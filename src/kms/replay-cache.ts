// The KMS's replay cache of authenticated key requests: the generic bounded cache of
// src/util/replay-cache.ts (one implementation), re-exported under the KMS's module path.
export { ReplayCache, type ReplayCacheOptions, type ReplayVerdict } from '../util/replay-cache.js';
