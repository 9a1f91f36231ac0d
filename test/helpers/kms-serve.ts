// Test helper for `ibake kms serve` run in-process: a KMS directory made by `ibake kms init`
// and a 0600 users file with one user in a fresh temp folder (created before the file's tests,
// removed after), and a CliIO that captures stdout/stderr and can wait for a stdout line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect } from 'vitest';
import type { IbeParams } from '../../src/ibe/index.js';
import { loadParamsFile } from '../../src/kms/master.js';
import { runCli } from './cli.js';

export const PSK = 'feedfacefeedfacefeedfacefeedface';
export const ALICE = 'sip:alice@example.org';

/** Registers the fixture's beforeAll/afterAll; `params` is set once beforeAll has run. */
export function kmsDirFixture(tag: string): { root: string; dir: string; users: string; params: IbeParams } {
  const root = mkdtempSync(join(tmpdir(), `${tag}-`));
  const f = { root, dir: join(root, 'kms'), users: join(root, 'users.json'), params: undefined as unknown as IbeParams };
  beforeAll(async () => {
    const r = await runCli(['kms', 'init', '--dir', f.dir, '--kms-id', `urn:ibaked:kms:${tag}`]);
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(f.users, JSON.stringify({ [ALICE]: PSK }), { mode: 0o600 });
    f.params = await loadParamsFile(join(f.dir, 'params.json'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return f;
}

/** A CliIO capturing output; waitFor(re) resolves once stdout matches. */
export function captureIo() {
  const out = { stdout: '', stderr: '' };
  let onOut: (() => void) | undefined;
  return {
    out,
    waitFor: (re: RegExp) =>
      new Promise<RegExpExecArray>((resolve) => {
        const check = () => {
          const m = re.exec(out.stdout);
          if (m) resolve(m);
          else onOut = check;
        };
        check();
      }),
    io: {
      stdin: Readable.from([]),
      stdout: (s: string) => {
        out.stdout += s;
        onOut?.();
      },
      stderr: (s: string) => (out.stderr += s),
    },
  };
}
