// contrib/c (the C client of the daemon protocol, on msgpack-c): built with the system compiler
// (cc, -Wall -Wextra -Werror) and run under valgrind (--leak-check=full, any error or leak fails)
// against a real ibaked: example-call runs a complete call, a CSB update, a tampered message and
// caller errors; client-errors meets a fake daemon that misbehaves (wrong id, oversize frame,
// garbage, silence, hang-up, error frame, OVERLOADED) and must get each typed status. Skipped with
// the reason when cc, msgpack.h or valgrind is missing and CI is unset; fails when CI is set.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../src/daemon/frame.js';
import { testDaemonConfig } from './helpers/daemon-config.js';
import { startIbaked, type Ibaked } from '../src/daemon/daemon.js';
import { oracleTools } from './helpers/oracle-gate.js';

const SRC = join(import.meta.dirname, '..', 'contrib', 'c');

const LIBSRTP = existsSync('/usr/include/srtp2/srtp.h');

// libsrtp2 is optional for a developer (the example then builds without it) but CI must have it.
const have = oracleTools(['msgpack-c', 'valgrind', ...(process.env.CI ? (['libsrtp2'] as const) : [])], 'the C client (contrib/c)');
if (have && !LIBSRTP) console.warn('c-client: the libsrtp2 part of example-call is SKIPPED: libsrtp2-dev (srtp2/srtp.h) is not installed');

const dir = mkdtempSync(join(tmpdir(), 'ibaked-c-'));
const VALGRIND = ['--error-exitcode=99', '--leak-check=full', '--errors-for-leak-kinds=definite,indirect,possible', '--show-leak-kinds=definite,indirect,possible'];

const built = new Map<string, string>();
function build(out: string, libsrtp = false): string {
  const seen = built.get(out);
  if (seen) return seen;
  const name = out.replace(/-srtp$/, '');
  out = join(dir, out);
  const srtp = libsrtp ? ['-DHAVE_LIBSRTP2'] : [];
  execFileSync('cc', ['-std=c11', '-D_GNU_SOURCE', ...srtp, '-Wall', '-Wextra', '-Werror', '-O1', '-g', '-o', out, join(SRC, `${name}.c`), join(SRC, 'ibaked-client.c'), '-lmsgpackc', ...(libsrtp ? ['-lsrtp2'] : [])], { stdio: 'pipe', timeout: 60_000 });
  built.set(name + (libsrtp ? '-srtp' : ''), out);
  return out;
}

const PROFILES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const;
const KEY_SALT: Record<(typeof PROFILES)[number], [number, number]> = {
  AES_CM_128_HMAC_SHA1_80: [30, 16], AES_CM_128_HMAC_SHA1_32: [30, 16], AES_256_CM_HMAC_SHA1_80: [46, 32], AEAD_AES_128_GCM: [28, 16],
};

/** Runs a program under valgrind (async, so an in-process daemon keeps serving). */
function valgrind(args: string[], timeoutMs = 90_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('valgrind', [...VALGRIND, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.runIf(have)('contrib/c ibaked-client', () => {
  const daemons = new Map<string, Ibaked>();
  beforeAll(async () => {
    for (const profile of PROFILES) {
      daemons.set(profile, await startIbaked(
        testDaemonConfig(join(dir, `${profile}.sock`), join(dir, `var-${profile}`), { engine: 'native', maxInFlight: 16, profile }),
        () => {},
      ));
    }
  });
  afterAll(async () => {
    for (const d of daemons.values()) await d.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** valgrind found no error and no definite, indirect or possible leak (the exit code says so too). */
  const clean = (stderr: string, allFreed: boolean) => {
    expect(stderr).toMatch(/ERROR SUMMARY: 0 errors/);
    // Debian's libsrtp2 runs on NSS, which keeps a few blocks reachable until exit: only our own build must free all
    if (allFreed) expect(stderr).toMatch(/All heap blocks were freed -- no leaks are possible/);
    else expect(stderr).toMatch(/All heap blocks were freed|definitely lost: 0 bytes in 0 blocks/);
    expect(stderr).not.toMatch(/(definitely|indirectly|possibly) lost: [1-9]/);
  };

  it.each(PROFILES)('builds warning-free and runs a call, a CSB update, error cases and libsrtp2 (%s) against ibaked, valgrind-clean', async (profile) => {
    const socket = daemons.get(profile)!.socketPath;
    const builds = profile === PROFILES[0] || !LIBSRTP ? [false, LIBSRTP] : [true];
    for (const libsrtp of [...new Set(builds)]) {
      const r = await valgrind([build(libsrtp ? 'example-call-srtp' : 'example-call', libsrtp), socket]);
      clean(r.stderr, !libsrtp);
      expect(r.stdout).toMatch(/OK: every check passed/);
      const [ks, mk] = KEY_SALT[profile];
      expect(r.stdout).toContain(` roc 0 ${profile} sent by the responder: key||salt ${ks} octets (master key ${mk})`);
      expect(r.stdout).toMatch(/tampered I_MESSAGE_1: IBAKE_AUTH_FAILED, Error message of \d+ octets/);
      if (libsrtp) {
        expect(r.stdout).toContain('libsrtp2 ok: 20 RTP + 20 RTCP each way protected and unprotected byte-identical, a changed key failed authentication');
        expect(r.stdout).toContain('libsrtp2 at ROC 7 (srtp_set_stream_roc) ok: byte-identical, a receiver at ROC 8 failed authentication');
      }
      expect(r.code).toBe(0);
    }
  });

  it('example-call --help prints its usage and exits 0; a wrong argument count is usage, exit 2', () => {
    const prog = build('example-call');
    const help = execFileSync(prog, ['--help'], { encoding: 'utf8', timeout: 10_000 });
    expect(help).toMatch(/^usage: \S*example-call SOCKET \[FROM TO\]/);
    expect(help).toMatch(/Exit status: 0 .*, 1 .*, 2 usage/);
    let code: number | undefined;
    try {
      execFileSync(prog, [], { stdio: 'pipe', timeout: 10_000 });
    } catch (e) {
      code = (e as { status?: number }).status;
    }
    expect(code).toBe(2);
  });

  it('turns every misbehaviour of a fake daemon into its typed status, valgrind-clean', async () => {
    const bin = build('client-errors');
    // one behaviour per connection, in order
    const frame = (o: Record<string, unknown>) => encodeFrame(o); // the daemon's own framing
    const behaviours: Array<(s: Socket, id: number) => void> = [
      (s, id) => s.write(frame({ id, ok: true, result: { pong: true, time: 42 } })), // fine, then silence
      (s, id) => s.write(frame({ id: id + 1, ok: true, result: {} })), // wrong id
      (s) => s.write(Buffer.from([0xff, 0xff, 0xff, 0xff])), // absurd length
      (s) => s.write(Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from([0xc1, 0xc1, 0xc1])])), // not msgpack
      () => {}, // never answers
      (s) => s.end(), // hangs up
      (s) => s.write(frame({ id: null, ok: false, error: { code: 'FRAME_BAD_MSGPACK', message: 'x' } })), // frame-level error
      (s, id) => s.write(frame({ id, ok: false, error: { code: 'OVERLOADED', message: 'busy' } })), // retryable
    ];
    let conn = 0;
    const sock = join(dir, 'fake.sock');
    const server = createServer((s) => {
      const b = behaviours[conn++]!;
      let first = true; // the behaviour answers the first request; later ones get silence
      let got = Buffer.alloc(0);
      s.on('data', (chunk) => {
        got = Buffer.concat([got, chunk]);
        if (got.length < 4 || got.length < 4 + got.readUInt32BE(0)) return;
        const id = got[4 + 1 + 1 + 2]!; // {id: <fixint>, ...}: map header, fixstr "id", value
        got = Buffer.alloc(0);
        if (first) b(s, id);
        first = false;
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const r = await valgrind([bin, sock, String(behaviours.length)]);
      expect(r.stdout.trim().split('\n')).toEqual([
        'IBAKED_OK - then IBAKED_ERR_TIMEOUT IPC_TIMEOUT',
        'IBAKED_ERR_PROTOCOL IPC_PROTOCOL then IBAKED_ERR_IO IPC_CLOSED', // the connection is dropped after a protocol error
        'IBAKED_ERR_PROTOCOL IPC_PROTOCOL then IBAKED_ERR_IO IPC_CLOSED',
        'IBAKED_ERR_PROTOCOL IPC_PROTOCOL then IBAKED_ERR_IO IPC_CLOSED',
        'IBAKED_ERR_TIMEOUT IPC_TIMEOUT then IBAKED_ERR_IO IPC_CLOSED',
        'IBAKED_ERR_IO IPC_CLOSED then IBAKED_ERR_IO IPC_CLOSED',
        'IBAKED_ERR_REMOTE FRAME_BAD_MSGPACK then IBAKED_ERR_TIMEOUT IPC_TIMEOUT',
        'IBAKED_ERR_REMOTE OVERLOADED then IBAKED_ERR_TIMEOUT IPC_TIMEOUT',
        'IBAKED_ERR_CONNECT',
        'IBAKED_ERR_ARG',
      ]);
      clean(r.stderr, true);
      expect(r.code).toBe(0);
    } finally {
      server.close();
    }
  });
});
