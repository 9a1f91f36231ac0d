// What a user of the built binaries (bin/ibake.js, bin/ibaked.js → dist/) sees on their streams:
// `ibe decrypt` writes a binary plaintext's exact octets through a shell pipe, and refuses binary
// only on a terminal (in-process with a pretended TTY, and on a real pseudo-terminal via
// script(1) when present); `decode` of empty input reports offset 0 (JSON and text); `--version`
// on both binaries prints the package version, and for ibake the engine it would select.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPrintableText } from '../src/cli/raw-output.js';
import { runCli } from './helpers/cli.js';
import { REPO } from './helpers/repo.js';

const IBAKE = join(REPO, 'bin', 'ibake.js');
const IBAKED = join(REPO, 'bin', 'ibaked.js');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const dir = mkdtempSync(join(tmpdir(), 'ibake-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const ID = 'sip:bob@example.org';
const DATE = '2026-11-28';

describe('ibe decrypt writes raw octets', () => {
  const kms = join(dir, 'kms');
  const params = join(kms, 'params.json');
  let key = '';
  // every octet value, then the ones a terminal would choke on
  const binary = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\x1b[2J\x00\xff\xfe\r\n')]);

  beforeAll(() => {
    execFileSync(process.execPath, [IBAKE, 'kms', 'init', '--dir', kms, '--period', 'month'], { stdio: 'ignore' });
    key = (JSON.parse(execFileSync(process.execPath, [IBAKE, 'kms', 'extract', '--dir', kms, '--id', ID, '--date', DATE], { encoding: 'utf8' })) as { key: string }).key;
  });

  it('a binary plaintext survives `ibe encrypt | ibe decrypt > file` byte for byte', () => {
    const pt = join(dir, 'pt.bin');
    const out = join(dir, 'out.bin');
    writeFileSync(pt, binary);
    const node = q(process.execPath);
    const common = `--params ${q(params)} --id ${q(ID)} --date ${DATE}`;
    const r = spawnSync('sh', ['-c', `${node} ${q(IBAKE)} ibe encrypt ${common} < ${q(pt)} | ${node} ${q(IBAKE)} ibe decrypt ${common} --key ${q(key)} > ${q(out)}`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(out).equals(binary)).toBe(true);
  });

  it('through a pipe to another program too (stdout not a terminal), and text stays text', () => {
    const ct = execFileSync(process.execPath, [IBAKE, 'ibe', 'encrypt', '--params', params, '--id', ID, '--date', DATE], { input: binary });
    const r = spawnSync(process.execPath, [IBAKE, 'ibe', 'decrypt', '--params', params, '--id', ID, '--date', DATE, '--key', key], { input: ct });
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(Buffer.compare(r.stdout, binary)).toBe(0);
    const text = 'héllo\tworld\r\n';
    const ct2 = execFileSync(process.execPath, [IBAKE, 'ibe', 'encrypt', '--params', params, '--id', ID, '--date', DATE], { input: text });
    const r2 = spawnSync(process.execPath, [IBAKE, 'ibe', 'decrypt', '--params', params, '--id', ID, '--date', DATE, '--key', key], { input: ct2, encoding: 'utf8' });
    expect(r2.stdout).toBe(text);
  });

  it('on a terminal: text is printed, binary is refused with a hint (exit 2, nothing written); --b64 works', async () => {
    const enc = (pt: string | Buffer) => execFileSync(process.execPath, [IBAKE, 'ibe', 'encrypt', '--params', params, '--id', ID, '--date', DATE], { input: pt, encoding: 'utf8' });
    const args = ['ibe', 'decrypt', '--params', params, '--id', ID, '--date', DATE, '--key', key];
    const refused = await runCli(args, enc(binary), { tty: true });
    expect(refused.code).toBe(2);
    expect(refused.stdoutBytes.length).toBe(0);
    expect(refused.stderr).toMatch(/not printable text and stdout is a terminal.*--b64.*redirect/);
    const text = await runCli(args, enc('plain text\n'), { tty: true });
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('plain text\n');
    const b64 = await runCli([...args, '--b64'], enc(binary), { tty: true });
    expect(b64.code).toBe(0);
    expect(Buffer.from(b64.stdout.trim(), 'base64').equals(binary)).toBe(true);
  });

  const haveScript = spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status === 0;
  it.runIf(haveScript)('a real pseudo-terminal (script -q -e -c) gets the refusal, not the octets', () => {
    const ctFile = join(dir, 'ct.b64');
    writeFileSync(ctFile, execFileSync(process.execPath, [IBAKE, 'ibe', 'encrypt', '--params', params, '--id', ID, '--date', DATE], { input: binary }));
    const cmd = `${q(process.execPath)} ${q(IBAKE)} ibe decrypt --params ${q(params)} --id ${q(ID)} --date ${DATE} --key ${q(key)} < ${q(ctFile)}`;
    const r = spawnSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { encoding: 'latin1', timeout: 60_000 });
    expect(r.status, r.stdout).toBe(2);
    expect(r.stdout).toMatch(/--b64/);
    expect(r.stdout).not.toContain('\x1b[2J');
  });

  it('isPrintableText: UTF-8 without control characters (TAB, LF, CR allowed)', () => {
    const t = (s: string | number[]) => isPrintableText(typeof s === 'string' ? new TextEncoder().encode(s) : Uint8Array.from(s));
    expect(t('ok\tline\r\n')).toBe(true);
    expect(t('€ ünïcode')).toBe(true);
    expect(t('')).toBe(true);
    for (const bad of ['\x1b[31m', 'a\x00b', '\x7f', '\u0085', '\x08']) expect(t(bad), JSON.stringify(bad)).toBe(false);
    expect(t([0xc3, 0x28])).toBe(false); // invalid UTF-8
    expect(t([0xff])).toBe(false);
  });
});

describe('decode of empty input', () => {
  it('JSON and text both give offset 0', () => {
    const j = spawnSync(process.execPath, [IBAKE, 'decode', '--json'], { input: '', encoding: 'utf8' });
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout)).toEqual({ error: { code: 'MIKEY_INPUT', offset: 0, message: 'empty input' } });
    const t = spawnSync(process.execPath, [IBAKE, 'decode', '-'], { input: '', encoding: 'utf8' });
    expect(t.status).toBe(1);
    expect(t.stderr).toBe('ibake decode: MIKEY_INPUT at character 0: empty input\n');
  });
});

describe('--version', () => {
  it('ibake prints the package version and the engine it would select, with the reason', () => {
    const r = spawnSync(process.execPath, [IBAKE, '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const [first, second, ...rest] = r.stdout.split('\n');
    expect(first).toBe(`ibake (ibaked) ${VERSION}`);
    expect(second).toMatch(/^engine: (native|wasm|ts) engine \((preferred|fallback; .+|IBAKED_ENGINE=\w+)\)$/);
    expect(rest).toEqual(['']);
    const forced = spawnSync(process.execPath, [IBAKE, '--version'], { encoding: 'utf8', env: { ...process.env, IBAKED_ENGINE: 'ts' } });
    expect(forced.stdout).toContain('engine: ts engine (IBAKED_ENGINE=ts)');
  });

  it('ibaked prints the package version and exits without starting', () => {
    const r = spawnSync(process.execPath, [IBAKED, '--version'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`ibaked ${VERSION}\n`);
    expect(r.stderr).toBe('');
  });
});
