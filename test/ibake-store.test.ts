// The bounded session table (src/ibake/store.ts, security.md A13): half-open states are limited
// per peer (the peer's oldest goes first), a table full of established states evicts the least
// recently used one instead of refusing a new call (IBAKE_BUSY), every removal is wiped
// (onRemove), and through an endpoint: one caller flooding fresh calls cannot take another
// caller's room, and an app that never calls close does not lock an identity out.
import { describe, expect, it } from 'vitest';
import { SessionStore, type StoredState } from '../src/ibake/store.js';
import { fastestEngine } from './helpers/engines.js';
import { makeWorld } from './helpers/ibake-world.js';

type S = StoredState & { tag: string };
const st = (csbId: number, peer: string, state?: string): S => ({ csbId, peer, deadline: Date.now() + 60_000, tag: `${csbId}`, ...(state ? { state } : {}) });

describe('SessionStore bounds', () => {
  it('per-peer half-open limit: a new half-open state evicts that peer\'s oldest one, not another peer\'s', () => {
    const removed: number[] = [];
    const s = new SessionStore<S>({ maxSessions: 100, maxHalfOpenPerPeer: 3, onRemove: (x) => removed.push(x.csbId) });
    s.put(st(100, 'sip:carol@x'));
    for (let i = 1; i <= 5; i++) s.put(st(i, 'sip:mallory@x'));
    expect(s.halfOpenOf('sip:mallory@x')).toBe(3);
    expect(removed).toEqual([1, 2]);
    expect(s.has(100, 'sip:carol@x')).toBe(true);
    // an established state does not count against the half-open limit
    const e = s.get(3, 'sip:mallory@x');
    e.state = 'established';
    s.touch(e);
    expect(s.halfOpenOf('sip:mallory@x')).toBe(2);
    s.put(st(6, 'sip:mallory@x'));
    expect(removed).toEqual([1, 2]);
    // touching a half-open state makes it the peer's newest: the next eviction takes another
    s.touch(s.get(4, 'sip:mallory@x'));
    s.put(st(7, 'sip:mallory@x'));
    expect(removed).toEqual([1, 2, 5]);
    expect(s.has(4, 'sip:mallory@x')).toBe(true);
  });

  it('a full table evicts the least recently used established state; only half-open states left: IBAKE_BUSY', () => {
    const removed: number[] = [];
    const s = new SessionStore<S>({ maxSessions: 3, maxHalfOpenPerPeer: 10, onRemove: (x) => removed.push(x.csbId) });
    s.put(st(1, 'sip:a@x', 'established'));
    s.put(st(2, 'sip:b@x', 'established'));
    s.put(st(3, 'sip:c@x', 'established'));
    s.touch(s.get(1, 'sip:a@x')); // 1 used recently: 2 is now the least recently used
    s.put(st(4, 'sip:d@x'));
    expect(removed).toEqual([2]);
    expect(s.evicted).toBe(1);
    s.put(st(5, 'sip:e@x'));
    expect(removed).toEqual([2, 3]);
    s.put(st(6, 'sip:f@x'));
    expect(removed).toEqual([2, 3, 1]);
    expect(() => s.put(st(7, 'sip:g@x'))).toThrow(expect.objectContaining({ code: 'IBAKE_BUSY' }));
    expect(s.size).toBe(3);
  });

  it('byCsb (exchange.close, forking) agrees with a scan of the table through random puts, touches, deletes, evictions and expiries', () => {
    let now = 1_800_000_000_000;
    let seed = 12345;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    const s = new SessionStore<S>({ maxSessions: 40, maxHalfOpenPerPeer: 4, now: () => now });
    const peers = ['sip:a@x', 'sip:b@x', 'sip:c@x', 'sip:d@x'];
    const csbs = [1, 2, 3, 0xffffffff, 0x80000000, 7];
    for (let i = 0; i < 3000; i++) {
      const csb = csbs[rnd(csbs.length)]!;
      const peer = peers[rnd(peers.length)]!;
      const op = rnd(10);
      if (op < 5) {
        const x = { ...st(csb, peer, rnd(2) ? 'established' : undefined), deadline: now + 1 + rnd(5000) };
        try {
          s.put(x);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('IBAKE_BUSY');
        }
      } else if (op < 7) s.delete(csb, peer);
      else if (op < 8) {
        const x = s.find(csb, peer);
        if (x) {
          x.state = 'established';
          s.touch(x);
        }
      } else if (op < 9) now += rnd(800);
      else s.expire();
      const all = s.values();
      expect(s.size).toBe(all.length);
      for (const x of all) expect(s.peek(x.csbId, x.peer)).toBe(x);
      for (const p of peers) expect(s.halfOpenOf(p), `step ${i}, ${p}`).toBe(all.filter((x) => x.peer === p && x.state !== 'established').length);
      for (const c of csbs) {
        const scan = s.values().filter((x) => x.csbId >>> 0 === c >>> 0 && x.deadline >= now).map((x) => x.peer).sort();
        expect(s.byCsb(c).map((x) => x.peer).sort(), `step ${i}, CSB ${c}`).toEqual(scan);
      }
    }
  });

  it('refuses nonsense limits', () => {
    for (const o of [{ maxSessions: 0 }, { maxHalfOpenPerPeer: -1 }, { maxHalfOpenPerPeer: 1.5 }]) {
      expect(() => new SessionStore(o)).toThrow(expect.objectContaining({ code: 'IBAKE_BAD_INPUT' }));
    }
  });
});

describe('bounded state through an endpoint', async () => {
  const engine = await fastestEngine();
  it('calls that are never closed: the oldest established states are evicted, new calls still succeed', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party('sip:alice@example.org', { maxSessions: 4 });
    const bob = await w.party('sip:bob@example.org', { maxSessions: 4 });
    const first: number[] = [];
    for (let i = 0; i < 7; i++) {
      const { message, csbId } = await alice.initiate({ to: 'sip:bob@example.org' });
      first.push(csbId);
      const r1 = await bob.receive(message);
      const i2 = await alice.receive(r1.reply!);
      const r2 = await bob.receive(i2.reply!);
      expect((await alice.receive(r2.reply!)).established).toBeDefined();
      alice.closeOffer(csbId); // the offer is half-open until its timeout; the app ends it
    }
    expect(bob.responded.size).toBe(4);
    expect(bob.responded.evicted).toBe(3);
    expect(bob.responded.has(first[0]!, 'sip:alice@example.org')).toBe(false);
    expect(bob.responded.has(first[6]!, 'sip:alice@example.org')).toBe(true);
    // an evicted exchange can no longer be re-keyed (its keys are the app's)
    await expect(alice.rekey(first[0]!, 'sip:bob@example.org')).rejects.toMatchObject({ code: 'IBAKE_NO_SESSION' });
  });

  it('one caller flooding fresh I_MESSAGE_1s holds at most maxHalfOpenPerPeer states; another caller still gets through', async () => {
    const w = await makeWorld(engine);
    const bob = await w.party('sip:bob@example.org', { maxSessions: 8, maxHalfOpenPerPeer: 3 });
    const mallory = await w.party('sip:mallory@example.org');
    for (let i = 0; i < 10; i++) await bob.receive((await mallory.initiate({ to: 'sip:bob@example.org' })).message);
    expect(bob.responded.halfOpenOf('sip:mallory@example.org')).toBe(3);
    const carol = await w.party('sip:carol@example.org');
    const { message } = await carol.initiate({ to: 'sip:bob@example.org' });
    const r1 = await bob.receive(message);
    const i2 = await carol.receive(r1.reply!);
    const r2 = await bob.receive(i2.reply!);
    expect((await carol.receive(r2.reply!)).established).toBeDefined();
  });
});
