#!/usr/bin/env node
// Entry point of the `ibake` CLI (compiled TypeScript lives in dist/; `npm run build`).
process.env.IBAKE_CLI_ENTRY = '1';
await import('../dist/cli/ibake.js');
