// Every `ibake` command that reads stdin stops at its bound: an endless or huge stdin (e.g.
// `ibake decode < /dev/zero`, a multi-GB file piped by mistake) ends with one error line and
// exit status 1 after reading little more than the bound, instead of buffering everything
// until the process runs out of memory (found by fuzzing: `decode < /dev/zero` grew to 3 GB
// in 9 s and died). Input at the bound is still read whole. The same for files named on the
// command line or in ibaked's configuration (--params, --sdp, --offer, --cert/--key,
// --pke-key, --config, kms.ca: util/read-bounded.ts): /dev/zero as one of them used to crash
// the process (SIGSEGV, V8 OOM or std::bad_alloc abort); pipes (`<(…)`) still work.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/ibake.js';
import { resolveConfig } from '../src/daemon/config.js';
import { MAX_PLAINTEXT } from '../src/ibe/bls12381/bf.js';
import { MAX_SIGNED_MESSAGE } from '../src/ibe/bls12381/ibs.js';
import { encodeMessage } from '../src/mikey/index.js';
import { MAX_STDIN_TEXT } from '../src/mikey/text.js';
import { readFileBounded } from '../src/util/read-bounded.js';
import { runCli } from './helpers/cli.js';
import { fixtures } from './mikey-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'ibake-stdin-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'kms');
const params = join(dir, 'params.json');
const ID = 'sip:bob@example.org';

const CHUNK = 64 * 1024;
/** Stops the test stream here: without a bound a command reads all of it (no OOM in the test). */
const GIVE_UP = 64 * 1024 * 1024;

/** A stdin of `fill` octets that never ends before GIVE_UP; counts what the command pulled. */
function endless(fill: number) {
  const s = { pulled: 0, stream: undefined as unknown as Readable };
  s.stream = new Readable({
    read() {
      if (s.pulled >= GIVE_UP) return void this.push(null);
      s.pulled += CHUNK;
      this.push(Buffer.alloc(CHUNK, fill));
    },
  });
  return s;
}

async function run(argv: string[], stdin: Readable) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdin, stdout: (t) => (stdout += t), stdoutBytes: () => {}, stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('ibake stdin bounds', () => {
  it('kms init (fixture)', async () => {
    expect((await runCli(['kms', 'init', '--dir', dir])).code).toBe(0);
    const k = await runCli(['kms', 'extract', '--dir', dir, '--id', ID, '--signing']);
    expect(k.code).toBe(0);
  });

  const cases: Array<{ name: string; argv: () => string[]; bound: number; fill: number }> = [
    { name: 'ibe encrypt', argv: () => ['ibe', 'encrypt', '--params', params, '--id', ID], bound: MAX_PLAINTEXT, fill: 0 },
    { name: 'ibe decrypt', argv: () => ['ibe', 'decrypt', '--params', params, '--id', ID, '--key', 'AAAA'], bound: 2 * MAX_PLAINTEXT, fill: 0x41 },
    { name: 'ibs sign', argv: () => ['ibs', 'sign', '--params', params, '--id', ID, '--key', 'AAAA'], bound: MAX_SIGNED_MESSAGE, fill: 0 },
    { name: 'ibs verify', argv: () => ['ibs', 'verify', '--params', params, '--id', ID, '--sig', 'AAAA'], bound: MAX_SIGNED_MESSAGE, fill: 0 },
    { name: 'sdp extract', argv: () => ['sdp', 'extract'], bound: MAX_STDIN_TEXT, fill: 0x20 },
    { name: 'sdp offer', argv: () => ['sdp', 'offer', '-'], bound: MAX_STDIN_TEXT, fill: 0x41 },
  ];
  for (const c of cases) {
    it(`${c.name}: an endless stdin is INPUT_TOO_LARGE (one line, exit 1) after about ${c.bound} octets`, async () => {
      const s = endless(c.fill);
      const r = await run(c.argv(), s.stream);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`ibake: INPUT_TOO_LARGE: stdin holds more than ${c.bound} octets\n`);
      expect(s.pulled).toBeLessThanOrEqual(c.bound + 4 * CHUNK);
    });
  }

  it('decode: an endless stdin is MIKEY_INPUT, as text (one line) and as --json', async () => {
    const s = endless(0x41);
    const r = await run(['decode'], s.stream);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^ibake decode: MIKEY_INPUT at character \\d+: input is more than ${MAX_STDIN_TEXT} octets`));
    expect(s.pulled).toBeLessThanOrEqual(MAX_STDIN_TEXT + 4 * CHUNK);
    const j = await run(['decode', '--json'], endless(0).stream);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).error.code).toBe('MIKEY_INPUT');
  });

  it('input at the bound is still read whole (ibe encrypt of exactly 1 MiB round-trips its length)', async () => {
    const r = await runCli(['ibe', 'encrypt', '--params', params, '--id', ID], new Uint8Array(MAX_PLAINTEXT).fill(7));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Buffer.from(r.stdout.trim(), 'base64').length).toBeGreaterThan(MAX_PLAINTEXT);
    const over = await runCli(['ibe', 'encrypt', '--params', params, '--id', ID], new Uint8Array(MAX_PLAINTEXT + 1));
    expect(over.code).toBe(1);
    expect(over.stderr).toBe(`ibake: INPUT_TOO_LARGE: stdin holds more than ${MAX_PLAINTEXT} octets\n`);
  });
});

describe('files named by the user are read up to a bound', () => {
  // a well-formed message (the fixture I_MESSAGE_1): the file is read once the message decodes
  const M = Buffer.from(encodeMessage(fixtures()[0]!.msg)).toString('base64');
  it('readFileBounded: whole file up to the bound, EFBIG past it, also for an endless device', () => {
    const f = join(root, 'eight');
    writeFileSync(f, '12345678');
    expect(readFileBounded(f, 8).toString()).toBe('12345678');
    expect(() => readFileBounded(f, 7)).toThrow(expect.objectContaining({ code: 'EFBIG' }));
    expect(() => readFileBounded('/dev/zero', 1 << 20)).toThrow(expect.objectContaining({ code: 'EFBIG' }));
    expect(() => readFileBounded(join(root, 'missing'), 8)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('a named pipe: empty at once without a writer, read whole from a slow one, ETIMEDOUT from a silent one', async () => {
    const fifo = join(root, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // nobody writes: a blocking open would wait forever; non-blocking it reads as empty
    const t0 = Date.now();
    expect(readFileBounded(fifo, 64).length).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000);
    // a writer (another process) that opens it and sends its text after 300 ms, in two parts
    const slow = spawn('sh', ['-c', `exec 3>"${fifo}"; sleep 0.3; printf ab >&3; sleep 0.2; printf cd >&3`]);
    await new Promise((r) => setTimeout(r, 100)); // let it open the pipe
    expect(readFileBounded(fifo, 64).toString()).toBe('abcd');
    await new Promise((r) => slow.on('exit', r));
    // a writer that holds the pipe open and sends nothing
    const silent = spawn('sh', ['-c', `exec 3>"${fifo}"; sleep 5`]);
    await new Promise((r) => setTimeout(r, 100));
    expect(() => readFileBounded(fifo, 64, { waitMs: 300 })).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    silent.kill();
  });

  it('/dev/stdin and process substitution as the file still read whole (a pipe with its writer)', () => {
    const code = "import('./src/util/read-bounded.ts').then((m) => process.stdout.write(m.readFileBounded(process.argv[1], 64).toString()))";
    const viaStdin = spawnSync('bash', ['-c', `(sleep 0.2; printf hello) | "${process.execPath}" --import tsx -e "${code}" /dev/stdin`], { cwd: process.cwd(), encoding: 'utf8' });
    expect(viaStdin.stdout).toBe('hello');
    const viaSubst = spawnSync('bash', ['-c', `"${process.execPath}" --import tsx -e "${code}" <(sleep 0.2; printf world)`], { cwd: process.cwd(), encoding: 'utf8' });
    expect(viaSubst.stdout).toBe('world');
  });

  it('ibaked --config naming a pipe nobody writes to fails at once instead of waiting for a writer', () => {
    const fifo = join(root, 'config-fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => resolveConfig({ config: fifo }, {}, '/d.sock')).toThrow(expect.objectContaining({ code: 'CONFIG' }));
  });

  it('ibe encrypt --params /dev/zero is KMS_CONFIG (EFBIG), one line', async () => {
    const r = await runCli(['ibe', 'encrypt', '--params', '/dev/zero', '--id', ID], 'x');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('ibake: KMS_CONFIG: cannot read /dev/zero: EFBIG\n');
  });

  it('sdp offer --sdp and sdp answer --offer /dev/zero: usage error, one line', async () => {
    for (const argv of [['sdp', 'offer', M, '--sdp', '/dev/zero'], ['sdp', 'answer', M, '--offer', '/dev/zero']]) {
      const r = await runCli(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('ibake: /dev/zero is larger than 65536 octets (see --help)\n');
    }
  });

  it('kms serve --cert/--key and --pke-key /dev/zero: KMS_CONFIG (EFBIG) before listening', async () => {
    const users = join(root, 'users.json');
    writeFileSync(users, JSON.stringify({ [ID]: 'feedfacefeedfacefeedfacefeedface' }), { mode: 0o600 });
    const base = ['kms', 'serve', '--dir', dir, '--users', users, '--port', '0'];
    const tls = await runCli([...base, '--cert', '/dev/zero', '--key', '/dev/zero']);
    expect(tls.code).toBe(1);
    expect(tls.stderr).toBe('ibake: KMS_CONFIG: cannot read certificate/key: EFBIG\n');
    const pke = await runCli([...base, '--pke-key', '/dev/zero']);
    expect(pke.code).toBe(1);
    expect(pke.stderr).toBe('ibake: KMS_CONFIG: cannot read --pke-key: EFBIG\n');
  });

  it('ibaked --config /dev/zero is CONFIG (EFBIG)', () => {
    expect(() => resolveConfig({ config: '/dev/zero' }, {}, '/d.sock')).toThrow(expect.objectContaining({ code: 'CONFIG', message: 'cannot read /dev/zero: EFBIG' }));
  });
});
