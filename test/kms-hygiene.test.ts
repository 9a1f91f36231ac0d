// KMS hygiene (issue 13, security.md top-10 #3): the users file must be 0600 or 0400 and no
// input may be writable by group/others (users-file directory, KMS directory, params); an audit
// record that cannot be written stops `kms serve` (master secret and PSKs wiped, exit 1, the
// request gets no key); idle sockets from one address cannot lock other clients out (a
// per-address connection cap) and idle sockets are closed; plain HTTP on a non-loopback address
// needs --insecure-http.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serve } from '../src/cli/cmd-kms-serve.js';
import { requestPrivateKey } from '../src/kms/client.js';
import { startMikeyHttpServer } from '../src/kms/http-server.js';
import { loadKmsDir } from '../src/kms/master.js';
import { PskStore } from '../src/kms/psk-store.js';
import { runCli } from './helpers/cli.js';
import { ALICE, PSK, captureIo, kmsDirFixture } from './helpers/kms-serve.js';

const fx = kmsDirFixture('kms-hygiene');
const { root, dir, users } = fx;
const io = captureIo;

describe('KMS file permissions', () => {
  it('the users file must be 0600 or 0400: 0640, 0660, 0620, 0644 are refused', async () => {
    const f = join(root, 'u.json');
    writeFileSync(f, JSON.stringify({ [ALICE]: PSK }), { mode: 0o600 });
    for (const ok of [0o600, 0o400]) {
      chmodSync(f, ok);
      expect((await PskStore.fromFile(f)).size).toBe(1);
    }
    for (const bad of [0o640, 0o660, 0o620, 0o644, 0o700]) {
      chmodSync(f, bad);
      await expect(PskStore.fromFile(f), bad.toString(8)).rejects.toMatchObject({ code: 'KMS_CONFIG' });
    }
  });

  it('a users-file directory writable by group/others is refused (a sticky one is accepted)', async () => {
    const d = join(root, 'shared');
    mkdirSync(d, { mode: 0o700 });
    const f = join(d, 'u.json');
    writeFileSync(f, JSON.stringify({ [ALICE]: PSK }), { mode: 0o600 });
    chmodSync(d, 0o770);
    await expect(PskStore.fromFile(f)).rejects.toMatchObject({ code: 'KMS_CONFIG', message: expect.stringMatching(/writable by group\/others/) });
    chmodSync(d, 0o1777);
    expect((await PskStore.fromFile(f)).size).toBe(1);
    chmodSync(d, 0o700);
  });

  it('a KMS directory or params writable by group/others is refused; kms serve exits 1', async () => {
    await expect(loadKmsDir(dir)).resolves.toBeDefined();
    chmodSync(join(dir, 'params.json'), 0o664);
    await expect(loadKmsDir(dir)).rejects.toMatchObject({ code: 'KMS_CONFIG', message: expect.stringMatching(/params/) });
    const r = await runCli(['kms', 'serve', '--dir', dir, '--users', users, '--port', '0']);
    expect(r.code).toBe(1);
    chmodSync(join(dir, 'params.json'), 0o644);
    chmodSync(dir, 0o720);
    await expect(loadKmsDir(dir)).rejects.toMatchObject({ code: 'KMS_CONFIG', message: expect.stringMatching(/KMS directory/) });
    chmodSync(dir, 0o700);
  });
});

describe('kms serve', () => {
  it('an audit file that cannot be written at start (/dev/full): kms serve refuses to serve, exit 1', async () => {
    if (!existsSync('/dev/full')) return;
    const r = await runCli(['kms', 'serve', '--dir', dir, '--users', users, '--port', '0', '--audit', '/dev/full']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/audit log/);
    expect(r.stdout).not.toMatch(/listening/);
  });

  it('an audit write failure while serving stops the server: the request gets no key, wipe, exit 1, nothing listening', async () => {
    // The audit "file" is a FIFO whose reader goes away: the next record fails with EPIPE.
    const fifo = join(root, 'audit.fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const h = io();
    const ac = new AbortController();
    const done = serve(['--dir', dir, '--users', users, '--port', '0', '--audit', fifo], h.io, ac.signal);
    const [, url] = await h.waitFor(/listening on (\S+)/);
    closeSync(reader);
    await expect(requestPrivateKey({ url: url!, identity: ALICE, psk: PSK, params: fx.params })).rejects.toBeDefined();
    expect(await done).toBe(1); // stopped by itself
    expect(h.out.stderr).toMatch(/audit log write failed \(EPIPE\): stopped, master secret and PSKs wiped/);
    expect(h.out.stderr).not.toMatch(/"event":"issue"/);
    expect(h.out.stderr).toMatch(/"event":"listening"/);
    await expect(requestPrivateKey({ url: url!, identity: ALICE, psk: PSK, params: fx.params })).rejects.toBeDefined();
    ac.abort();
  });

  it('plain HTTP on a non-loopback address needs --insecure-http', async () => {
    const r = await runCli(['kms', 'serve', '--dir', dir, '--users', users, '--host', '0.0.0.0', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--insecure-http/);
    const h = io();
    const ac = new AbortController();
    const done = serve(['--dir', dir, '--users', users, '--host', '0.0.0.0', '--port', '0', '--insecure-http'], h.io, ac.signal);
    await h.waitFor(/listening on (\S+)/);
    ac.abort();
    expect(await done).toBe(0);
    for (const bad of [['--conn-per-addr', '0'], ['--idle-timeout', 'x']]) {
      expect((await runCli(['kms', 'serve', '--dir', dir, '--users', users, '--port', '0', ...bad])).code).toBe(2);
    }
  });
});

describe('connection caps', () => {
  const open = (port: number) =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
  const closed = (s: Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

  it('idle sockets from one address beyond the per-address cap are closed at once (the held ones stay); a client gets through', { timeout: 20_000 }, async () => {
    const srv = await startMikeyHttpServer({
      maxConnectionsPerAddress: 4,
      idleTimeoutMs: 60_000,
      handle: async () => ({ status: 200, body: new Uint8Array([1]) }),
    });
    try {
      const held: Socket[] = [];
      for (let i = 0; i < 4; i++) held.push(await open(srv.port));
      const extra: Socket[] = [];
      for (let i = 0; i < 20; i++) extra.push(await open(srv.port));
      await Promise.all(extra.map(closed)); // refused by the server, long before any idle timeout
      expect(held.every((s) => !s.destroyed)).toBe(true);
      held.forEach((s) => s.destroy());
      await Promise.all(held.map(closed));
      // the server sees those closes a moment later: a new client gets through once it has
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        const signal = AbortSignal.timeout(500);
        status = await fetch(srv.url, { method: 'POST', headers: { 'content-type': 'application/mikey' }, body: new Uint8Array([0]), signal }).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 20));
      }
      expect(status).toBe(200);
    } finally {
      await srv.close();
    }
  });

  it('a socket that never sends a request is closed by the idle timeout', async () => {
    const srv = await startMikeyHttpServer({ idleTimeoutMs: 300, handle: async () => ({ status: 200 }) });
    try {
      await closed(await open(srv.port));
    } finally {
      await srv.close();
    }
  });
});
