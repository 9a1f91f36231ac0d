// The daemon's policy for the native engine's second core (src/daemon/par-policy.ts): operations
// may use the helper only while fewer exchange requests than cores are in flight; the switch is
// flipped only on a change, and a failing request still leaves the count. The same count runs
// the main thread's engine operations inline while exactly one exchange request is in flight.
import { describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.js';
import { parPolicy } from '../src/daemon/par-policy.js';

function fakeEngine() {
  const calls: boolean[] = [];
  return { calls, engine: { name: 'native', setParallel: (on: boolean) => calls.push(on) } as unknown as Engine };
}

describe('par policy', () => {
  it('turns the helper off at `cores` requests in flight and on again below', async () => {
    const { calls, engine } = fakeEngine();
    const p = parPolicy(engine, 2);
    expect(calls).toEqual([true]);
    const gates: Array<() => void> = [];
    const work = () => p.track(() => new Promise<void>((r) => gates.push(r)));
    const a = work();
    expect(p.parallel).toBe(true); // 1 in flight on 2 cores
    const b = work();
    expect(p.parallel).toBe(false); // 2 in flight
    const c = work();
    expect(calls).toEqual([true, false]); // no repeated calls
    gates.shift()!();
    await a;
    expect(p.parallel).toBe(false); // still 2
    gates.shift()!();
    await b;
    expect(p.parallel).toBe(true);
    gates.shift()!();
    await c;
    expect(calls).toEqual([true, false, true]);
  });

  it('tells onSaturated at twice the cores in flight, and again once fewer than the cores are', async () => {
    const { engine } = fakeEngine();
    const seen: boolean[] = [];
    const p = parPolicy(engine, 2, { onSaturated: (s) => seen.push(s) });
    const gates: Array<() => void> = [];
    const work = () => p.track(() => new Promise<void>((r) => gates.push(r)));
    const open = async (n: number) => {
      for (let i = 0; i < n; i++) {
        gates.shift()!();
        await Promise.resolve();
        await Promise.resolve();
      }
    };
    const all = [work(), work(), work()];
    expect(seen).toEqual([]); // 3 in flight on 2 cores: helper off, but not saturated yet
    expect(p.parallel).toBe(false);
    all.push(work());
    expect(seen).toEqual([true]); // 4 = twice the cores
    all.push(work());
    expect(seen).toEqual([true]); // said once
    await open(3); // 2 left: inside the band, still saturated
    expect(seen).toEqual([true]);
    all.push(work(), work()); // back to 4: nothing to say
    await open(3); // 1 left: below the cores
    expect(seen).toEqual([true, false]);
    await open(1);
    await Promise.all(all);
    expect(seen).toEqual([true, false]);
  });

  it('a failing request leaves the count; engines without the switch are fine', async () => {
    const { calls, engine } = fakeEngine();
    const p = parPolicy(engine, 1);
    await expect(p.track(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(p.parallel).toBe(true);
    expect(calls).toEqual([true, false, true]);
    const q = parPolicy({ name: 'ts' } as unknown as Engine, 1);
    await expect(q.track(async () => 5)).resolves.toBe(5);
  });

  it('runs operations inline while exactly one exchange request is in flight, on the pool otherwise', async () => {
    const inl: boolean[] = [];
    const engine = { name: 'native', setParallel: () => {}, setInline: (on: boolean) => inl.push(on) } as unknown as Engine;
    const p = parPolicy(engine, 2);
    expect(p.inline).toBe(false);
    expect(inl).toEqual([]); // nothing in flight: the pool, as it starts
    const gates: Array<() => void> = [];
    const work = () => p.track(() => new Promise<void>((r) => gates.push(r)));
    const a = work();
    expect(p.inline).toBe(true);
    const b = work(); // a second request arrives: both on the pool from now on
    expect(p.inline).toBe(false);
    gates.shift()!();
    await a;
    expect(p.inline).toBe(true); // one left
    gates.shift()!();
    await b;
    expect(p.inline).toBe(false);
    expect(inl).toEqual([true, false, true, false]);
    // a failing lone request switches back too
    await expect(p.track(() => Promise.reject(new Error('y')))).rejects.toThrow('y');
    expect(inl).toEqual([true, false, true, false, true, false]);
  });

  it('inlineWhenAlone: false never touches the switch', async () => {
    const inl: boolean[] = [];
    const engine = { name: 'native', setInline: (on: boolean) => inl.push(on) } as unknown as Engine;
    const p = parPolicy(engine, 2, { inlineWhenAlone: false });
    await p.track(async () => {
      expect(p.inline).toBe(false);
    });
    expect(inl).toEqual([]);
  });
});
