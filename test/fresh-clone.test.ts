// A fresh clone stands on its own. Clones the committed HEAD of this repository into an empty
// temporary folder (nothing beside it: no sibling folder of reference material), copies node_modules
// and the compiled addon (what `npm ci` would produce), builds with tsc, and runs the vector
// tests there with vitest. Passes only if every vector the tests read is in the repository.
// Deliberately a subprocess test of ~20–60 s: it is the only way to prove the clone needs
// nothing from outside. It tests what is committed (uncommitted edits are not in the clone).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from './helpers/repo.js';

const VECTOR_TESTS = ['test/vectors.test.ts', 'test/engine-vectors.test.ts', 'test/srtp-kdf.test.ts', 'test/mikey-rfc4567.test.ts', 'test/ibe-rfc5091.test.ts', 'test/mikey-keys.test.ts'];
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const haveGit = spawnSync('git', ['-C', REPO, 'rev-parse', 'HEAD'], { stdio: 'ignore' }).status === 0;

describe.runIf(haveGit)('a fresh clone with nothing beside it', () => {
  const top = mkdtempSync(join(tmpdir(), 'ibaked-clone-'));
  const clone = join(top, 'x');
  afterAll(() => rmSync(top, { recursive: true, force: true }));

  it('the committed tree names no folder outside the repository', () => {
    // spelled in pieces so that this file does not match itself
    const hits = spawnSync('git', ['-C', REPO, 'grep', '-n', '-I', '-F', '-e', '..' + '/shared', '-e', 'IBAKED_' + 'SHARED', 'HEAD', '--', '.'], { encoding: 'utf8' });
    expect(hits.stdout).toBe('');
  });

  it('clones, builds and passes the vector tests', { timeout: 600_000 }, () => {
    const head = git(REPO, 'rev-parse', 'HEAD');
    git(top, 'clone', '-q', '--no-checkout', REPO, 'x');
    git(clone, 'checkout', '-q', '--detach', head);
    expect(readdirSync(top)).toEqual(['x']);
    // what `npm ci` would leave: the dependencies and the compiled addon (without the addon the
    // engines fall back to wasm/ts, which the vector tests also cover)
    cpSync(join(REPO, 'node_modules'), join(clone, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    const release = join(REPO, 'build', 'Release');
    if (existsSync(release)) {
      for (const f of readdirSync(release).filter((n) => n.endsWith('.node'))) cpSync(join(release, f), join(clone, 'build', 'Release', f));
    }
    // a child vitest must not think it is one of our workers
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VITEST|TINYPOOL|NODE_OPTIONS$)/.test(k)));
    const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { cwd: clone, env, encoding: 'utf8', timeout: 300_000 });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    const report = join(top, 'vitest.json');
    const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...VECTOR_TESTS, '--reporter=json', `--outputFile=${report}`], {
      cwd: clone, env, encoding: 'utf8', timeout: 600_000,
    });
    expect(existsSync(report), run.stdout.slice(-2000) + run.stderr.slice(-2000)).toBe(true);
    const r = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; numTotalTestSuites: number; testResults: { name: string; status: string }[] };
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    expect(r.numFailedTests).toBe(0);
    expect(r.testResults.map((t) => t.status)).toEqual(VECTOR_TESTS.map(() => 'passed'));
    expect(r.numPassedTests).toBeGreaterThan(30);
  });
});
