// Test helper: IPC requests sent as another uid — 65534 ("nobody") in group 0, so the daemon's
// 0660 socket is reachable — to check what the daemon lets other uids do (exchange ownership,
// identity uid allow-lists). Needs root; the client is loaded from a copy uid 65534 can read
// when this checkout is out of its reach (nobody-dist.ts). `asNobody` says whether it can run.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { nobodyDist } from './nobody-dist.js';

const dist = nobodyDist();
/** The built client as uid 65534 loads it. */
export const NOBODY_IPC_JS = dist ? join(dist, 'client', 'ipc.js') : '';

export const asNobody = dist !== undefined;

/**
 * Sends `requests` in turn as uid 65534 on one connection to `sock`. Each gives 'ok' — for a
 * result listing `prekeys`, 'ok' followed by their URIs — or its error code. Bytes
 * (Uint8Array) in the params are carried as such.
 */
export async function requestsAsNobody(sock: string, requests: Array<[string, Record<string, unknown>]>): Promise<string[]> {
  const enc = JSON.stringify(requests, (_k, v) => (v instanceof Uint8Array ? { $bin: [...v] } : v));
  const script = `import(${JSON.stringify(NOBODY_IPC_JS)}).then(async ({ IbakedClient }) => {
    const reqs = JSON.parse(${JSON.stringify(enc)}, (_k, v) => (v && Array.isArray(v.$bin) ? new Uint8Array(v.$bin) : v));
    const c = await IbakedClient.connect(${JSON.stringify(sock)});
    const out = [];
    for (const [m, p] of reqs) out.push(await c.request(m, p).then((r) => (Array.isArray(r?.prekeys) ? ['ok', ...r.prekeys.map((e) => e.uri)].join(' ') : 'ok'), (e) => e.code));
    process.stdout.write(JSON.stringify(out)); c.close();
  })`;
  const text = await new Promise<string>((resolve) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 0, cwd: '/' });
    let s = '';
    p.stdout.on('data', (x) => (s += x));
    p.stderr.on('data', (x) => (s += x));
    p.on('close', () => resolve(s));
  });
  try {
    return JSON.parse(text) as string[];
  } catch {
    throw new Error(`uid 65534 client failed: ${text}`);
  }
}
