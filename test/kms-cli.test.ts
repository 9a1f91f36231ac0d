// `ibake kms serve`: --help and usage errors through the CLI dispatcher; a full run in-process
// (KMS dir from `ibake kms init`, users file, ephemeral port) where a client obtains and
// verifies a key and the audit lines on stderr carry the issuance but no key material; and the
// real binary path under tsx, stopped by SIGTERM with exit code 0.
import { spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serve } from '../src/cli/cmd-kms-serve.js';
import { identityFor, verifyPrivateKey } from '../src/ibe/index.js';
import { requestPrivateKey } from '../src/kms/client.js';
import { verifyLogChain } from '../src/kms/issuance-log.js';
import { runCli } from './helpers/cli.js';
import { ALICE, PSK, captureIo, kmsDirFixture } from './helpers/kms-serve.js';

const fx = kmsDirFixture('kms-cli');
const { root, dir, users } = fx;
const io = captureIo;

describe('ibake kms serve', () => {
  it('prints its usage with --help', async () => {
    const r = await runCli(['kms', 'serve', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: ibake kms serve --dir DIR --users FILE');
    expect(r.stdout).toContain('--cert F --key F');
  });

  it('refuses bad usage (exit 2) and a world-readable users file (exit 1, KMS_CONFIG)', async () => {
    expect((await runCli(['kms', 'serve', '--dir', dir])).code).toBe(2);
    expect((await runCli(['kms', 'serve', '--dir', dir, '--users', users, '--cert', 'x.pem'])).code).toBe(2);
    expect((await runCli(['kms', 'serve', '--dir', dir, '--users', users, '--port', '70000'])).code).toBe(2);
    expect((await runCli(['kms', 'serve', '--dir', dir, '--users', users, '--user-rate', 'fast'])).code).toBe(2);
    const loose = join(root, 'loose.json');
    writeFileSync(loose, JSON.stringify({ [ALICE]: PSK }));
    chmodSync(loose, 0o644);
    const r = await runCli(['kms', 'serve', '--dir', dir, '--users', loose, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/KMS_CONFIG: users file .* accessible to other users/);
    const noDir = await runCli(['kms', 'serve', '--dir', join(root, 'nope'), '--users', users, '--port', '0']);
    expect(noDir.code).toBe(1);
  });

  it('serves keys until stopped; audit lines carry the issuance, never the PSK or key', async () => {
    const h = io();
    const ac = new AbortController();
    const auditPath = join(root, 'audit.log');
    const done = serve(['--dir', dir, '--users', users, '--port', '0', '--skew', '120', '--audit', auditPath], h.io, ac.signal);
    const [, url] = await h.waitFor(/listening on (\S+)/);
    const got = await requestPrivateKey({ url: url!, identity: ALICE, psk: PSK, params: fx.params });
    expect(await verifyPrivateKey(fx.params, identityFor(ALICE, Date.now(), fx.params.period).bytes, got.key)).toBe(true);
    await expect(requestPrivateKey({ url: url!, identity: ALICE, psk: PSK.replace('f', 'e'), params: fx.params })).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED' });
    ac.abort();
    expect(await done).toBe(0);
    expect(h.out.stdout).toContain('ibake kms: stopped');
    const events = h.out.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(['listening', 'issue', 'reject', 'closed']);
    expect(events[1]).toMatchObject({ identity: ALICE, period: got.period, client: '127.0.0.1' });
    // hash-chained: the stderr lines and the audit file are the same verified chain
    const lines = h.out.stderr.trim().split('\n');
    expect(verifyLogChain(lines)).toBe(-1);
    expect(readFileSync(auditPath, 'utf8').trim().split('\n')).toEqual(lines);
    expect(statSync(auditPath).mode & 0o777).toBe(0o600);
    const edited = lines.slice();
    edited[1] = edited[1]!.replace('"issue"', '"issue" ');
    expect(verifyLogChain(edited)).toBe(2);
    expect(verifyLogChain([lines[0]!, lines[2]!, lines[3]!])).toBe(1);
    expect(h.out.stderr).not.toContain(PSK);
    expect(h.out.stderr).not.toContain(Buffer.from(got.key).toString('hex').slice(0, 16));
    expect(h.out.stderr).not.toContain(Buffer.from(got.key).toString('base64').slice(0, 16));
  });

  it('accepts REQUEST_KEY_PKE with --pke-key and a user "sign" key', async () => {
    const kmsKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const bobKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkeFile = join(root, 'kms-pke.pem');
    writeFileSync(pkeFile, kmsKey.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const users2 = join(root, 'users2.json');
    writeFileSync(users2, JSON.stringify({ [ALICE]: PSK, 'sip:bob@example.org': { sign: bobKey.publicKey.export({ type: 'spki', format: 'pem' }) } }), { mode: 0o600 });
    const h = io();
    const ac = new AbortController();
    const done = serve(['--dir', dir, '--users', users2, '--port', '0', '--pke-key', pkeFile], h.io, ac.signal);
    const [, url] = await h.waitFor(/listening on (\S+)/);
    expect(h.out.stdout).toContain('PKE on');
    const got = await requestPrivateKey({
      url: url!, identity: 'sip:bob@example.org', params: fx.params,
      pke: { kmsPublicKey: createPublicKey(kmsKey.privateKey).export({ type: 'spki', format: 'pem' }).toString(), signKey: bobKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
    });
    expect(await verifyPrivateKey(fx.params, identityFor('sip:bob@example.org', Date.now(), fx.params.period).bytes, got.key)).toBe(true);
    ac.abort();
    expect(await done).toBe(0);
  });

  it('reloads the users file on request (SIGHUP in the binary); a bad file keeps the old users', async () => {
    const CAROL = 'sip:carol@example.org';
    const CAROL_PSK = 'abcdabcdabcdabcdabcdabcdabcdabcd';
    const usersR = join(root, 'users-reload.json');
    writeFileSync(usersR, JSON.stringify({ [ALICE]: PSK }), { mode: 0o600 });
    const h = io();
    const ac = new AbortController();
    const reload = new EventTarget();
    const done = serve(['--dir', dir, '--users', usersR, '--port', '0'], h.io, ac.signal, reload);
    const [, url] = await h.waitFor(/listening on (\S+)/);
    await expect(requestPrivateKey({ url: url!, identity: CAROL, psk: CAROL_PSK, params: fx.params })).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED' });
    writeFileSync(usersR, JSON.stringify({ [CAROL]: CAROL_PSK }));
    reload.dispatchEvent(new Event('reload'));
    await h.waitFor(/users reloaded \(1 users\)/);
    expect((await requestPrivateKey({ url: url!, identity: CAROL, psk: CAROL_PSK, params: fx.params })).key.length).toBe(96);
    await expect(requestPrivateKey({ url: url!, identity: ALICE, psk: PSK, params: fx.params })).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED' });
    writeFileSync(usersR, '{ not json');
    reload.dispatchEvent(new Event('reload'));
    await h.waitFor(/NOT reloaded/);
    expect((await requestPrivateKey({ url: url!, identity: CAROL, psk: CAROL_PSK, params: fx.params })).key.length).toBe(96);
    ac.abort();
    expect(await done).toBe(0);
    expect(h.out.stderr).toContain('"event":"users"');
  });

  it('runs as a process, reloads users on SIGHUP and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/ibake.ts', 'kms', 'serve', '--dir', dir, '--users', users, '--port', '0'], {
      env: { ...process.env, IBAKE_CLI_ENTRY: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (c) => reject(new Error(`exited early with ${c}: ${out}`)));
    });
    const got = await requestPrivateKey({ url, identity: ALICE, psk: PSK, params: fx.params });
    expect(got.key.length).toBe(96);
    child.kill('SIGHUP');
    await new Promise<void>((resolve) => {
      const check = () => (/users reloaded \(1 users\)/.test(out) ? resolve() : setTimeout(check, 20));
      check();
    });
    const code = await new Promise<number | null>((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});
