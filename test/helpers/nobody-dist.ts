// Test helper: this checkout's built dist/ where uid 65534 ("nobody") can load it, for the tests
// that run a client or a module as another uid. A clone under a 0700 directory (CI's mktemp -d)
// is out of that uid's reach, so there the helper copies dist/ and msgpackr (the only package
// the copied modules import outside node:) into a fresh 0755 directory under the OS temp
// directory, once per test process, removed at exit. Without root there is no other uid to run
// as, and without a build nothing to load: then it gives undefined and the tests skip.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NOBODY = 65534;

/** Whether uid 65534 (with gid `gid`) can read `file`. */
export function nobodyCanRead(file: string, gid = 0): boolean {
  return spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(file)})`], { uid: NOBODY, gid, cwd: '/', timeout: 20_000, killSignal: 'SIGKILL' }).status === 0;
}

let cached: string | null | undefined;

/** A dist/ directory uid 65534 can load modules from (see above), or undefined. */
export function nobodyDist(): string | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  const dist = join(process.cwd(), 'dist');
  if (process.getuid?.() !== 0 || !existsSync(join(dist, 'client', 'ipc.js'))) return undefined;
  if (nobodyCanRead(join(dist, 'client', 'ipc.js')) && nobodyCanRead(join(dist, 'client', 'ipc.js'), NOBODY)) return (cached = dist);
  const dir = mkdtempSync(join(tmpdir(), 'ibaked-nobody-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  cpSync(dist, join(dir, 'dist'), { recursive: true, dereference: true });
  cpSync(join(process.cwd(), 'node_modules', 'msgpackr'), join(dir, 'node_modules', 'msgpackr'), { recursive: true, dereference: true });
  for (const sub of ['dist', 'node_modules']) chmodSync(join(dir, sub), 0o755);
  chmodSync(join(dir, 'node_modules', 'msgpackr'), 0o755);
  return nobodyCanRead(join(dir, 'dist', 'client', 'ipc.js')) ? (cached = join(dir, 'dist')) : undefined;
}
