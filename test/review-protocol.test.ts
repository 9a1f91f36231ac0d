// Adversarial review (round after issues 13/15/16): protocol-level attacks on in-process
// endpoints, on every available engine. Each must be refused without changing live state.
import { describe, expect, it } from 'vitest';
import { availableEngines } from './helpers/engines.js';
import { hex, makeWorld } from './helpers/ibake-world.js';
import { decodeCiphertext, encodeCiphertext } from '../src/ibe/ciphertext.js';
import { decodeMessage, encodeMessage, type MikeyMessage } from '../src/mikey/index.js';

const engines = await availableEngines();
const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
/** BLS12-381 base field modulus. */
const P = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaabn;

const codeOf = async (p: Promise<unknown>) => p.then(() => 'accepted', (e: { code?: string }) => e.code ?? String(e));

type Party = Awaited<ReturnType<Awaited<ReturnType<typeof makeWorld>>['party']>>;
/** The rest of a call from R_MESSAGE_1 on; both ends must hold the same keys. */
async function finishCall(alice: Party, bob: Party, r1: Uint8Array) {
  const i2 = await alice.receive(r1);
  const r2 = await bob.receive(i2.reply!);
  const done = await alice.receive(r2.reply!);
  expect(hex(done.established!.keys[0]!.masterKey)).toBe(hex(r2.established!.keys[0]!.masterKey));
}

describe.each(engines.map((e) => [e.name, e] as const))('%s engine', (_n, engine) => {
  it('a replayed I_MESSAGE_1 whose ciphertext has U written non-canonically (coordinate + p) is refused and leaves the genuine exchange intact', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const { message: i1 } = await alice.initiate({ to: B });
    const r1 = await bob.receive(i1); // genuine delivery
    const m = decodeMessage(i1) as MikeyMessage;
    const ib = m.payloads.find((p) => p.kind === 'IBAKE') as { encrData: Uint8Array };
    const ct = decodeCiphertext(ib.encrData);
    for (const alt of [{ ...ct, ux: ct.ux + P }, { ...ct, uy: ct.uy + P }]) {
      ib.encrData = encodeCiphertext(alt);
      expect(await codeOf(bob.receive(encodeMessage(m)))).not.toBe('accepted');
    }
    // the genuine call still completes with equal keys
    await finishCall(alice, bob, r1.reply!);
  });
});

describe.each(engines.map((e) => [e.name, e] as const))('%s engine: reflection and self-calls', (_n, engine) => {
  it('Alice calling herself is refused; each message of A→B reflected to its sender or fed to the wrong role is refused; the call then completes', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    // a self-call is refused at once with a typed error (it could never complete: every responder refuses IDRi = IDRr)
    expect(await codeOf(alice.initiate({ to: A }))).toBe('IBAKE_BAD_INPUT');
    expect(alice.offers.size).toBe(0);
    // the real messages of one call, each reflected back to its sender
    const { message: i1 } = await alice.initiate({ to: B });
    expect(await codeOf(alice.receive(i1))).not.toBe('accepted');
    const r1 = await bob.receive(i1);
    expect(await codeOf(bob.receive(r1.reply!))).not.toBe('accepted');
    const i2 = await alice.receive(r1.reply!);
    expect(await codeOf(alice.receive(i2.reply!))).not.toBe('accepted');
    expect(await codeOf(alice.receive(i1))).not.toBe('accepted');
    const r2 = await bob.receive(i2.reply!);
    expect(await codeOf(bob.receive(r2.reply!))).not.toBe('accepted');
    // duplicates after completion
    expect(await codeOf(bob.receive(i2.reply!))).not.toBe('accepted');
    const done = await alice.receive(r2.reply!);
    expect(await codeOf(alice.receive(r2.reply!))).not.toBe('accepted');
    expect(hex(done.established!.keys[0]!.masterKey)).toBe(hex(r2.established!.keys[0]!.masterKey));
  });

  it('CSB update: U1, U2, U3 reflected, duplicated or out of order change no keys; the genuine update then completes', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const { message: i1, csbId } = await alice.initiate({ to: B });
    const r1 = await bob.receive(i1);
    const i2 = await alice.receive(r1.reply!);
    const r2 = await bob.receive(i2.reply!);
    const done = await alice.receive(r2.reply!);
    const oldKey = hex(done.established!.keys[0]!.masterKey);
    const bobKey = () => hex(bob.responded.get(csbId, A).keys![0]!.masterKey);
    const aliceKey = () => hex(alice.initiated.get(csbId, B).keys![0]!.masterKey);
    const u1 = await alice.rekey(csbId, B);
    expect(await codeOf(alice.receive(u1))).not.toBe('accepted'); // reflected U1
    const u2 = await bob.receive(u1);
    expect(await codeOf(bob.receive(u1))).not.toBe('accepted'); // duplicate U1
    expect(await codeOf(bob.receive(u2.reply!))).not.toBe('accepted'); // reflected U2
    expect(bobKey()).toBe(oldKey);
    const u3 = await alice.receive(u2.reply!);
    expect(await codeOf(alice.receive(u2.reply!))).not.toBe('accepted'); // duplicate U2
    expect(await codeOf(alice.receive(u3.reply!))).not.toBe('accepted'); // reflected U3
    expect(bobKey()).toBe(oldKey); // still old until U3
    const fin = await bob.receive(u3.reply!);
    expect(await codeOf(bob.receive(u3.reply!))).not.toBe('accepted'); // duplicate U3
    expect(await codeOf(bob.receive(u1))).not.toBe('accepted'); // stale U1 after the switch
    expect(bobKey()).toBe(aliceKey());
    expect(bobKey()).not.toBe(oldKey);
    expect(hex(fin.established!.keys[0]!.masterKey)).toBe(aliceKey());
  });
});

describe.each(engines.map((e) => [e.name, e] as const))('%s engine: concurrent duplicates', (_n, engine) => {
  it('the same I_MESSAGE_1 delivered several times at once (SIP retransmission, or an attacker racing the genuine copy) is answered once; the others are replays, and the call completes', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const { message: i1 } = await alice.initiate({ to: B });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map(() => bob.receive(i1)));
    const ok = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof bob.receive>>> => r.status === 'fulfilled');
    const codes = results.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as { code?: string }).code);
    expect(ok).toHaveLength(1);
    expect(codes).toEqual(['IBAKE_REPLAY', 'IBAKE_REPLAY', 'IBAKE_REPLAY', 'IBAKE_REPLAY']);
    await finishCall(alice, bob, ok[0]!.value.reply!);
  });
});

describe.each(engines.map((e) => [e.name, e] as const))('%s engine: concurrent duplicates of later messages', (_n, engine) => {
  it('I_MESSAGE_2, R_MESSAGE_2, and the CSB update U1/U2/U3 delivered three times at once release keys once, and each copy is refused as a duplicate', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const once = async <T,>(f: () => Promise<T>, step = "") => {
      const rs = await Promise.allSettled([f(), f(), f()]);
      const ok = rs.filter((r): r is PromiseFulfilledResult<Awaited<T>> => r.status === 'fulfilled');
      expect({ step, n: ok.length, codes: rs.filter((r) => r.status === "rejected").map((r) => ((r as PromiseRejectedResult).reason as { code?: string }).code) }).toMatchObject({ step, n: 1 });
      // the copies are refused as what they are (a duplicate), not as an authentication failure
      for (const r of rs) if (r.status === 'rejected') expect([step, (r.reason as { code?: string }).code]).toEqual([step, expect.stringMatching(/^IBAKE_(STATE|REPLAY)$/)]);
      return ok[0]!.value;
    };
    const { message: i1, csbId } = await alice.initiate({ to: B });
    const r1 = await bob.receive(i1);
    const i2 = await once(() => alice.receive(r1.reply!), 'R_MESSAGE_1');
    const r2 = await once(() => bob.receive(i2.reply!), 'I_MESSAGE_2');
    const done = await once(() => alice.receive(r2.reply!), 'R_MESSAGE_2');
    expect(hex(done.established!.keys[0]!.masterKey)).toBe(hex(r2.established!.keys[0]!.masterKey));
    const u1 = await alice.rekey(csbId, B);
    const u2 = await once(() => bob.receive(u1), 'U1');
    const u3 = await once(() => alice.receive(u2.reply!), 'U2');
    const fin = await once(() => bob.receive(u3.reply!), 'U3');
    expect(hex(fin.established!.keys[0]!.masterKey)).toBe(hex(u3.established!.keys[0]!.masterKey));
    expect(hex(fin.established!.keys[0]!.masterKey)).not.toBe(hex(done.established!.keys[0]!.masterKey));
  });
});

/**
 * An I_MESSAGE_1 anyone can write (no private key: the IBE encryption is public): IDRi = `from`,
 * to `to`, under the given clear CSB ID, with a fresh P-256 point and a correct clear-field binding.
 */
async function forgeIMessage1(ibe: { encrypt(uri: string, tMs: number, plain: Uint8Array): Promise<Uint8Array> }, from: string, to: string, csbId: number): Promise<Uint8Array> {
  const { p256 } = await import('@noble/curves/nist.js');
  const { clearBinding } = await import('../src/ibake/binding.js');
  const { writeInner } = await import('../src/ibake/inner.js');
  const { msToNtp } = await import('../src/ibake/freshness.js');
  const { DT, PROFILE, ROLE, encode, idr, ntpToBig } = await import('../src/ibake/wire.js');
  const now = Date.now();
  const t = msToNtp(now);
  const rand = new Uint8Array(16).map(() => (Math.random() * 256) | 0);
  const point = p256.getPublicKey(p256.utils.randomSecretKey(), false);
  const ct = await ibe.encrypt(to, now, writeInner({ idi: from, eccpti: point, idr: to, bind: clearBinding(csbId, t, rand) }));
  return encode({
    header: { dataType: DT.I_MESSAGE_1, v: true, prf: PROFILE.prf, csbId, csMap: { type: 0, entries: [{ policyNo: 0, ssrc: 1234, roc: 0 }, { policyNo: 0, ssrc: 0, roc: 0 }] } },
    payloads: [{ kind: 'T', tsType: PROFILE.tsType, value: ntpToBig(t) }, { kind: 'RAND', rand }, idr(ROLE.I, from), idr(ROLE.R, to), { kind: 'IBAKE', encrData: ct }],
  });
}

describe.each(engines.map((e) => [e.name, e] as const))('%s engine: a forged I_MESSAGE_1 racing the genuine one', (_n, engine) => {
  it('under the same CSB ID and claimed caller, delivered at the same time, is refused or wins, never both: no R_MESSAGE_1 is answered whose state was replaced', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const { message: i1, csbId } = await alice.initiate({ to: B });
    const forged = await forgeIMessage1(alice.keyring, A, B, csbId); // written without Alice's key
    const [g, f] = await Promise.allSettled([bob.receive(i1), bob.receive(forged)]);
    // whichever finished first holds the state; the other is refused, never answered as well
    expect([g.status, f.status].sort()).toEqual(['fulfilled', 'rejected']);
    const loser = (g.status === 'rejected' ? g : f) as PromiseRejectedResult;
    expect((loser.reason as { code?: string }).code).toBe('IBAKE_STATE');
    if (g.status === 'rejected') return; // the forgery won the race (pre-play: docs/security.md)
    const r1 = (g as PromiseFulfilledResult<Awaited<ReturnType<typeof bob.receive>>>).value;
    await finishCall(alice, bob, r1.reply!);
  });
});

/** A CSB update U1 anyone can write (the IBE encryption is public): "from" the initiator `from` to `to`. */
async function forgeUpdateU1(ibe: { encrypt(uri: string, tMs: number, plain: Uint8Array): Promise<Uint8Array> }, from: string, to: string, csbId: number, csMap: Array<{ policyNo: number; ssrc: number; roc: number }>): Promise<Uint8Array> {
  const { p256 } = await import('@noble/curves/nist.js');
  const { writeInner } = await import('../src/ibake/inner.js');
  const { msToNtp } = await import('../src/ibake/freshness.js');
  const { DT, PROFILE, ROLE, encode, idr, ntpToBig } = await import('../src/ibake/wire.js');
  const now = Date.now() + 1000; // newer than the genuine update's T
  const point = p256.getPublicKey(p256.utils.randomSecretKey(), false);
  const nc = new Uint8Array(32).fill(7);
  const ct = await ibe.encrypt(to, now, writeInner({ idi: from, eccpti: point, idr: to, nc, ncRole: ROLE.I }));
  return encode({
    header: { dataType: DT.I_MESSAGE_1, v: true, prf: PROFILE.prf, csbId, csMap: { type: 0, entries: csMap } },
    payloads: [{ kind: 'T', tsType: PROFILE.tsType, value: ntpToBig(msToNtp(now)) }, idr(ROLE.I, from), idr(ROLE.R, to), { kind: 'IBAKE', encrData: ct }],
  });
}

describe.each(engines.map((e) => [e.name, e] as const))('%s engine: a forged CSB update between U1 and U3', (_n, engine) => {
  it('cannot desynchronise the two ends: after the genuine update both hold the same keys', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const mallory = await w.party('sip:mallory@example.org'); // holds no key of Alice's
    const { message: i1, csbId } = await alice.initiate({ to: B });
    await finishCall(alice, bob, (await bob.receive(i1)).reply!);
    const u1 = await alice.rekey(csbId, B);
    const u2 = await bob.receive(u1);
    // the attacker's U1 arrives before Alice's U3
    const forged = await forgeUpdateU1(mallory.keyring, A, B, csbId, bob.responded.get(csbId, A).csMap);
    await codeOf(bob.receive(forged));
    const u3 = await alice.receive(u2.reply!); // Alice switches to the new keys here
    await codeOf(bob.receive(u3.reply!));
    const aliceKey = hex(alice.initiated.get(csbId, B).keys![0]!.masterKey);
    const bobKey = hex(bob.responded.get(csbId, A).keys![0]!.masterKey);
    expect(bobKey).toBe(aliceKey);
  });

  it('forged U1s before the genuine one: up to the bound the genuine update still completes; beyond it the genuine U1 is refused and both ends keep their old keys', async () => {
    const { MAX_PENDING_UPDATES } = await import('../src/ibake/update.js');
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const mallory = await w.party('sip:mallory@example.org');
    const { message: i1, csbId } = await alice.initiate({ to: B });
    await finishCall(alice, bob, (await bob.receive(i1)).reply!);
    const keyOf = () => [hex(alice.initiated.get(csbId, B).keys![0]!.masterKey), hex(bob.responded.get(csbId, A).keys![0]!.masterKey)];
    const forge = async () => bob.receive(await forgeUpdateU1(mallory.keyring, A, B, csbId, bob.responded.get(csbId, A).csMap));
    await forge();
    const u2 = await bob.receive(await alice.rekey(csbId, B));
    const u3 = await alice.receive(u2.reply!);
    await bob.receive(u3.reply!);
    const [a1, b1] = keyOf();
    expect(b1).toBe(a1);
    for (let k = 0; k < MAX_PENDING_UPDATES; k++) await forge();
    expect(await codeOf(forge())).toBe('IBAKE_BUSY');
    const refused = await codeOf(bob.receive(await alice.rekey(csbId, B)));
    expect(refused).toBe('IBAKE_BUSY');
    expect(keyOf()).toEqual([a1, a1]);
  });
});

describe.each(engines.map((e) => [e.name, e] as const))('%s engine: CSB update glare', (_n, engine) => {
  // found by fuzzing the daemon: both ends called exchange.rekey at once; each answered the
  // other's U1, both updates completed, and each end switched last to the keys of the update it
  // confirmed last (its own on U2, the peer's on U3): Alice ended on Bob's update's keys, Bob on
  // Alice's, both told "established" (20 of 20 glares). Now the update with the later T wins on both.
  for (const order of ['U2s first', 'a U3 before the U2'] as const) {
    for (const later of ['alice', 'bob'] as const) {
      it(`${order}, ${later}'s update later: both ends end on the same keys, the later update's`, async () => {
        const w = await makeWorld(engine);
        let clock = Date.now();
        const now = () => clock;
        const alice = await w.party(A, { now });
        const bob = await w.party(B, { now });
        const { message: i1, csbId } = await alice.initiate({ to: B });
        const r1 = await bob.receive(i1);
        const i2 = await alice.receive(r1.reply!);
        const r2 = await bob.receive(i2.reply!);
        await alice.receive(r2.reply!);
        clock += 1000;
        const first = later === 'alice' ? bob : alice;
        const second = later === 'alice' ? alice : bob;
        const peerOf = (p: Party) => (p === alice ? B : A);
        const uFirst = await first.rekey(csbId, peerOf(first));
        clock += 5; // the later update has the later T
        const uSecond = await second.rekey(csbId, peerOf(second));
        const u1a = later === 'alice' ? uSecond : uFirst;
        const u1b = later === 'alice' ? uFirst : uSecond;
        const u2a = (await bob.receive(u1a)).reply!; // Bob answers Alice's update
        const u2b = (await alice.receive(u1b)).reply!; // Alice answers Bob's
        const outcomes: string[] = [];
        const feed = async (to: Party, m: Uint8Array | undefined) => (m ? to.receive(m).then((r) => (outcomes.push('ok'), r.reply), (e: { code?: string }) => (outcomes.push(e.code ?? '?'), undefined)) : undefined);
        if (order === 'U2s first') {
          const u3a = await feed(alice, u2a);
          const u3b = await feed(bob, u2b);
          await feed(bob, u3a);
          await feed(alice, u3b);
        } else {
          const u3b = await feed(bob, u2b);
          await feed(alice, u3b);
          const u3a = await feed(alice, u2a);
          await feed(bob, u3a);
        }
        const aliceKey = hex(alice.initiated.get(csbId, B).keys![0]!.masterKey);
        const bobKey = hex(bob.responded.get(csbId, A).keys![0]!.masterKey);
        expect(bobKey).toBe(aliceKey);
        // a superseded step is refused as IBAKE_STATE (never an auth failure); none when the later one came last anyway
        expect(outcomes.filter((o) => o !== 'ok').every((o) => o === 'IBAKE_STATE')).toBe(true);
        // the exchange still re-keys normally afterwards
        clock += 1000;
        const fin = await bob.receive((await alice.receive((await bob.receive(await alice.rekey(csbId, B))).reply!)).reply!);
        expect(hex(fin.established!.keys[0]!.masterKey)).toBe(hex(alice.initiated.get(csbId, B).keys![0]!.masterKey));
      });
    }
  }

  // also found by fuzzing the daemon: one side calling exchange.rekey twice at once. The second
  // replaced the first's x', so the first's U2 then failed as an authentication failure
  // (IBAKE_AUTH_FAILED, blaming the peer). Now the second is IBAKE_BUSY and the first completes.
  it('the same side twice at once: the second is IBAKE_BUSY, the first completes; after it (or the timeout) a new one works', async () => {
    const w = await makeWorld(engine);
    let clock = Date.now();
    const now = () => clock;
    const alice = await w.party(A, { now, handshakeTimeoutMs: 30_000 });
    const bob = await w.party(B, { now, handshakeTimeoutMs: 30_000 });
    const { message: i1, csbId } = await alice.initiate({ to: B });
    await alice.receive((await bob.receive((await alice.receive((await bob.receive(i1)).reply!)).reply!)).reply!);
    clock += 1000;
    const [first, second] = await Promise.allSettled([alice.rekey(csbId, B), alice.rekey(csbId, B)]);
    expect(first.status).toBe('fulfilled');
    expect(second.status === 'rejected' && (second.reason as { code?: string }).code).toBe('IBAKE_BUSY');
    expect(await codeOf(alice.rekey(csbId, B))).toBe('IBAKE_BUSY'); // still in flight
    const u2 = (await bob.receive((first as PromiseFulfilledResult<Uint8Array>).value)).reply!;
    const onU2 = await alice.receive(u2);
    const fin = await bob.receive(onU2.reply!);
    expect(hex(fin.established!.keys[0]!.masterKey)).toBe(hex(onU2.established!.keys[0]!.masterKey));
    clock += 1000;
    expect(await alice.rekey(csbId, B)).toBeInstanceOf(Uint8Array); // done: a new one starts
    clock += 31_000; // its U2 never came: past the handshake timeout, a new one replaces it
    const u1 = await alice.rekey(csbId, B);
    const again = await alice.receive((await bob.receive(u1)).reply!);
    const fin2 = await bob.receive(again.reply!);
    expect(hex(fin2.established!.keys[0]!.masterKey)).toBe(hex(again.established!.keys[0]!.masterKey));
  });
});
