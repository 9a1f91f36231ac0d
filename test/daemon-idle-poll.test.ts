// The main thread's idle polling (src/daemon/idle-poll.ts), on a fake clock and a fake event
// loop: a window opens when the daemon goes idle, each turn yields the core, a request or the
// window's end closes it, and the window adapts as guest halt-polling does (grow when a request
// came just after it, shrink when one came long after the longest window, zero = sleep at once).
// The real daemon's polling is checked in test/daemon-idle-poll-live.test.ts.
import { describe, expect, it } from 'vitest';
import { IDLE_POLL_START_US, idlePoller, MAX_IDLE_POLL_US } from '../src/daemon/idle-poll.js';

function rig(maxUs: number, canYield = true) {
  let t = 0; // ms
  const turns: Array<() => void> = [];
  let yields = 0;
  const max = { us: maxUs };
  const p = idlePoller({
    maxUs: () => max.us,
    yieldThread: () => (yields++, canYield),
    now: () => t,
    nextTurn: (f) => turns.push(f),
  });
  /** Runs the event loop's turns for `us` microseconds of fake time, one turn per µs. */
  const spin = (us: number) => {
    for (let i = 0; i < us && turns.length > 0; i++) {
      t += 0.001;
      turns.shift()!();
    }
  };
  return { p, turns, max, spin, advance: (us: number) => (t += us / 1000), yields: () => yields };
}

describe('idle poller', () => {
  it('polls, yielding on every turn, until a request arrives', () => {
    const r = rig(100);
    r.p.idle();
    expect(r.turns.length).toBe(1);
    r.spin(30);
    expect(r.yields()).toBe(30);
    expect(r.turns.length).toBe(1); // still polling
    r.p.busy();
    r.spin(5); // the queued turn sees the window closed and stops
    expect(r.turns.length).toBe(0);
    expect(r.p.stats).toMatchObject({ polls: 1, hits: 1, windowUs: 100 });
    expect(r.p.stats.seconds).toBeCloseTo(30e-6, 9);
  });

  it('stops at the end of the window and halves it when the request came long after the longest window', () => {
    const r = rig(100);
    r.p.idle();
    r.spin(500);
    expect(r.turns.length).toBe(0); // ended by itself
    expect(r.yields()).toBeGreaterThanOrEqual(99);
    expect(r.yields()).toBeLessThanOrEqual(101);
    expect(r.p.stats.seconds).toBeCloseTo(100e-6, 9);
    r.advance(5000);
    r.p.busy(); // 5 ms idle: the poll was wasted
    expect(r.p.stats).toMatchObject({ polls: 1, hits: 0, windowUs: 50 });
    // long gaps keep halving it, down to zero: then nothing polls at all
    for (const w of [25, 0]) {
      r.p.idle();
      r.spin(1000);
      r.advance(5000);
      r.p.busy();
      expect(r.p.stats.windowUs).toBe(w);
    }
    const polls = r.p.stats.polls;
    r.p.idle();
    expect(r.turns.length).toBe(0);
    r.advance(5000);
    r.p.busy();
    expect(r.p.stats.polls).toBe(polls);
  });

  it('grows back from zero when requests come within the longest window again', () => {
    const r = rig(100);
    for (let i = 0; i < 3; i++) {
      r.p.idle();
      r.spin(1000);
      r.advance(5000);
      r.p.busy();
    }
    expect(r.p.stats.windowUs).toBe(0);
    const grown: number[] = [];
    for (let i = 0; i < 4; i++) {
      r.p.idle();
      r.spin(1000); // nothing to spin at 0; later windows end by themselves
      r.advance(90 - Math.min(90, r.p.stats.windowUs)); // the request comes 90 µs after going idle
      r.p.busy();
      grown.push(r.p.stats.windowUs);
    }
    expect(grown).toEqual([IDLE_POLL_START_US, 2 * IDLE_POLL_START_US, 4 * IDLE_POLL_START_US, 100]);
  });

  it('a request within the window changes nothing; max 0 or no yield means no polling', () => {
    const r = rig(100);
    r.p.idle();
    r.spin(10);
    r.p.busy();
    expect(r.p.stats.windowUs).toBe(100);
    const off = rig(0);
    off.p.idle();
    expect(off.turns.length).toBe(0);
    off.p.busy();
    expect(off.p.stats).toMatchObject({ polls: 0, windowUs: 0 });
    const noYield = rig(100, false);
    noYield.p.idle();
    noYield.spin(10);
    expect(noYield.turns.length).toBe(0); // the first turn could not yield: it stopped
    expect(noYield.yields()).toBe(1);
  });

  it('starts afresh from a changed maximum and caps it at MAX_IDLE_POLL_US; stop() ends polling for good', () => {
    const r = rig(100);
    r.p.idle();
    r.p.busy();
    r.max.us = 40;
    r.p.idle();
    expect(r.p.stats.windowUs).toBe(40);
    r.p.busy();
    r.max.us = 0; // switched off: nothing polls
    r.p.idle();
    expect(r.p.stats.windowUs).toBe(0);
    r.p.busy();
    r.max.us = 80; // and on again: the full window at once
    r.p.idle();
    expect(r.p.stats.windowUs).toBe(80);
    r.p.busy();
    const big = rig(10 * MAX_IDLE_POLL_US);
    big.p.idle();
    expect(big.p.stats.windowUs).toBe(MAX_IDLE_POLL_US);
    big.p.stop();
    big.spin(10);
    expect(big.turns.length).toBe(0);
    big.p.idle();
    expect(big.turns.length).toBe(0);
    expect(big.p.stats.polls).toBe(1);
  });
});
