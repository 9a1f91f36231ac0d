// The ibaked binary refuses configuration it cannot use at start, as docs/daemon.md §4 says:
// exit status 2 with a CONFIG message naming the key, no socket left behind — rather than
// starting and failing every later request (found by the new-user review: an unknown SRTP
// `profile` was accepted, and each identity.add then failed with IBAKE_BAD_INPUT).
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, BUILT, newDir } from './helpers/daemon-proc.js';

function runIbaked(cfg: Record<string, unknown>, args: string[] = []): { status: number | null; stderr: string; sock: string } {
  const dir = newDir('ibaked-cfg-');
  const sock = join(dir, 'd.sock');
  writeFileSync(join(dir, 'c.json'), JSON.stringify(cfg));
  const r = spawnSync(process.execPath, [BIN, '--config', join(dir, 'c.json'), '--socket', sock, '--var-dir', join(dir, 'var'), '--skip-selftest', '--log-level', 'error', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr, sock };
}

describe.runIf(BUILT)('ibaked --config: values it cannot use are refused at start', () => {
  it('an unknown SRTP profile is CONFIG, exit 2, naming the allowed profiles', () => {
    const r = runIbaked({ profile: 'AES_CM_128_HMAC_SHA1_81' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/profile must be one of AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, AEAD_AES_128_GCM/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(r.sock)).toBe(false);
  });

  it('--kms-url without --kms-params (and the reverse) names the missing flag', () => {
    const a = runIbaked({}, ['--kms-url', 'http://127.0.0.1:1/mikey']);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--kms-url needs --kms-params FILE/);
    const b = runIbaked({}, ['--kms-params', '/etc/ibaked/params.json']);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--kms-params\/--kms-ca need --kms-url URL/);
  });

  it('a bad uid allow-list of an identity is CONFIG, exit 2, naming the entry', () => {
    const r = runIbaked({ identities: [{ uri: 'sip:alice@example.org', uids: [1001, 1001] }] });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/identities\[0\]\.uids: uid 1001 listed twice/);
    expect(existsSync(r.sock)).toBe(false);
  });

  it('a socket path longer than a Unix socket allows is CONFIG, exit 2, saying so', () => {
    const long = join(newDir('ibaked-long-'), 'x'.repeat(120), 'd.sock');
    const r = runIbaked({}, ['--socket', long]); // the later --socket wins
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/socket path is \d+ octets; a Unix socket path may have at most 107/);
  });

  // found by fuzzing the binary's flags
  it('an empty --socket is CONFIG, exit 2 (it reached listen() as a port: SOCKET_LISTEN ERR_SOCKET_BAD_PORT)', () => {
    const r = runIbaked({}, ['--socket', '']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('ibaked: socket path is empty\n');
  });

  it('a flag value starting with a dash is a one-line usage error, exit 2', () => {
    const r = runIbaked({}, ['--workers', '-1']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ibaked: Option '--workers' argument is ambiguous\. .*\(see --help\)\n$/);
  });
});
