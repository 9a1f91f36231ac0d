// Idle polling in a real IPC server (src/daemon/server.ts with src/daemon/idle-poll.ts and the
// ibaked_sched addon's yield): after a reply leaves an idle server it polls for a window and
// then stops by itself (no CPU left burning), idlePollUs 0 or a missing yield turns it off, and
// requests are answered alike either way.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { routerSchedStatus, yieldThread } from '../src/daemon/router-sched.js';
import { startDaemon, type Handler, type RunningDaemon } from '../src/daemon/server.js';

const dir = mkdtempSync(join(tmpdir(), 'ibaked-idle-poll-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const handlers: Record<string, Handler> = { echo: async (p) => ({ v: p.v }) };

async function serve(o: { idlePollUs?: number; yield?: boolean }): Promise<{ d: RunningDaemon; c: IbakedClient; close(): Promise<void> }> {
  const d = await startDaemon({
    socketPath: join(dir, `s${n++}.sock`),
    handlers,
    limits: o.idlePollUs === undefined ? {} : { idlePollUs: o.idlePollUs },
    ...(o.yield === false ? {} : { yieldThread }),
  });
  const c = await IbakedClient.connect(d.socketPath);
  return { d, c, close: async () => (c.close(), await d.close()) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(routerSchedStatus().available)('idle polling in the IPC server', () => {
  it('polls after each reply once idle, then stops by itself within its window', async () => {
    const s = await serve({});
    try {
      expect(s.d.limits.idlePollUs).toBe(100); // the default
      for (let i = 0; i < 50; i++) expect(await s.c.request('echo', { v: i })).toEqual({ v: i });
      await sleep(20);
      const { polls, hits, seconds, windowUs } = s.d.idlePoll;
      expect(polls).toBeGreaterThanOrEqual(1); // the first idle period always polls
      expect(hits).toBeLessThanOrEqual(polls);
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(polls * 100e-6 + 1e-9); // no window outlived its 100 µs
      expect(windowUs).toBeLessThanOrEqual(100);
      await sleep(30);
      expect(s.d.idlePoll.seconds).toBe(seconds); // nothing polls while idle
      expect(s.d.idlePoll.polls).toBe(polls);
      // CPU of this process over an idle stretch: the event loop sleeps
      const before = process.cpuUsage();
      await sleep(100);
      const used = process.cpuUsage(before);
      expect((used.user + used.system) / 1000).toBeLessThan(50);
    } finally {
      await s.close();
    }
  });

  it('idlePollUs 0, or no yield, never polls; setLimits turns it on at run time', async () => {
    for (const o of [{ idlePollUs: 0 }, { yield: false }]) {
      const s = await serve(o);
      try {
        for (let i = 0; i < 10; i++) expect(await s.c.request('echo', { v: i })).toEqual({ v: i });
        expect(s.d.idlePoll.polls).toBe(0);
        if (o.idlePollUs === 0) {
          s.d.setLimits({ idlePollUs: 50 });
          await s.c.request('echo', { v: 1 });
          await sleep(5);
          expect(s.d.idlePoll.polls).toBeGreaterThanOrEqual(1);
          expect(s.d.idlePoll.seconds).toBeLessThanOrEqual(s.d.idlePoll.polls * 50e-6 + 1e-9);
        }
      } finally {
        await s.close();
      }
    }
  });
});
