// CLI `ibake ibs sign|verify` and `kms extract --signing`, in-process via runCli, on every
// engine: round trip (a signature made by one engine verifies on the others); tampered message,
// signature bits, another identity, another period → exit 1 with one line; a decryption key
// used as the signing key → IBE_BAD_KEY; --help; usage errors → exit 2; rfc5091-bf params →
// IBE_BAD_PARAMS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './helpers/cli.js';
import { availableEngines } from './helpers/engines.js';

const root = mkdtempSync(join(tmpdir(), 'ibake-ibs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const engines = (await availableEngines()).map((e) => e.name);
const dir = join(root, 'kms');
const params = join(dir, 'params.json');
const MSG = 'prekey bundle: sip:bob@example.org 2026-11 ids 1..8\n';

function oneLineError(r: CliResult, code = 1): void {
  expect(r.code).toBe(code);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const flip = (b64: string, bit: number): string => {
  const b = Buffer.from(b64, 'base64');
  b[bit >> 3]! ^= 1 << (bit & 7);
  return b.toString('base64');
};

describe('ibake ibs sign|verify', () => {
  let key = '';
  let signingKey = '';
  const sigs = new Map<string, string>();

  it('kms init, kms extract --signing gives the decryption and the signing key', async () => {
    expect((await runCli(['kms', 'init', '--dir', dir, '--period', 'month', '--engine', engines[engines.length - 1]!])).code).toBe(0);
    const r = await runCli(['kms', 'extract', '--dir', dir, '--id', 'sip:bob@example.org', '--date', '2026-11-28', '--signing']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['id', 'key', 'period', 'signingKey']);
    ({ key, signingKey } = out);
    expect(Buffer.from(signingKey, 'base64')).toHaveLength(96);
    expect(signingKey).not.toBe(key);
  });

  it.each(engines)('%s: sign then verify; exit 0 and "valid"', async (engine) => {
    const s = await runCli(['ibs', 'sign', '--params', params, '--id', 'sip:bob@example.org', '--key', signingKey, '--date', '2026-11-02', '--engine', engine], MSG);
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    const sig = s.stdout.trim();
    expect(Buffer.from(sig, 'base64')).toHaveLength(192);
    sigs.set(engine, sig);
    const v = await runCli(['ibs', 'verify', '--params', params, '--id', 'sip:bob@example.org', '--sig', sig, '--date', '2026-11-30', '--engine', engine], MSG);
    expect(v).toMatchObject({ code: 0, stdout: 'valid\n', stderr: '' });
  });

  it('every engine verifies every engine’s signature', async () => {
    for (const [by, sig] of sigs) {
      for (const engine of engines) {
        const v = await runCli(['ibs', 'verify', '--params', params, '--id', 'sip:bob@example.org', '--sig', sig, '--date', '2026-11-30', '--engine', engine], MSG);
        expect(`${by}->${engine}: ${v.code}`).toBe(`${by}->${engine}: 0`);
      }
    }
  });

  it('tampered message / signature, another identity or period: exit 1, one line', async () => {
    const sig = [...sigs.values()][0]!;
    const base = ['ibs', 'verify', '--params', params, '--sig', sig, '--engine', engines[engines.length - 1]!];
    const cases: Array<[string[], string, RegExp]> = [
      [['--id', 'sip:bob@example.org', '--date', '2026-11-30'], MSG.replace('8', '9'), /IBE_SIGNATURE_INVALID/],
      [['--id', 'sip:eve@example.org', '--date', '2026-11-30'], MSG, /IBE_SIGNATURE_INVALID/],
      [['--id', 'sip:bob@example.org', '--date', '2026-12-01'], MSG, /IBE_SIGNATURE_INVALID/],
    ];
    for (const [flags, stdin, why] of cases) {
      const r = await runCli([...base, ...flags], stdin);
      oneLineError(r);
      expect(r.stderr).toMatch(why);
    }
    for (const bit of [7, 100, 96 * 8 + 7, 96 * 8 + 300, 191 * 8]) {
      const r = await runCli(['ibs', 'verify', '--params', params, '--sig', flip(sig, bit), '--id', 'sip:bob@example.org', '--date', '2026-11-30'], MSG);
      oneLineError(r);
      expect(r.stderr).toMatch(/IBE_SIGNATURE_INVALID|IBE_BAD_SIGNATURE/);
    }
    const short = await runCli(['ibs', 'verify', '--params', params, '--sig', Buffer.alloc(10).toString('base64'), '--id', 'sip:bob@example.org'], MSG);
    oneLineError(short);
    expect(short.stderr).toMatch(/IBE_BAD_SIGNATURE/);
  });

  it('a decryption key or another period’s signing key cannot sign: IBE_BAD_KEY', async () => {
    for (const [k, date] of [
      [key, '2026-11-02'],
      [signingKey, '2026-12-02'],
    ] as const) {
      const r = await runCli(['ibs', 'sign', '--params', params, '--id', 'sip:bob@example.org', '--key', k, '--date', date], MSG);
      oneLineError(r);
      expect(r.stderr).toMatch(/IBE_BAD_KEY/);
    }
  });

  it('--help, usage errors (exit 2), rfc5091-bf params (IBE_BAD_PARAMS)', async () => {
    for (const sub of ['sign', 'verify']) {
      const h = await runCli(['ibs', sub, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`^usage: ibake ibs ${sub} `));
      expect(h.stdout).toMatch(/Exit 0/);
    }
    oneLineError(await runCli(['ibs', 'verify', '--params', params, '--id', 'sip:bob@example.org'], MSG), 2);
    oneLineError(await runCli(['ibs', 'verify', '--params', params, '--id', 'sip:bob@example.org', '--sig', 'not base64!'], MSG), 2);
    oneLineError(await runCli(['ibs', 'sign', '--params', params, '--id', 'bob', '--key', signingKey], MSG), 2);
    oneLineError(await runCli(['ibs', 'sign', '--params', params, '--id', 'sip:bob@example.org', '--key', signingKey, '--date', '2026-13-01'], MSG), 2);
    oneLineError(await runCli(['ibs', 'frobnicate']), 2);
    const rdir = join(root, 'rfc');
    expect((await runCli(['kms', 'init', '--dir', rdir, '--suite', 'rfc5091-bf', '--level', '1024'])).code).toBe(0);
    const r = await runCli(['ibs', 'verify', '--params', join(rdir, 'params.json'), '--id', 'sip:bob@example.org', '--sig', [...sigs.values()][0]!], MSG);
    oneLineError(r);
    expect(r.stderr).toMatch(/IBE_BAD_PARAMS/);
  });
});
