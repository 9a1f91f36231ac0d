// Work done ahead of need (src/ibake/ahead.ts): IdleJob's contract (result once, failures and
// drops give undefined so the caller recomputes, dropped results are wiped), exchange keys
// computed ahead equal the in-line ones, spare ephemerals (distinct, valid, never handed out twice), and
// an exchange whose K_SESSION work is lost (the states move to fresh endpoints after
// I_MESSAGE_2) still ends with the same keys on both sides.
import { describe, expect, it } from 'vitest';
import { exchangeKeysAhead, IdleJob, takeEphemeral } from '../src/ibake/ahead.js';
import { computeExchangeKeys, type ExchangeInput } from '../src/ibake/exchange-keys.js';
import { checkP256Point } from '../src/ibake/ecdh.js';
import { IbakeEndpoint } from '../src/ibake/endpoint.js';
import { availableEngines, loadEngine } from './helpers/engines.js';
import { hex, makeWorld } from './helpers/ibake-world.js';

const engine = (await availableEngines()).at(-1)!;
const keysHex = (k: { masterKey: Uint8Array; masterSalt: Uint8Array }[]) => k.map((x) => hex(x.masterKey) + ':' + hex(x.masterSalt));

describe('IdleJob', () => {
  it('runs on a later turn and hands its result out once', async () => {
    let ran = 0;
    const job = new IdleJob(() => {
      ran++;
      return Uint8Array.of(1, 2, 3);
    }, (v) => v.fill(0));
    expect(ran).toBe(0); // not synchronously
    const v = await job.take();
    expect(ran).toBe(1);
    expect([...v!]).toEqual([1, 2, 3]);
    expect(await job.take()).toBeUndefined();
  });
  it('a failed job gives undefined (the caller recomputes and reports)', async () => {
    const job = new IdleJob<Uint8Array>(() => {
      throw new Error('bad point');
    }, (v) => v.fill(0));
    expect(await job.take()).toBeUndefined();
  });
  it('drop() before the run skips it; after the run it wipes the result', async () => {
    let ran = 0;
    const early = new IdleJob(() => {
      ran++;
      return new Uint8Array(4).fill(7);
    }, (v) => v.fill(0));
    early.drop();
    expect(await early.take()).toBeUndefined();
    expect(ran).toBe(0);
    const out = new Uint8Array(4).fill(7);
    const late = new IdleJob(() => out, (v) => v.fill(0));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    late.drop();
    expect([...out]).toEqual([0, 0, 0, 0]);
    expect(await late.take()).toBeUndefined();
  });
});

function input(): ExchangeInput {
  const a = takeEphemeral();
  const b = takeEphemeral();
  return {
    secret: a.secret, peerPoint: b.publicPoint, ownPoint: a.publicPoint, prf: 1, csbId: 0x01020304,
    rand: new Uint8Array(16).fill(5), authLen: 32, cs: { map: [{ ssrc: 7, roc: 0 }, { ssrc: 8, roc: 3 }], profile: 'AES_CM_128_HMAC_SHA1_80' }, reveal: true,
  };
}
const flat = (k: Awaited<ReturnType<typeof computeExchangeKeys>>) =>
  [k.sess.mpk, k.sess.tgk, k.sess.authKey, k.kSession!, ...k.cs!.flatMap((c) => [c.masterKey, c.masterSalt])].map(hex).join(',');

describe('exchange keys ahead', () => {
  it('give exactly the in-line computation; a bad point fails the job (the caller recomputes and reports)', async () => {
    for (let i = 0; i < 5; i++) {
      const x = input();
      expect(flat((await exchangeKeysAhead(x).take())!)).toBe(flat(computeExchangeKeys(x)));
    }
    const bad = { ...input(), peerPoint: new Uint8Array(65).fill(1) };
    expect(await exchangeKeysAhead(bad).take()).toBeUndefined();
    expect(() => computeExchangeKeys(bad)).toThrow(expect.objectContaining({ code: 'IBAKE_AUTH_FAILED' }));
  });
});

const native = await loadEngine('native');

describe.runIf(!!native?.p256Mul)('exchange keys ahead with the native P-256 multiplication', () => {
  const mul = native?.p256Mul!; // runIf(false) still collects this body: no dereference without the addon
  it('give the in-line computation\'s keys; K_SESSION runs off this thread, once per job', async () => {
    let calls = 0;
    const counted = (k: Uint8Array, q: Uint8Array) => (calls++, mul(k, q));
    for (let i = 0; i < 5; i++) {
      const x = input();
      const job = exchangeKeysAhead(x, counted);
      await new Promise((r) => setImmediate(r));
      const want = flat(computeExchangeKeys(x));
      x.rand.fill(0); // the job keeps copies: wiping the caller's RAND once it has started changes nothing
      expect(flat((await job.take())!)).toBe(want);
    }
    expect(calls).toBe(5);
  });
  it('a failing multiplication or a bad point fails the job (the caller recomputes)', async () => {
    const refused = exchangeKeysAhead(input(), () => Promise.reject(new Error('unavailable')));
    expect(await refused.take()).toBeUndefined();
    expect(await exchangeKeysAhead({ ...input(), peerPoint: new Uint8Array(65).fill(1) }, mul).take()).toBeUndefined();
  });
});

describe('IdleJob with an asynchronous run', () => {
  it('hands its result out once; a failure gives undefined; a result arriving after drop() is wiped', async () => {
    const job = new IdleJob(async () => Uint8Array.of(4, 5), (v) => v.fill(0));
    expect([...(await job.take())!]).toEqual([4, 5]);
    expect(await job.take()).toBeUndefined();
    expect(await new IdleJob<Uint8Array>(() => Promise.reject(new Error('no')), (v) => v.fill(0)).take()).toBeUndefined();
    const out = Uint8Array.of(7, 7, 7);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const late = new IdleJob(async () => {
      await gate;
      return out;
    }, (v) => v.fill(0));
    await new Promise((r) => setImmediate(r)); // started
    late.drop();
    release();
    expect(await late.take()).toBeUndefined();
    expect([...out]).toEqual([0, 0, 0]);
  });
});

describe('spare ephemerals', () => {
  it('are valid P-256 key pairs, all distinct, whether taken back to back or after a refill', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const k = takeEphemeral();
      expect(k.secret.length).toBe(32);
      expect(checkP256Point(k.publicPoint)).toBeUndefined();
      seen.add(hex(k.secret));
      seen.add(hex(k.publicPoint));
      if (i % 3 === 2) await new Promise((r) => setImmediate(r)); // let spares be made
    }
    expect(seen.size).toBe(24);
  });
});

describe('K_SESSION without the work done ahead', () => {
  it('state exported after I_MESSAGE_2 (x kept, no idle job): both sides still agree', async () => {
    const { encodeMsgpack: encode, decodeMsgpack: decode } = await import('../src/daemon/frame.js');
    const w = await makeWorld(engine);
    const A = 'sip:alice@example.org';
    const B = 'sip:bob@example.org';
    const alice = await w.party(A);
    const bob = await w.party(B);
    const { message: i1 } = await alice.initiate({ to: B });
    const r1 = await bob.receive(i1);
    const i2 = await alice.receive(r1.reply!);
    const st = alice.exportState();
    expect(st.initiated[0]!.x?.length).toBe(32); // x is kept until R_MESSAGE_2
    const alice2 = new IbakeEndpoint({ identity: A, ibe: alice.keyring });
    alice2.importState(decode(encode(st)) as typeof st);
    const bob2 = new IbakeEndpoint({ identity: B, ibe: bob.keyring });
    bob2.importState(decode(encode(bob.exportState())) as ReturnType<IbakeEndpoint['exportState']>);
    const r2 = await bob2.receive(i2.reply!);
    const done = await alice2.receive(r2.reply!);
    expect(keysHex(done.established!.keys)).toEqual(keysHex(r2.established!.keys));
    // the original endpoints (with their idle jobs) reach the same keys
    const r2b = await bob.receive(i2.reply!);
    const doneB = await alice.receive(r2b.reply!);
    expect(keysHex(doneB.established!.keys)).toEqual(keysHex(done.established!.keys));
    expect(alice2.exportState().initiated[0]!.x).toBeUndefined(); // wiped and dropped once used
  });
});
