// Test helper: runs the real `ibaked` binary (bin/ibaked.js → dist/) as a child process with a
// JSON config in a fresh directory, collects its JSON log lines, and waits until it listens.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { encodeFrame, FrameDecoder } from '../../src/daemon/frame.js';

/**
 * Every daemon this file's tests started and that still runs. A test that fails before its
 * own stop() must not leave a daemon behind (it would hold CPU and sockets for the rest of the
 * run): whatever is left when the test file ends is killed here.
 */
const LIVE = new Set<ChildProcess>();
afterAll(() => {
  for (const p of LIVE) p.kill('SIGKILL');
  LIVE.clear();
});

export const BIN = join(process.cwd(), 'bin', 'ibaked.js');
export const BUILT = existsSync(join(process.cwd(), 'dist', 'daemon', 'main.js'));

export interface DaemonProc {
  p: ChildProcess;
  dir: string;
  sock: string;
  cfgFile: string;
  /** Everything written to stderr so far. */
  err: () => string;
  /** stderr lines parsed as JSON (throws on a line that is not JSON). */
  records: () => Array<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string | null>;
  waitFor(pred: (rec: Record<string, unknown>) => boolean, what: string, ms?: number): Promise<Record<string, unknown>>;
  writeConfig(cfg: Record<string, unknown>): void;
  stop(): Promise<number | string | null>;
}

export function newDir(prefix = 'ibaked-op-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

export async function startDaemonProc(cfg: Record<string, unknown> = {}, o: { args?: string[]; nodeArgs?: string[]; dir?: string; wait?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<DaemonProc> {
  const dir = o.dir ?? newDir();
  const cfgFile = join(dir, 'ibaked.json');
  const writeConfig = (c: Record<string, unknown>) => writeFileSync(cfgFile, JSON.stringify({ socket: 'ibaked.sock', varDir: 'state', skipSelftest: true, ...c }));
  writeConfig(cfg);
  const p = spawn(process.execPath, [...(o.nodeArgs ?? []), BIN, '--config', cfgFile, ...(o.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  let err = '';
  const waiters: Array<() => void> = [];
  p.stderr!.on('data', (c) => {
    err += c;
    for (const w of waiters.splice(0)) w();
  });
  p.stdout!.resume();
  LIVE.add(p);
  const exited = new Promise<number | string | null>((r) => p.on('close', (code, sig) => r(code ?? sig)));
  void exited.then(() => LIVE.delete(p));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const w of waiters.splice(0)) w();
  });
  const records = () =>
    err
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const waitFor = async (pred: (r: Record<string, unknown>) => boolean, what: string, ms = 60_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = records().find(pred);
      if (hit) return hit;
      if (done || Date.now() > deadline) throw new Error(`ibaked: no log record "${what}" (exited: ${done}); stderr:\n${err.slice(-3000)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  const d: DaemonProc = {
    p, dir, sock: join(dir, 'ibaked.sock'), cfgFile, err: () => err, records, exited, waitFor, writeConfig,
    stop: async () => {
      if (!done) p.kill('SIGTERM');
      return exited;
    },
  };
  if (o.wait !== false) {
    // listening = the socket accepts a connection (works whatever the log level)
    for (let i = 0; ; i++) {
      if (done) throw new Error(`ibaked exited while starting; stderr:\n${err.slice(-3000)}`);
      if (i > 600) throw new Error(`ibaked did not listen within 60 s; stderr:\n${err.slice(-3000)}`);
      if (existsSync(d.sock) && (await canConnect(d.sock))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return d;
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Sends raw bytes on a fresh connection; returns every frame received until the server closes (or ms). */
export function rawFrames(sock: string, bytes: Buffer | Buffer[], o: { halfClose?: boolean; ms?: number } = {}): Promise<{ frames: Record<string, unknown>[]; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const s = connect(sock);
    const dec = new FrameDecoder();
    const frames: Record<string, unknown>[] = [];
    let closedByServer = false;
    const t = setTimeout(() => s.destroy(), o.ms ?? 5000);
    s.on('data', (c: Buffer) => frames.push(...dec.push(c)));
    s.on('end', () => (closedByServer = true));
    s.on('close', () => {
      clearTimeout(t);
      resolve({ frames, closedByServer });
    });
    s.on('error', () => {});
    s.on('connect', () => {
      for (const b of Array.isArray(bytes) ? bytes : [bytes]) s.write(b);
      if (o.halfClose) s.end();
    });
  });
}

export const frame = (m: Record<string, unknown>) => encodeFrame(m);
