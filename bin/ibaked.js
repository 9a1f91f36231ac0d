#!/usr/bin/env -S node --max-semi-space-size=4 --single-threaded-gc --heap-growing-percent=200
// Entry point of the `ibaked` daemon (compiled TypeScript lives in dist/; `npm run build`).
// V8's young generation is capped at 4 MB semi-spaces (default 16): a call allocates about
// 200 KB, and a scavenge's pause grows with what was allocated since the last one (1–3.6 ms at
// 16 MB, every ~150 ms at N = 1): those pauses were the daemon's p99 at low load (p99 ÷ p50
// 2.5–3.0 → 1.6–2.1 with 4 MB, for about 3 % more CPU per call under full load;
// docs/performance.md "Tail latency"). Each isolate (main thread, shard workers) collects its
// own garbage on its own thread (--single-threaded-gc): V8's helper threads for parallel and
// concurrent collection only competed with the shards for the cores, for 2 % more CPU per
// call under full load and no better p99 (docs/performance.md "Garbage collection on the
// isolates' own threads"). An isolate's old generation may grow to 3 times what survived its
// last full collection before the next one starts (--heap-growing-percent=200; V8 chose about
// 1.7 times here, for a full collection every 1–2 s per isolate under load): fewer full
// collections, for about 1.5 % less CPU per call under full load and about 30 MB more heap per
// busy isolate. Run by hand as `node bin/ibaked.js`, pass the flags too.
process.env.IBAKED_DAEMON_ENTRY = '1';
// Native crypto runs on libuv's thread pool, shared by every shard worker: size it to the cores
// (libuv reads this once, on the pool's first use, so it must be set before anything runs).
import { availableParallelism } from 'node:os';
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()));
await import('../dist/daemon/main.js');
