// The key infrastructure of the example, as child processes: one KMS (`ibake kms init` +
// `ibake kms serve` on a loopback port) and one running ibaked per user agent in production mode
// (its own socket and configuration: the KMS URL, its pinned params.json, the agent's identity
// with a PSK file). Two daemons must share a KMS: an IBAKE peer encrypts to the other's URI under
// the KMS parameters, so two development-mode daemons (each with an embedded KMS of its own)
// cannot call each other. Each child is waited for until it answers, and stopped with SIGTERM
// (SIGKILL after a grace period) so nothing is left behind.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IbakedClient } from '../../src/client/ipc.js';
import { Child } from './child.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunningKms {
  url: string;
  params: string;
  /** uri -> PSK file (hex, mode 0600) */
  pskFiles: Map<string, string>;
  stop(): Promise<void>;
}

/** Creates a KMS in `dir`/kms for `users` and serves it on 127.0.0.1 (ephemeral port). */
export async function startKms(dir: string, users: string[], timeoutMs: number): Promise<RunningKms> {
  const kmsDir = join(dir, 'kms');
  const cli = join(REPO, 'bin', 'ibake.js');
  execFileSync(process.execPath, [cli, 'kms', 'init', '--dir', kmsDir, '--kms-id', 'sip:kms.example.org'], { stdio: 'ignore', timeout: timeoutMs });
  const table: Record<string, string> = {};
  const pskFiles = new Map<string, string>();
  for (const [i, u] of users.entries()) {
    const psk = randomBytes(32).toString('hex');
    table[u] = psk;
    const f = join(dir, `user${i}.psk`);
    writeFileSync(f, psk, { mode: 0o600 });
    pskFiles.set(u, f);
  }
  const usersFile = join(dir, 'users.json');
  writeFileSync(usersFile, JSON.stringify(table), { mode: 0o600 });
  const c = new Child(process.execPath, [cli, 'kms', 'serve', '--dir', kmsDir, '--users', usersFile, '--port', '0']);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = /listening on (http:\/\/\S+)/.exec(c.out);
    if (m) return { url: m[1]!, params: join(kmsDir, 'params.json'), pskFiles, stop: () => c.stop() };
    if (c.exited !== undefined || Date.now() > end) {
      await c.stop();
      throw new Error(`the KMS did not start: ${(c.out + c.err).slice(-400)}`);
    }
    await sleep(30);
  }
}

export interface RunningDaemon {
  name: string;
  socket: string;
  client: IbakedClient;
  log(): string;
  stop(): Promise<void>;
}

/** Starts ibaked `name` for identity `uri` against `kms`, keying SRTP `profile`; resolves once it answers ping. */
export async function startDaemon(name: string, dir: string, o: { uri: string; kms: RunningKms; profile: string; engine?: string; timeoutMs: number }): Promise<RunningDaemon> {
  const socket = join(dir, `${name}.sock`);
  const config = join(dir, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      socket, varDir: join(dir, `${name}-var`), skipSelftest: true, profile: o.profile,
      kms: { url: o.kms.url, params: o.kms.params },
      identities: [{ uri: o.uri, pskFile: o.kms.pskFiles.get(o.uri) }],
      ...(o.engine ? { engine: o.engine } : {}),
    }),
  );
  const c = new Child(process.execPath, [join(REPO, 'bin', 'ibaked.js'), '--config', config]);
  const end = Date.now() + o.timeoutMs;
  for (;;) {
    if (c.exited !== undefined) throw new Error(`ibaked ${name} exited with ${c.exited}: ${c.err.slice(-400)}`);
    try {
      const client = await IbakedClient.connect(socket);
      await client.request('ping');
      return { name, socket, client, log: () => c.err, stop: async () => (client.close(), await c.stop()) };
    } catch {
      if (Date.now() > end) {
        await c.stop();
        throw new Error(`ibaked ${name} did not answer on ${socket} within ${o.timeoutMs} ms: ${c.err.slice(-400)}`);
      }
      await sleep(50);
    }
  }
}
