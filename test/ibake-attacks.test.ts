// The attacks of issue 13 (an adversarial review of profile v1), each scripted against the built
// protocol and each failing on v1: the unknown key-share relay (Mallory forwards Alice's call to
// Bob as her own: security.md A05/T07), the forking sibling that answers in another device's
// name, and 5 000 replays of one captured I_MESSAGE_1 under fresh CSB IDs (zero pairings, zero
// engine calls; a legitimate call still succeeds), and the unchecked V bit. The expected keys are recomputed by the
// profile's text (docs/profile.md §5) with noble P-256 and node:crypto, not by the code under test.
// Run on every available engine.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { availableEngines } from './helpers/engines.js';
import { hex, makeWorld } from './helpers/ibake-world.js';
import type { Engine } from '../src/engine/types.js';
import { computeVMac } from '../src/mikey/mac.js';
import { deriveSessionKeys, deriveSrtpMasterKeys, deriveTgk } from '../src/mikey/keys.js';
import { decodeInnerChain, decodeMessage, encodeInnerChain, encodeMessage, type InnerPayload, type MikeyMessage } from '../src/mikey/index.js';
import type { IbeKeyring } from '../src/ibake/keyring.js';

const engines = await availableEngines();
const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
const M = 'sip:mallory@example.org';
const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * The engine behind a counter: every method of the engine and of its fused bf core goes through
 * `counter.n` while `counter.on` (the engines themselves are frozen; handles they make are theirs).
 */
function countingEngine(engine: Engine): { engine: Engine; counter: { n: number; on: boolean } } {
  const counter = { n: 0, on: false };
  const wrap = <T extends object>(o: T): T => {
    const out: Record<string, unknown> = {};
    const names = new Set<string>();
    for (let x: object | null = o; x && x !== Object.prototype; x = Object.getPrototypeOf(x)) for (const k of Object.getOwnPropertyNames(x)) names.add(k);
    for (const k of names) {
      if (k === 'constructor') continue;
      const v = (o as Record<string, unknown>)[k];
      out[k] = typeof v === 'function' ? (...a: unknown[]) => (counter.on && counter.n++, (v as (...x: unknown[]) => unknown).apply(o, a)) : v;
    }
    return out as T;
  };
  const e = wrap(engine) as Engine & { bfCore?: Engine['bfCore'] };
  if (engine.bfCore) (e as { bfCore?: unknown }).bfCore = wrap(engine.bfCore);
  return { engine: e, counter };
}

/** Re-encrypts an IBAKE plaintext with other identities in its IDR sub-payloads (a relay). */
async function relayIbake(bytes: Uint8Array, ring: IbeKeyring, as: string, to: string, ids: Record<string, string>, edit: (m: MikeyMessage) => void = () => undefined): Promise<{ msg: Uint8Array; chain: InnerPayload[] }> {
  const m = decodeMessage(bytes) as MikeyMessage;
  const ib = m.payloads.find((p) => p.kind === 'IBAKE') as { encrData: Uint8Array };
  const chain = decodeInnerChain(await ring.decrypt(as, Date.now(), ib.encrData));
  const swap = (p: { data: Uint8Array }) => (p.data = utf8(ids[new TextDecoder().decode(p.data)] ?? new TextDecoder().decode(p.data)));
  for (const p of chain) if (p.kind === 'IDR') swap(p);
  for (const p of m.payloads) if (p.kind === 'IDR') swap(p);
  ib.encrData = await ring.encrypt(to, Date.now(), encodeInnerChain(chain));
  edit(m);
  return { msg: encodeMessage(m), chain };
}

/** K_SESSION by the profile's text: SHA-256(label ‖ point ‖ len16 ‖ IDRi ‖ len16 ‖ IDRr ‖ N_c). */
function kSessionV2(point: Uint8Array, idi: string, idr: string, nc: Uint8Array): Uint8Array {
  const len16 = (s: string) => Buffer.concat([Buffer.from([utf8(s).length >> 8, utf8(s).length & 255]), Buffer.from(utf8(s))]);
  return new Uint8Array(createHash('sha256').update('MIKEY-IBAKE-V02 K_SESSION').update(point).update(len16(idi)).update(len16(idr)).update(nc).digest());
}

const rand = (m: Uint8Array) => (decodeMessage(m).payloads.find((p) => p.kind === 'RAND') as { rand: Uint8Array }).rand;

describe.each(engines.map((e) => [e.name, e] as const))('attacks on %s', (_n, engine) => {
  it('unknown key-share relay: Mallory forwards Alice\'s call to Bob as her own; Bob\'s keys are not Alice\'s', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const mallory = await w.party(M);
    // Alice calls Mallory; Mallory re-encrypts everything to Bob "from Mallory" and back.
    const { message: i1, csbId } = await alice.initiate({ to: M });
    const fwd1 = await relayIbake(i1, mallory.keyring, M, B, { [A]: M, [M]: B });
    const r1 = await bob.receive(fwd1.msg);
    const back1 = await relayIbake(r1.reply!, mallory.keyring, M, A, { [M]: A, [B]: M });
    const i2 = await alice.receive(back1.msg); // Alice accepts Mallory's answer (she called her)
    const fwd2 = await relayIbake(i2.reply!, mallory.keyring, M, B, { [A]: M, [M]: B });
    const r2 = await bob.receive(fwd2.msg);
    const bobKeys = r2.established!.keys;
    expect(r2.established!.peer).toBe(M);
    // Alice's keys with her peer Mallory, by the profile's text from her x and Bob's point.
    const st = alice.initiated.get(csbId, M);
    const point = p256.getSharedSecret(alice.offers.get(csbId, M).x, st.yP, false);
    const nc = fwd2.chain.find((p) => p.kind === 'RANDR') as { rand: Uint8Array } | undefined;
    const kA = nc ? kSessionV2(point, A, M, nc.rand) : point;
    const tgkA = deriveTgk(1, kA, rand(i1), 32, nc ? 'v2' : 'point');
    const aliceKey = deriveSrtpMasterKeys(1, tgkA, 1, csbId, rand(i1), { key: 16, salt: 14 }).masterKey;
    expect(hex(bobKeys[0]!.masterKey)).not.toBe(hex(aliceKey));
    // And Bob's R_MESSAGE_2, relabelled for Alice, fails her key confirmation.
    const m2 = decodeMessage(r2.reply!) as MikeyMessage;
    for (const p of m2.payloads) if (p.kind === 'IDR' && p.role === 2) p.data = utf8(M);
    for (const p of m2.payloads) if (p.kind === 'IDR' && p.role === 1) p.data = utf8(A);
    await expect(alice.receive(encodeMessage(m2))).rejects.toMatchObject({ code: 'IBAKE_AUTH_FAILED', reason: 'bad-mac' });
  });

  it('forking sibling: dev2 answers as dev1; Alice rejects R_MESSAGE_2 and never establishes with dev1', async () => {
    const w = await makeWorld(engine);
    const d1 = 'sip:bob-dev1@example.org';
    const d2 = 'sip:bob-dev2@example.org';
    const alice = await w.party(A, { policy: { forking: { [B]: [d1, d2] } } });
    const dev2 = await w.party(d2, { keysFor: [B], alsoAnswerFor: [B] });
    const { message: i1, csbId } = await alice.initiate({ to: B });
    // dev2 reads I_MESSAGE_1 with the group key and writes R_MESSAGE_1 in dev1's name.
    const i1m = decodeMessage(i1);
    const inner = decodeInnerChain(await dev2.keyring.decrypt(B, Date.now(), (i1m.payloads.find((p) => p.kind === 'IBAKE') as { encrData: Uint8Array }).encrData));
    const xP = (inner.find((p) => p.kind === 'ECCPT') as { point: Uint8Array }).point;
    const y = p256.utils.randomSecretKey();
    const yP = p256.getPublicKey(y, false);
    const chain: InnerPayload[] = inner.map((p) => (p.kind === 'IDR' && p.role === 2 ? { ...p, data: utf8(d1) } : p));
    chain.splice(3, 0, { kind: 'ECCPT', curve: 8, point: yP, authAlg: 0, tgkLen: 0, reserved: 0, kv: { type: 0 } });
    const t = i1m.payloads.find((p) => p.kind === 'T')!;
    const map = { type: 0 as const, entries: (i1m.header.csMap as { entries: { policyNo: number; ssrc: number; roc: number }[] }).entries.map((e) => ({ ...e, ssrc: e.ssrc || 77 })) };
    const r1 = encodeMessage({
      header: { dataType: 23, v: true, prf: 1, csbId, csMap: map },
      payloads: [t, { kind: 'IDR', role: 1, idType: 1, data: utf8(A) }, { kind: 'IDR', role: 2, idType: 1, data: utf8(d1) }, { kind: 'IBAKE', encrData: await dev2.keyring.encrypt(A, Date.now(), encodeInnerChain(chain)) }],
    });
    const i2 = decodeMessage((await alice.receive(r1)).reply!); // to dev1: dev2 cannot read it
    await expect(dev2.keyring.decrypt(B, Date.now(), (i2.payloads.find((p) => p.kind === 'IBAKE') as { encrData: Uint8Array }).encrData)).rejects.toThrow();
    // dev2 computes [y]xP and the best R_MESSAGE_2 it can (no N_c).
    const point = p256.getSharedSecret(y, xP, false);
    const sess = deriveSessionKeys(1, point, csbId, rand(i1), { auth: 32 });
    const r2 = encodeMessage({
      header: { dataType: 25, v: false, prf: 1, csbId, csMap: i2.header.csMap },
      payloads: [i2.payloads.find((p) => p.kind === 'T')!, { kind: 'IDR', role: 1, idType: 1, data: utf8(A) }, { kind: 'IDR', role: 2, idType: 1, data: utf8(d1) }, { kind: 'V', authAlg: 2, mac: new Uint8Array(32) }],
    });
    const off = r2.length - 32;
    r2.set(computeVMac(2, sess.authKey, { message: r2, macOffset: off, identities: [utf8(A), utf8(d1)] }), off);
    await expect(alice.receive(r2)).rejects.toMatchObject({ code: 'IBAKE_AUTH_FAILED', reason: 'bad-mac' });
    expect(alice.initiated.find(csbId, d1)).toBeUndefined(); // aborted, never established
  });

  it('the V bit is checked: an I_MESSAGE_1 with V = 0 (0x01 instead of 0x81) is malformed, refused before any decryption', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const { message: i1 } = await alice.initiate({ to: B });
    expect(i1[3]).toBe(0x81);
    const v0 = i1.slice();
    v0[3] = 0x01;
    await expect(bob.receive(v0)).rejects.toMatchObject({ code: 'IBAKE_MALFORMED' });
    expect(bob.responded.size).toBe(0);
    const r1 = await bob.receive(i1); // the genuine one is not burnt
    const r1v0 = r1.reply!.slice();
    r1v0[3] = 0x01;
    await expect(alice.receive(r1v0)).rejects.toMatchObject({ code: 'IBAKE_MALFORMED' });
    expect((await alice.receive(r1.reply!)).replyName).toBe('I_MESSAGE_2');
  });

  it('5 000 replays of one I_MESSAGE_1 under fresh CSB IDs: all IBAKE_REPLAY, zero engine calls; a legitimate call still succeeds', async () => {
    const { engine: counted, counter } = countingEngine(engine);
    const w = await makeWorld(counted);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const { message: i1 } = await alice.initiate({ to: B });
    await bob.receive(i1); // the genuine delivery
    const m = decodeMessage(i1) as MikeyMessage;
    await new Promise((r) => setTimeout(r, 50)); // let the genuine call's background work finish
    counter.on = true;
    const codes = new Map<string, number>();
    try {
      for (let k = 1; k <= 5000; k++) {
        m.header.csbId = (0x10000000 + k) >>> 0;
        try {
          await bob.receive(encodeMessage(m));
          codes.set('accepted', (codes.get('accepted') ?? 0) + 1);
        } catch (e) {
          const c = (e as { code?: string }).code ?? 'other';
          codes.set(c, (codes.get(c) ?? 0) + 1);
        }
      }
    } finally {
      counter.on = false;
    }
    expect(Object.fromEntries(codes)).toEqual({ IBAKE_REPLAY: 5000 });
    expect(counter.n).toBe(0);
    expect(bob.responded.size).toBe(1); // no half-open state per replay
    counter.on = true; // the counter sees a real call's engine work
    const { message: j1 } = await alice.initiate({ to: B });
    const s1 = await bob.receive(j1);
    const j2 = await alice.receive(s1.reply!);
    const s2 = await bob.receive(j2.reply!);
    const done = await alice.receive(s2.reply!);
    expect(hex(done.established!.keys[0]!.masterKey)).toBe(hex(s2.established!.keys[0]!.masterKey));
    expect(counter.n).toBeGreaterThan(0);
  });
});
