// makeDirSync (src/util/make-dir.ts), the mkdir -p that replaced Node's recursive mkdir, which
// on Node 20 spins forever inside one synchronous call when mkdir(2) answers ENOENT under an
// existing parent (procfs: /proc/x). Bad paths — under /proc, under /sys, under a regular file,
// in a directory the process may not write — must fail at once with the caller's typed error
// naming the path and the errno (none of these cases needs a timeout to finish); and the real
// daemon given such a --var-dir or --socket must exit non-zero with one clear fatal line
// (a daemon that does not exit is SIGKILLed, so a regression fails instead of hanging).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/daemon/config.js';
import { prekeyMethods } from '../src/daemon/prekey-methods.js';
import type { Engine } from '../src/engine/types.js';
import type { IbeParams } from '../src/ibe/index.js';
import { KmsError } from '../src/kms/errors.js';
import { nobodyCanRead, nobodyDist } from './helpers/nobody-dist.js';
import { initKmsDir } from '../src/kms/master.js';
import { IbakedError } from '../src/util/errors.js';
import { makeDirSync } from '../src/util/make-dir.js';
import { BUILT, startDaemonProc } from './helpers/daemon-proc.js';
import { fastestEngine } from './helpers/engines.js';

class TestError extends IbakedError {
  constructor(message: string) {
    super('TEST', message);
  }
}
const fail = (m: string) => new TestError(m);

/** The error makeDirSync threw for `dir` (fails the test if it did not throw). */
function failure(dir: string, mode = 0o700): TestError {
  try {
    makeDirSync(dir, mode, fail);
  } catch (e) {
    expect(e).toBeInstanceOf(TestError);
    return e as TestError;
  }
  throw new Error(`makeDirSync(${dir}) did not throw`);
}

/** Does plain mkdir(2) of `p` fail with `code` here (the kernel behaviour the case relies on)? */
function mkdirFailsWith(p: string, code: string): boolean {
  try {
    mkdirSync(p);
    rmSync(p, { recursive: true });
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === code;
  }
}

let root: string;
let umask: number;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ibaked-mkdir-'));
  chmodSync(root, 0o755);
  umask = process.umask();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('makeDirSync', () => {
  it('creates every missing component with the mode (less the umask) and returns the first one', () => {
    const dir = join(root, 'a', 'b', 'c');
    expect(makeDirSync(dir, 0o700, fail)).toBe(join(root, 'a'));
    for (const p of [join(root, 'a'), join(root, 'a', 'b'), dir]) {
      const st = statSync(p);
      expect(st.isDirectory()).toBe(true);
      expect(st.mode & 0o777, p).toBe(0o700 & ~umask);
    }
    const other = join(root, 'a', 'b', 'd', 'e');
    expect(makeDirSync(other, 0o750, fail)).toBe(join(root, 'a', 'b', 'd'));
    expect(statSync(other).mode & 0o777).toBe(0o750 & ~umask);
    expect(statSync(join(root, 'a', 'b')).mode & 0o777, 'an existing parent keeps its mode').toBe(0o700 & ~umask);
  });

  it('accepts an existing directory (and a symlink to one) as it is, relative paths too', () => {
    const dir = join(root, 'exists');
    mkdirSync(dir, { mode: 0o755 });
    expect(makeDirSync(dir, 0o700, fail)).toBeUndefined();
    expect(statSync(dir).mode & 0o777).toBe(0o755 & ~umask);
    symlinkSync(dir, join(root, 'link'));
    expect(makeDirSync(join(root, 'link'), 0o700, fail)).toBeUndefined();
    expect(makeDirSync(join(root, 'link', 'sub'), 0o700, fail)).toBe(join(root, 'link', 'sub'));
    expect(existsSync(join(dir, 'sub'))).toBe(true);
    expect(makeDirSync('.', 0o700, fail)).toBeUndefined();
    expect(makeDirSync('/', 0o700, fail)).toBeUndefined();
  });

  it('refuses a path under a regular file, or a regular file itself', () => {
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    expect(failure(join(file, 'x', 'y')).message).toBe(`cannot create directory ${join(file, 'x', 'y')}: ${file} exists and is not a directory`);
    expect(failure(file).message).toBe(`cannot create directory ${file}: ${file} exists and is not a directory`);
  });

  it('refuses a dangling symlink', () => {
    symlinkSync(join(root, 'nowhere'), join(root, 'dangling'));
    expect(failure(join(root, 'dangling', 'x')).message).toMatch(/dangling\): it exists but cannot be followed \(stat: ENOENT\)$/);
  });

  it('refuses a path under /proc with ENOENT, where Node 20 recursive mkdir spins forever', () => {
    expect(failure('/proc/ibaked-test-x').message).toBe('cannot create directory /proc/ibaked-test-x: mkdir failed with ENOENT (no such file or directory)');
    expect(failure('/proc/self/ibaked-x/y').message).toBe('cannot create directory /proc/self/ibaked-x/y (at /proc/self/ibaked-x): mkdir failed with ENOENT (no such file or directory)');
  });

  it.runIf(existsSync('/sys/kernel') && mkdirFailsWith('/sys/ibaked-test-x', 'EPERM'))('refuses a path under /sys with EPERM', () => {
    expect(failure('/sys/ibaked-test-x/y').message).toBe('cannot create directory /sys/ibaked-test-x/y (at /sys/ibaked-test-x): mkdir failed with EPERM (operation not permitted)');
  });

  it('rejects an empty path or one with a NUL', () => {
    expect(failure('').message).toMatch(/not a valid path/);
    expect(failure('/tmp/a\0b').message).toMatch(/not a valid path/);
  });

  // root ignores permission bits: the case runs as uid 65534 in a child (needs root and the
  // built dist/, loaded from a copy uid 65534 can read when the checkout is not: nobody-dist.ts)
  const dist = nobodyDist();
  const MAKE_DIR_JS = dist ? join(dist, 'util', 'make-dir.js') : '';
  const nobodyCanLoad = dist !== undefined && nobodyCanRead(MAKE_DIR_JS, 65534);
  it.runIf(nobodyCanLoad)('refuses a directory the process may not write (EACCES, as uid 65534)', () => {
    const locked = join(root, 'locked');
    mkdirSync(locked, { mode: 0o755 });
    const target = join(locked, 'x', 'y');
    const script = `import(${JSON.stringify(MAKE_DIR_JS)}).then(({ makeDirSync }) => {
      try { makeDirSync(${JSON.stringify(target)}, 0o700, (m) => new Error(m)); console.log('created'); } catch (e) { console.log(e.message); }
    })`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, cwd: '/', encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    expect(r.stdout.trim(), r.stderr).toBe(`cannot create directory ${target} (at ${join(locked, 'x')}): mkdir failed with EACCES (permission denied)`);
    expect(existsSync(join(locked, 'x'))).toBe(false);
  });
});

describe('callers report it as their typed error', () => {
  let engine: Engine;
  let params: IbeParams;
  beforeAll(async () => {
    engine = await fastestEngine();
    params = await initKmsDir(join(root, 'kms'), { suite: 'bls12381-bf', period: 'month', kmsId: 'sip:kms.example.org', engine });
  });

  it('initKmsDir: KmsError KMS_CONFIG', async () => {
    const e = await initKmsDir('/proc/ibaked-test-x/kms', { suite: 'bls12381-bf', period: 'month', kmsId: 'sip:kms.example.org', engine }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KmsError);
    expect(e).toMatchObject({ code: 'KMS_CONFIG', message: expect.stringContaining('/proc/ibaked-test-x') });
  });

  it('prekey methods (state dir created on first use): ConfigError', async () => {
    const m = prekeyMethods({ engine, params, stateDir: '/proc/ibaked-test-x', isLocal: () => false, fetchSigningKey: () => Promise.reject(new Error('unused')) });
    const e = await m.handlers['prekeys.status']!({}, {} as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toBe('cannot create directory /proc/ibaked-test-x: mkdir failed with ENOENT (no such file or directory)');
    m.close();
  });
});

describe.runIf(BUILT)('the daemon refuses an uncreatable directory with one fatal line', () => {
  /** Starts ibaked with `args`; SIGKILLs it if it has not exited within 20 s (a hang). */
  async function refused(args: string[]) {
    const d = await startDaemonProc({}, { args, wait: false });
    const killer = setTimeout(() => d.p.kill('SIGKILL'), 20_000);
    const code = await d.exited;
    clearTimeout(killer);
    const fatal = d.records().filter((r) => r.level === 'fatal');
    return { code, fatal, err: d.err() };
  }

  it('--var-dir under /proc: exit 2, CONFIG', async () => {
    const r = await refused(['--var-dir', '/proc/ibaked-test-x']);
    expect(r.code, r.err).toBe(2);
    expect(r.fatal).toHaveLength(1);
    expect(r.fatal[0]).toMatchObject({ code: 'CONFIG', msg: 'cannot create directory /proc/ibaked-test-x: mkdir failed with ENOENT (no such file or directory); refusing to start' });
  });

  it('--socket in a directory under /proc: exit 1, SOCKET_LISTEN', async () => {
    const r = await refused(['--socket', '/proc/x/ibaked.sock']);
    expect(r.code, r.err).toBe(1);
    expect(r.fatal).toHaveLength(1);
    expect(r.fatal[0]).toMatchObject({ code: 'SOCKET_LISTEN', msg: 'cannot listen on /proc/x/ibaked.sock: cannot create directory /proc/x: mkdir failed with ENOENT (no such file or directory); refusing to start' });
  });
});
