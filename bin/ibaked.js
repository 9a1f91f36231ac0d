#!/usr/bin/env node
// Entry point of the `ibaked` daemon (compiled TypeScript lives in dist/; `npm run build`).
process.env.IBAKED_DAEMON_ENTRY = '1';
await import('../dist/daemon/main.js');
