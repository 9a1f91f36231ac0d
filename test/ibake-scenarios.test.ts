// The advanced MIKEY-IBAKE scenarios end to end (RFC 6267 §5.3, §7.3–7.5; DESIGN §3):
// secure forking (one I_MESSAGE_1 to a common identity, several devices answer with their own
// identities, the initiator completes with each separately, no device learns another's key);
// silent proxy retargeting (C cannot decrypt, answers with its own identity; policy allow /
// deny / callback; B never learns the key); redirect (= a new exchange); deferred delivery
// (mailbox M stores what it cannot read; B opens it later and derives the same keys as the
// caller); pre-encoded content (responder's own keys in R_MESSAGE_2's KEMAC); CSB update.
import { describe, expect, it } from 'vitest';
import { availableEngines } from './helpers/engines.js';
import { hex, makeWorld, prekeyKit } from './helpers/ibake-world.js';
import { IbsKeyring } from '../src/ibake/ibs-port.js';
import { MailboxPrekeys } from '../src/ibake/prekey/mailbox.js';
import { openDeferred } from '../src/ibake/deferred.js';
import type { IbakeEndpoint } from '../src/ibake/endpoint.js';
import { decodeMessage } from '../src/mikey/index.js';

const all = await availableEngines();
const engines = all.filter((e) => e.name !== 'wasm' || all.length === 2);

const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
const keysHex = (k: { masterKey: Uint8Array; masterSalt: Uint8Array }[]) => k.map((x) => hex(x.masterKey) + ':' + hex(x.masterSalt));

async function finish(init: IbakeEndpoint, resp: IbakeEndpoint, r1: Uint8Array) {
  const i2 = await init.receive(r1);
  const r2 = await resp.receive(i2.reply!);
  const done = await init.receive(r2.reply!);
  return { i2: i2.reply!, r2, done };
}

describe.each(engines.map((e) => [e.name, e] as const))('scenarios on %s', (_n, engine) => {
  it('secure forking: two devices, separate keys, neither can complete the other\'s exchange', async () => {
    const w = await makeWorld(engine);
    const d1 = 'sip:bob-phone@example.org';
    const d2 = 'sip:bob-laptop@example.org';
    const alice = await w.party(A, { policy: { forking: { [B]: [d1, d2] } } });
    const dev1 = await w.party(d1, { keysFor: [B], alsoAnswerFor: [B] });
    const dev2 = await w.party(d2, { keysFor: [B], alsoAnswerFor: [B] });
    const { message: i1, csbId } = await alice.initiate({ to: B });
    const a1 = await dev1.receive(i1);
    const a2 = await dev2.receive(i1);
    expect(decodeMessage(a1.reply!).header.csbId).toBe(csbId);
    const i2d1 = await alice.receive(a1.reply!);
    // dev2 cannot use the I_MESSAGE_2 meant for dev1: wrong IDRr for its session, and the
    // IBAKE inside is encrypted to dev1's unique identity, which neither of dev2's keys opens.
    await expect(dev2.receive(i2d1.reply!)).rejects.toMatchObject({ code: 'IBAKE_NO_SESSION' });
    const ct = (decodeMessage(i2d1.reply!).payloads.find((p) => p.kind === 'IBAKE') as { encrData: Uint8Array }).encrData;
    for (const id of [B, d2]) await expect(dev2.keyring.decrypt(id, Date.now(), ct)).rejects.toThrow();
    const r2d1 = await dev1.receive(i2d1.reply!);
    const f1 = { r2: r2d1, done: await alice.receive(r2d1.reply!) };
    const f2 = await finish(alice, dev2, a2.reply!); // dev2's own exchange is unaffected
    expect(f1.done.established!.peer).toBe(d1);
    expect(f1.done.established!.mode).toBe('forked');
    expect(keysHex(f1.done.established!.keys)).toEqual(keysHex(f1.r2.established!.keys));
    expect(keysHex(f2.done.established!.keys)).toEqual(keysHex(f2.r2.established!.keys));
    expect(keysHex(f1.done.established!.keys)[0]).not.toBe(keysHex(f2.done.established!.keys)[0]);
    expect(alice.initiated.byCsb(csbId).length).toBe(2);
    // A device not in the fork list is refused by the initiator's policy.
    const rogue = await w.party('sip:mallory@example.org', { keysFor: [B], alsoAnswerFor: [B] });
    const { message: j1 } = await alice.initiate({ to: B });
    const x = await rogue.receive(j1);
    await expect(alice.receive(x.reply!)).rejects.toMatchObject({ code: 'IBAKE_POLICY' });
  });

  it('silent retargeting: C answers for B; allow / deny / callback; B never learns the key', async () => {
    const w = await makeWorld(engine);
    const C = 'sip:carol@example.org';
    const seen: string[] = [];
    const alice = await w.party(A, { policy: { retarget: (addr, ans) => (seen.push(`${addr}->${ans}`), 'allow') } });
    const bob = await w.party(B);
    const carol = await w.party(C, { answerUndecryptable: true });
    const { message: i1 } = await alice.initiate({ to: B });
    const r1 = await carol.receive(i1);
    const f = await finish(alice, carol, r1.reply!);
    expect(seen).toEqual([`${B}->${C}`]);
    expect(f.done.established!.peer).toBe(C);
    expect(f.done.established!.mode).toBe('retargeted');
    expect(keysHex(f.done.established!.keys)).toEqual(keysHex(f.r2.established!.keys));
    expect(decodeMessage(f.i2).payloads.some((p) => p.kind === 'ESK')).toBe(true);
    // B sees every message but has no session and cannot decrypt what is addressed to C.
    await expect(bob.receive(f.i2)).rejects.toMatchObject({ code: 'IBAKE_NO_SESSION' });
    // B can open the ESK (it is addressed to B) — but its SK is not what keys the media.
    const opened = await openDeferred(bob.keyring, B, f.i2);
    expect(keysHex(opened.keys)).not.toEqual(keysHex(f.done.established!.keys));
    // deny
    const strict = await w.party(A, { policy: { retarget: 'deny' } });
    const { message: j1 } = await strict.initiate({ to: B });
    const s1 = await carol.receive(j1);
    await expect(strict.receive(s1.reply!)).rejects.toMatchObject({ code: 'IBAKE_POLICY' });
    // default policy denies too
    const dflt = await w.party(A);
    const { message: k1 } = await dflt.initiate({ to: B });
    await expect(dflt.receive((await carol.receive(k1)).reply!)).rejects.toMatchObject({ code: 'IBAKE_POLICY' });
  });

  it('redirect: a fresh exchange to the new target', async () => {
    const w = await makeWorld(engine);
    const C = 'sip:carol@example.org';
    const alice = await w.party(A);
    const carol = await w.party(C);
    const { message: i1 } = await alice.initiate({ to: C });
    const f = await finish(alice, carol, (await carol.receive(i1)).reply!);
    expect(f.done.established!.mode).toBe('direct');
  });

  it('deferred delivery v2: a signed prekey; the mailbox stores what it cannot read; B opens it later', async () => {
    const w = await makeWorld(engine);
    const M = 'sip:voicemail@example.org';
    const kit = await prekeyKit(w, B, 2);
    const alice = await w.party(A, { policy: { mailboxes: { [B]: [M] } }, ibs: kit.verifier });
    const mbox = await w.party(M, { answerUndecryptable: true, mailbox: true, mailboxPrekeys: kit.mailbox });
    const bob = await w.party(B);
    const { message: i1 } = await alice.initiate({ to: B });
    const r1 = await mbox.receive(i1);
    const f = await finish(alice, mbox, r1.reply!);
    expect(f.done.established!.mode).toBe('deferred');
    expect(f.done.established!.escrowed).toBeUndefined();
    expect(f.done.established!.keys.every((k) => k.keySource === 'deferred-sk')).toBe(true);
    expect(f.r2.established).toBeUndefined(); // the mailbox has no media keys
    expect(f.r2.stored!.forUser).toBe(B);
    expect(decodeMessage(f.r2.reply!).payloads.some((p) => p.kind === 'IBAKE')).toBe(false); // v2: the V MAC proves it read I_MESSAGE_2
    expect(kit.mailbox.status(B, Date.now())).toMatchObject({ available: 1, used: 1 });
    // Later: B opens the stored message with its key and the prekey's private half, which goes.
    expect(kit.store.holds(B, 1)).toBe(true);
    const opened = await openDeferred(bob.keyring, B, f.r2.stored!.message, { prekeys: kit.store });
    expect(opened).toMatchObject({ from: A, mailbox: M, prekeyId: 1 });
    expect(opened.escrowed).toBeUndefined();
    expect(keysHex(opened.keys)).toEqual(keysHex(f.done.established!.keys));
    expect(kit.store.holds(B, 1)).toBe(false);
    // A second opening fails: the prekey secret is gone.
    await expect(openDeferred(bob.keyring, B, f.r2.stored!.message, { prekeys: kit.store })).rejects.toMatchObject({ code: 'IBAKE_NO_PREKEY' });
    // The mailbox itself cannot open it (no key for B).
    await expect(openDeferred(mbox.keyring, B, f.r2.stored!.message, { prekeys: kit.store })).rejects.toMatchObject({ code: 'IBAKE_NO_KEY' });
    // An unlisted mailbox is refused.
    const other = await w.party('sip:other-vm@example.org', { answerUndecryptable: true, mailbox: true, mailboxPrekeys: kit.mailbox });
    const { message: j1 } = await alice.initiate({ to: B });
    await expect(alice.receive((await other.receive(j1)).reply!)).rejects.toMatchObject({ code: 'IBAKE_POLICY' });
  });

  it('deferred delivery without a prekey: refused by default; escrowed v1 only if the policy allows it, and marked', async () => {
    const w = await makeWorld(engine);
    const M = 'sip:voicemail@example.org';
    const verifier = new IbsKeyring(w.engine, w.Ppub);
    const mbox = await w.party(M, { answerUndecryptable: true, mailbox: true, mailboxPrekeys: MailboxPrekeys.memory() });
    const strict = await w.party(A, { policy: { mailboxes: { [B]: [M] } }, ibs: verifier });
    const { message: i1 } = await strict.initiate({ to: B });
    await expect(strict.receive((await mbox.receive(i1)).reply!)).rejects.toMatchObject({ code: 'IBAKE_NO_PREKEY' });
    const lax = await w.party(A, { policy: { mailboxes: { [B]: [M] }, escrowedDeferred: 'allow' }, ibs: verifier });
    const bob = await w.party(B);
    const { message: j1 } = await lax.initiate({ to: B });
    const f = await finish(lax, mbox, (await mbox.receive(j1)).reply!);
    expect(f.done.established).toMatchObject({ mode: 'deferred', escrowed: true });
    const opened = await openDeferred(bob.keyring, B, f.r2.stored!.message);
    expect(opened.escrowed).toBe(true);
    expect(keysHex(opened.keys)).toEqual(keysHex(f.done.established!.keys));
  });

  it('pre-encoded content: the responder\'s keys travel in R_MESSAGE_2\'s KEMAC', async () => {
    const w = await makeWorld(engine);
    const content = [0, 1].map((i) => ({ masterKey: new Uint8Array(16).fill(0xa0 + i), masterSalt: new Uint8Array(14).fill(0xb0 + i) }));
    const alice = await w.party(A);
    const server = await w.party(B, { preEncoded: () => content });
    const { message: i1 } = await alice.initiate({ to: B });
    const f = await finish(alice, server, (await server.receive(i1)).reply!);
    const keys = f.done.established!.keys;
    expect(keys.every((k) => k.keySource === 'preencoded')).toBe(true);
    expect(keysHex(keys)).toEqual(keysHex(content));
    expect(keysHex(f.r2.established!.keys)).toEqual(keysHex(content));
    const r2 = decodeMessage(f.r2.reply!);
    expect(r2.payloads.map((p) => p.kind)).toEqual(['T', 'IDR', 'IDR', 'KEMAC', 'V']);
    // the keys are not in the clear on the wire
    expect(hex(f.r2.reply!).includes(hex(content[0]!.masterKey))).toBe(false);
  });

  it('CSB update (re-keying) from either side: new DH values, same CSB ID, no RAND in U1, V under the new MPK, confirmed before the answerer switches', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const { message: i1, csbId } = await alice.initiate({ to: B });
    const f = await finish(alice, bob, (await bob.receive(i1)).reply!);
    const old = keysHex(f.done.established!.keys);
    const xBefore = hex(alice.initiated.get(csbId, B).xP);
    const u1 = await alice.rekey(csbId, B);
    expect(decodeMessage(u1).payloads.some((p) => p.kind === 'RAND')).toBe(false);
    const ur = await bob.receive(u1);
    expect(ur.replyName).toBe('R_MESSAGE_1');
    expect(ur.established).toBeUndefined(); // Bob keeps the old keys until Alice confirms
    expect(keysHex(bob.responded.get(csbId, A).keys!)).toEqual(old);
    const ud = await alice.receive(ur.reply!);
    expect(ud.replyName).toBe('I_MESSAGE_2');
    expect(decodeMessage(ud.reply!).payloads.map((p) => (p.kind === 'IDR' ? `IDR${p.role}` : p.kind))).toEqual(['T', 'RAND', 'IDR1', 'IDR2', 'V']);
    const uc = await bob.receive(ud.reply!);
    expect(uc.reply).toBeUndefined();
    expect(keysHex(ud.established!.keys)).toEqual(keysHex(uc.established!.keys));
    expect(keysHex(ud.established!.keys)).not.toEqual(old);
    // both sides now hold the update's DH values (the same pair)
    const [ai, br] = [alice.initiated.get(csbId, B), bob.responded.get(csbId, A)];
    expect([hex(ai.xP), hex(ai.yP)]).toEqual([hex(br.xP!), hex(br.yP)]);
    expect(hex(ai.xP)).not.toBe(xBefore);
    // replaying the update or its confirmation is refused
    await expect(bob.receive(u1)).rejects.toMatchObject({ code: 'IBAKE_REPLAY' });
    await expect(bob.receive(ud.reply!)).rejects.toMatchObject({ code: 'IBAKE_STATE' });
    // Responder-initiated update: Bob sends the update I_MESSAGE_1 (IDRr first, no RAND).
    const v1 = await bob.rekey(csbId, A);
    const vm = decodeMessage(v1);
    expect(vm.payloads.map((p) => (p.kind === 'IDR' ? `IDR${p.role}` : p.kind))).toEqual(['T', 'IDR2', 'IDR1', 'IBAKE']);
    const vr = await alice.receive(v1);
    expect(vr.replyName).toBe('R_MESSAGE_1');
    expect(vr.established).toBeUndefined();
    const vd = await bob.receive(vr.reply!);
    const vc = await alice.receive(vd.reply!);
    expect(keysHex(vd.established!.keys)).toEqual(keysHex(vc.established!.keys));
    expect(keysHex(vd.established!.keys)).not.toEqual(keysHex(ud.established!.keys));
    await expect(alice.receive(v1)).rejects.toMatchObject({ code: 'IBAKE_REPLAY' });
    // a tampered answer to the update is refused and keeps the current keys
    const w1 = await bob.rekey(csbId, A);
    const wr = (await alice.receive(w1)).reply!;
    const bad = wr.slice();
    bad[bad.length - 1] ^= 1;
    await expect(bob.receive(bad)).rejects.toMatchObject({ code: 'IBAKE_AUTH_FAILED', reason: 'bad-mac' });
    expect(keysHex(bob.responded.get(csbId, A).keys!)).toEqual(keysHex(vc.established!.keys));
    expect(keysHex(alice.initiated.get(csbId, B).keys!)).toEqual(keysHex(vc.established!.keys));
  });

  it('a forged CSB update (Mallory holds no key of Alice or Bob) leaves the responder\'s keys unchanged', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const mallory = await w.party('sip:mallory@example.org');
    const { message: i1, csbId } = await alice.initiate({ to: B });
    const f = await finish(alice, bob, (await bob.receive(i1)).reply!);
    const keys = keysHex(f.r2.established!.keys);
    // Mallory writes an update "from Alice": IBE encryption needs only Bob's public identity.
    // She builds it with an endpoint that holds a copy of Alice's state minus every secret.
    const forger = new (alice.constructor as typeof IbakeEndpoint)({ identity: A, ibe: mallory.keyring });
    const st = alice.exportState().initiated.map((x) => ({ ...x, tgk: new Uint8Array(32), keys: [] }));
    forger.importState({ initiated: st });
    const forged = await forger.rekey(csbId, B);
    const answer = await bob.receive(forged); // Bob answers (he cannot tell yet) …
    expect(answer.established).toBeUndefined();
    expect(keysHex(bob.responded.get(csbId, A).keys!)).toEqual(keys); // … and keeps his keys
    // Mallory cannot read the answer (encrypted to Alice), so she cannot confirm; a guessed
    // confirmation fails and still changes nothing.
    await expect(forger.receive(answer.reply!)).rejects.toMatchObject({ code: 'IBAKE_NO_KEY' });
    const fake = (await import('../src/mikey/index.js')).encodeMessage({
      header: { dataType: 24, v: false, prf: 1, csbId, csMap: decodeMessage(forged).header.csMap },
      payloads: [
        decodeMessage(forged).payloads[0]!,
        decodeMessage(i1).payloads.find((p) => p.kind === 'RAND')!,
        { kind: 'IDR', role: 1, idType: 1, data: new TextEncoder().encode(A) },
        { kind: 'IDR', role: 2, idType: 1, data: new TextEncoder().encode(B) },
        { kind: 'V', authAlg: 2, mac: new Uint8Array(32).fill(7) },
      ],
    });
    await expect(bob.receive(fake)).rejects.toMatchObject({ code: 'IBAKE_AUTH_FAILED', reason: 'bad-mac' });
    expect(keysHex(bob.responded.get(csbId, A).keys!)).toEqual(keys);
    // The genuine parties still re-key afterwards.
    const u1 = await alice.rekey(csbId, B);
    const ur = await bob.receive(u1);
    const ud = await alice.receive(ur.reply!);
    const uc = await bob.receive(ud.reply!);
    expect(keysHex(uc.established!.keys)).toEqual(keysHex(ud.established!.keys));
    expect(keysHex(uc.established!.keys)).not.toEqual(keys);
  });
});

describe('serialisable state', () => {
  it('an exchange continues after its state is exported, msgpack-encoded and imported elsewhere', async () => {
    const { encodeMsgpack: encode, decodeMsgpack: decode } = await import('../src/daemon/frame.js');
    const engine = engines[engines.length - 1]!;
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const { message: i1 } = await alice.initiate({ to: B });
    const r1 = await bob.receive(i1);
    // Both sides move to new endpoint objects through bytes.
    const alice2 = new (alice.constructor as typeof IbakeEndpoint)({ identity: A, ibe: alice.keyring });
    alice2.importState(decode(encode(alice.exportState())) as ReturnType<IbakeEndpoint['exportState']>);
    const bob2 = new (bob.constructor as typeof IbakeEndpoint)({ identity: B, ibe: bob.keyring });
    bob2.importState(decode(encode(bob.exportState())) as ReturnType<IbakeEndpoint['exportState']>);
    const i2 = await alice2.receive(r1.reply!);
    const r2 = await bob2.receive(i2.reply!);
    const done = await alice2.receive(r2.reply!);
    expect(keysHex(done.established!.keys)).toEqual(keysHex(r2.established!.keys));
    expect(() => bob2.importState({ responded: alice2.exportState().initiated as never })).toThrow(expect.objectContaining({ code: 'IBAKE_BAD_INPUT' }));
  });
});
