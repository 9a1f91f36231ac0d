// CLI `kms init`, `kms extract`, `ibe encrypt`, `ibe decrypt` on both suites, in-process via
// runCli: round trip; tampered ciphertext, wrong identity, wrong period → one-line error and a
// non-zero exit; master.key mode 0600; refusing to overwrite a KMS dir; refusing a truncated,
// corrupt, loosely-permissioned master file and an altered params.json; strict flags.
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { runCli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'ibake-kms-ibe-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function oneLineError(r: { code: number; stderr: string; stdout: string }) {
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

function flipBit(b64: string, bit: number): string {
  const b = Buffer.from(b64.trim(), 'base64');
  b[bit >> 3]! ^= 1 << (bit & 7);
  return b.toString('base64');
}

const SUITES = [
  { suite: 'bls12381-bf', extra: ['--engine', 'ts'] },
  { suite: 'rfc5091-bf', extra: ['--level', '1024'] },
] as const;

for (const { suite, extra } of SUITES) {
  describe(`ibake kms/ibe on ${suite}`, () => {
    const dir = join(root, suite);
    const params = join(dir, 'params.json');
    const eng = suite === 'bls12381-bf' ? ['--engine', 'ts'] : [];
    let key = '';

    it('kms init creates master.key (0600) and params.json and prints the params', async () => {
      const r = await runCli(['kms', 'init', '--dir', dir, '--suite', suite, '--period', 'week', '--kms-id', 'https://kms.example.org/', ...extra]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const printed = JSON.parse(r.stdout);
      expect(printed).toEqual(JSON.parse(readFileSync(params, 'utf8')));
      expect(printed.suite).toBe(suite);
      expect(printed.period).toBe('week');
      expect(printed.kmsId).toBe('https://kms.example.org/');
      expect(printed.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o077).toBe(0);
    });

    it('refuses to overwrite an existing KMS dir (master unchanged)', async () => {
      const before = readFileSync(join(dir, 'master.key'));
      const r = await runCli(['kms', 'init', '--dir', dir, '--suite', suite, ...extra]);
      oneLineError(r);
      expect(r.stderr).toMatch(/refusing to overwrite/);
      expect(readFileSync(join(dir, 'master.key')).equals(before)).toBe(true);
    });

    it('kms init under a regular file is KMS_CONFIG in one line (exit 1), not an internal error', async () => {
      // Found by fuzzing: stat() of file/sub fails with ENOTDIR, which escaped as exit 70.
      const file = join(root, `${suite}-a-file`);
      writeFileSync(file, 'x');
      const r = await runCli(['kms', 'init', '--dir', join(file, 'sub'), '--suite', suite, ...extra]);
      oneLineError(r);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`ibake: KMS_CONFIG: cannot use ${join(file, 'sub')}: ENOTDIR\n`);
    });

    it('kms extract prints {id, period, key} for the period containing --date', async () => {
      const r = await runCli(['kms', 'extract', '--dir', dir, '--id', 'sip:bob@example.org', '--date', '2026-11-28', ...eng]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(Object.keys(out).sort()).toEqual(['id', 'key', 'period']);
      expect(out.id).toBe('sip:bob@example.org');
      expect(out.period).toBe('2026-11-23'); // ISO week of Saturday 2026-11-28 starts Monday 23rd
      key = out.key;
    });

    it('ibe encrypt | ibe decrypt round trip; tamper / wrong id / wrong period fail with one line', async () => {
      const msg = 'SK for the call: 0123456789abcdef\n';
      const enc = await runCli(['ibe', 'encrypt', '--params', params, '--id', 'sip:bob@example.org', '--date', '2026-11-24', ...eng], msg);
      expect(enc.stderr).toBe('');
      expect(enc.code).toBe(0);
      const ct = enc.stdout.trim();
      const dec = await runCli(['ibe', 'decrypt', '--params', params, '--id', 'sip:bob@example.org', '--key', key, '--date', '2026-11-29', ...eng], ct);
      expect(dec.stderr).toBe('');
      expect(dec.code).toBe(0);
      expect(dec.stdout).toBe(msg);
      const b64 = await runCli(['ibe', 'decrypt', '--params', params, '--id', 'sip:bob@example.org', '--key', key, '--date', '2026-11-29', '--b64', ...eng], ct);
      expect(Buffer.from(b64.stdout.trim(), 'base64').toString()).toBe(msg);
      // wrapped as base64(1) (76, LF) and openssl (64, CRLF) print it: found refused as 'not valid base64'
      for (const [w, eol] of [[76, '\n'], [64, '\r\n']] as const) {
        const wrapped = ct.replace(new RegExp(`(.{${w}})`, 'g'), `$1${eol}`) + eol;
        const r = await runCli(['ibe', 'decrypt', '--params', params, '--id', 'sip:bob@example.org', '--key', key, '--date', '2026-11-29', ...eng], wrapped);
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe(msg);
      }

      const nbits = Buffer.from(ct, 'base64').length * 8;
      for (const bit of [3, 100, Math.floor(nbits / 2), nbits - 9, nbits - 1]) {
        const r = await runCli(['ibe', 'decrypt', '--params', params, '--id', 'sip:bob@example.org', '--key', key, '--date', '2026-11-29', ...eng], flipBit(ct, bit));
        oneLineError(r);
        expect(r.stderr).toMatch(/IBE_DECRYPT_FAILED/);
      }
      const wrongId = await runCli(['ibe', 'decrypt', '--params', params, '--id', 'sip:eve@example.org', '--key', key, '--date', '2026-11-29', ...eng], ct);
      oneLineError(wrongId);
      expect(wrongId.stderr).toMatch(/IBE_BAD_KEY/);
      const wrongPeriod = await runCli(['ibe', 'decrypt', '--params', params, '--id', 'sip:bob@example.org', '--key', key, '--date', '2026-11-30', ...eng], ct);
      oneLineError(wrongPeriod);
      const notB64 = await runCli(['ibe', 'decrypt', '--params', params, '--id', 'sip:bob@example.org', '--key', key, ...eng], 'not base64!');
      oneLineError(notB64);
      expect(notB64.code).toBe(2);
    });

    it('refuses a truncated or loosely-permissioned master file, and altered params', async () => {
      const mpath = join(dir, 'master.key');
      const good = readFileSync(mpath);
      const args = ['kms', 'extract', '--dir', dir, '--id', 'sip:bob@example.org', ...eng];
      try {
        writeFileSync(mpath, good.subarray(0, good.length - 5));
        let r = await runCli(args);
        oneLineError(r);
        expect(r.stderr).toMatch(/corrupt or truncated/);
        const flipped = Buffer.from(good);
        flipped[20]! ^= 1;
        writeFileSync(mpath, flipped);
        r = await runCli(args);
        oneLineError(r);
        expect(r.stderr).toMatch(/corrupt/);
        writeFileSync(mpath, good);
        chmodSync(mpath, 0o644);
        r = await runCli(args);
        oneLineError(r);
        expect(r.stderr).toMatch(/chmod 600/);
      } finally {
        writeFileSync(mpath, good);
        chmodSync(mpath, 0o600);
      }
      const text = readFileSync(params, 'utf8');
      try {
        writeFileSync(params, text.replace('"period": "week"', '"period": "day"'));
        const r = await runCli(args);
        oneLineError(r);
        expect(r.stderr).toMatch(/fingerprint mismatch/);
      } finally {
        writeFileSync(params, text);
      }
      expect((await runCli(args)).code).toBe(0);
    });
  });
}

describe('strict flags and help', () => {
  it('usage errors exit 2 with one line; --help exits 0', async () => {
    for (const argv of [
      ['kms', 'init'],
      ['kms', 'init', '--dir', join(root, 'x'), '--suite', 'nope'],
      ['kms', 'init', '--dir', join(root, 'x'), '--bogus'],
      ['kms', 'init', '--dir', join(root, 'x'), '--level', '1024'],
      ['kms', 'extract', '--dir', join(root, 'x')],
      ['ibe', 'encrypt', '--params', 'p.json', '--id', 'sip:a@b', '--engine', 'gpu'],
      ['ibe', 'decrypt', '--params', 'p.json', '--id', 'sip:a@b', '--key', '!!!!'],
      ['ibe', 'encrypt', '--params', 'p.json', '--id', 'sip:a@b', '--date', '2026-02-30'],
      // an option value starting with a dash: parseArgs's three-line explanation, printed as one
      ['ibe', 'encrypt', '--params', 'p.json', '--id', '-sip:a@b'],
      ['kms', 'extract', '--dir', '-x', '--id', 'sip:a@b'],
    ]) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      oneLineError(r);
    }
    for (const c of [['kms', 'init'], ['kms', 'extract'], ['ibe', 'encrypt'], ['ibe', 'decrypt']]) {
      const r = await runCli([...c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: ibake /);
    }
  });
});
