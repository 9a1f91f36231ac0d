#!/usr/bin/env node
// Entry point of the `ibaked` daemon (compiled TypeScript lives in dist/; `npm run build`).
process.env.IBAKED_DAEMON_ENTRY = '1';
// Native crypto runs on libuv's thread pool, shared by every shard worker: size it to the cores
// (libuv reads this once, on the pool's first use, so it must be set before anything runs).
import { availableParallelism } from 'node:os';
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()));
await import('../dist/daemon/main.js');
