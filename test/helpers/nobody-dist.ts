// Test helper: where uid 65534 ("nobody") can load this checkout's built dist/ from, for the tests
// that run a client or a module as another uid: the checkout's own dist/ when that uid can read
// it, else the copy test/global-setup.ts made (IBAKED_TEST_NOBODY_DIST; a clone under a 0700
// directory, as CI's mktemp -d makes, is out of that uid's reach). Undefined without root (no
// other uid to run as) or without a build: then those tests skip and say so.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const NOBODY = 65534;

/** Whether uid 65534 (with gid `gid`) can read `file`. */
export function nobodyCanRead(file: string, gid = 0): boolean {
  return spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(file)})`], { uid: NOBODY, gid, cwd: '/', timeout: 20_000, killSignal: 'SIGKILL' }).status === 0;
}

let cached: string | null | undefined;

/** A dist/ directory uid 65534 can load modules from, or undefined (see above). */
export function nobodyDist(): string | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  if (process.getuid?.() !== 0) return undefined;
  for (const dist of [process.env.IBAKED_TEST_NOBODY_DIST, join(process.cwd(), 'dist')]) {
    if (dist && existsSync(join(dist, 'client', 'ipc.js')) && nobodyCanRead(join(dist, 'client', 'ipc.js'))) return (cached = dist);
  }
  return undefined;
}
