// The router's scheduling policy under load (src/daemon/router-sched.ts, native/src/sched.cc):
// the addon switches the calling thread between SCHED_BATCH and SCHED_OTHER and reads it back
// (checked against the kernel's own view in /proc), rejects a non-boolean, and a daemon runs
// its main thread as SCHED_BATCH only under load (2 × cores exchange requests in flight). Its
// yield() (sched_yield, for idle polling: test/daemon-idle-poll-live.test.ts) succeeds and
// leaves the policy as it was.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { routerSchedStatus, setThreadBatch, threadPolicy, yieldThread } from '../src/daemon/router-sched.js';

const linux = process.platform === 'linux';
const available = routerSchedStatus().available;
/** The addon under test (test:sanitize points IBAKED_SCHED_PATH at its sanitized build). */
const addonPath = process.env.IBAKED_SCHED_PATH ?? `${process.cwd()}/build/Release/ibaked_sched.node`;

/** The kernel's policy number of thread `tid` (/proc/<pid>/task/<tid>/sched: "policy : N"); 0 OTHER, 3 BATCH. */
function kernelPolicy(tid: number): number {
  const m = /^policy\s*:\s*(\d+)/m.exec(readFileSync(`/proc/self/task/${tid}/sched`, 'utf8'));
  return Number(m![1]);
}

/** Runs `body` (a function's source) in a fresh worker thread and returns what it posts. */
function inThread<T>(body: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(`const { parentPort } = require('node:worker_threads'); (async () => { ${body} })().then((v) => parentPort.postMessage(v), (e) => parentPort.postMessage({ error: String(e) }));`, { eval: true });
    w.once('message', (v) => {
      void w.terminate();
      resolve(v as T);
    });
    w.once('error', reject);
  });
}

describe.runIf(linux && available)('router scheduling policy', () => {
  it('switches the calling thread only, both ways, as the kernel sees it', async () => {
    const path = JSON.stringify(addonPath);
    const r = await inThread<{ tid: number; before: string; on: boolean; during: string; k1: number; off: boolean; after: string; k2: number; main: string } | { error: string }>(`
      const a = require(${path});
      const fs = require('node:fs');
      const tid = Number(fs.readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
      const k = () => Number(/^policy\\s*:\\s*(\\d+)/m.exec(fs.readFileSync('/proc/thread-self/sched', 'utf8'))[1]);
      const before = a.policy();
      const on = a.setBatch(true);
      const during = a.policy();
      const k1 = k();
      const off = a.setBatch(false);
      return { tid, before, on, during, k1, off, after: a.policy(), k2: k() };
    `);
    expect(r).toEqual({ tid: expect.any(Number), before: 'other', on: true, during: 'batch', k1: 3, off: true, after: 'other', k2: 0 });
    // this thread was never touched
    expect(threadPolicy()).toBe('other');
    expect(kernelPolicy(Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]))).toBe(0);
  });

  it('rejects a non-boolean without changing anything', () => {
    const a = createRequire(import.meta.url)(addonPath) as { setBatch(v: unknown): boolean };
    for (const v of [1, 'true', undefined, null, {}]) expect(() => a.setBatch(v)).toThrow(/needs a boolean/);
    expect(threadPolicy()).toBe('other');
    expect(setThreadBatch(false)).toBe(true);
  });

  it('yield() succeeds, ignores arguments and changes no policy', () => {
    const a = createRequire(import.meta.url)(addonPath) as { yield(...v: unknown[]): boolean };
    for (let i = 0; i < 100; i++) expect(yieldThread()).toBe(true);
    expect(a.yield(1, 'x')).toBe(true);
    expect(threadPolicy()).toBe('other');
  });

  it('IBAKED_ROUTER_BATCH=off leaves the policy alone, says why, and does not yield (so no idle polling)', () => {
    const code = "import('./src/daemon/router-sched.ts').then((m) => console.log(JSON.stringify({ s: m.routerSchedStatus(), set: m.setThreadBatch(true), p: m.threadPolicy(), y: m.yieldThread() })))";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: process.cwd(), encoding: 'utf8', env: { ...process.env, IBAKED_ROUTER_BATCH: 'off' } });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ s: { available: false, reason: 'disabled (IBAKED_ROUTER_BATCH=off)' }, set: false, p: 'unknown', y: false });
  });

  it('a daemon runs its router as SCHED_BATCH only under load (twice the cores in flight), and back after', async () => {
    const { startIbaked } = await import('../src/daemon/daemon.js');
    const { IbakedClient } = await import('../src/client/ipc.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { testDaemonConfig } = await import('./helpers/daemon-config.js');
    const dir = mkdtempSync(join(tmpdir(), 'ibaked-sched-'));
    const d = await startIbaked(testDaemonConfig(join(dir, 'ibaked.sock'), join(dir, 'var'), { workers: 0, engine: 'native' }));
    const c = await IbakedClient.connect(d.socketPath);
    try {
      await c.request('identity.add', { uri: 'sip:alice@example.org' });
      await c.request('identity.add', { uri: 'sip:bob@example.org' });
      expect(threadPolicy()).toBe('other');
      // more than twice as many initiates as cores at once: the router sees them all in flight (this thread runs
      // it; the native engine works on the libuv pool meanwhile, so this loop gets turns)
      const seen = new Set<string>();
      const n = 2 * availableParallelism() + 2;
      const all = Promise.all(Array.from({ length: n }, () => c.request('exchange.initiate', { from: 'sip:alice@example.org', to: 'sip:bob@example.org' })));
      let done = false;
      void all.finally(() => (done = true));
      while (!done) {
        seen.add(threadPolicy());
        await new Promise((r) => setImmediate(r));
      }
      await all;
      expect(seen.has('batch')).toBe(true);
      expect(threadPolicy()).toBe('other'); // below the line again once they are answered
    } finally {
      c.close();
      await d.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(threadPolicy()).toBe('other');
  });
});
