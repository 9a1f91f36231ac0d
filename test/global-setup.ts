// vitest global setup: a copy of the built dist/ that uid 65534 ("nobody") can load, for the tests
// that run a client or a module as another uid (helpers/nobody-dist.ts). A clone under a 0700
// directory (CI's mktemp -d) is out of that uid's reach, so then dist/ and msgpackr (the only
// package the copied modules import outside node:) go into a fresh 0755 directory under the OS
// temp directory, named to the test processes by IBAKED_TEST_NOBODY_DIST and removed at the end
// of the run. Nothing is done without root (no other uid to run as), without a build, or when
// uid 65534 can read the checkout itself.
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nobodyCanRead } from './helpers/nobody-dist.js';

let made: string | undefined;

export function setup(): void {
  const dist = join(process.cwd(), 'dist');
  const probe = join(dist, 'client', 'ipc.js');
  if (process.getuid?.() !== 0 || !existsSync(probe) || nobodyCanRead(probe)) return;
  made = mkdtempSync(join(tmpdir(), 'ibaked-nobody-'));
  chmodSync(made, 0o755);
  cpSync(dist, join(made, 'dist'), { recursive: true, dereference: true });
  cpSync(join(process.cwd(), 'node_modules', 'msgpackr'), join(made, 'node_modules', 'msgpackr'), { recursive: true, dereference: true });
  for (const sub of ['dist', 'node_modules', join('node_modules', 'msgpackr')]) chmodSync(join(made, sub), 0o755);
  process.env.IBAKED_TEST_NOBODY_DIST = join(made, 'dist');
}

export function teardown(): void {
  if (made) rmSync(made, { recursive: true, force: true });
}
