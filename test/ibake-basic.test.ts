// Two-party MIKEY-IBAKE call end to end on every available engine: I_MESSAGE_1 -> R_MESSAGE_1
// -> I_MESSAGE_2 -> R_MESSAGE_2; both sides derive the same SRTP master keys/salts per crypto
// session, keys differ between crypto sessions and between calls, and the keys equal an
// independent recomputation of the profile-v2 K_SESSION = SHA-256(label ‖ [x][y]P (noble p256) ‖
// identities ‖ N_c) (node:crypto) through the RFC 6267 KDF.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { availableEngines } from './helpers/engines.js';
import { hex, makeWorld, nameOf } from './helpers/ibake-world.js';
import { decodeMessage } from '../src/mikey/index.js';
import { deriveTgk, deriveSrtpMasterKeys } from '../src/mikey/keys.js';
import { p256 } from '@noble/curves/nist.js';

const engines = await availableEngines();

describe.each(engines.map((e) => [e.name, e] as const))('basic call on %s', (_n, engine) => {
  it('runs the four messages and both sides agree', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party('sip:alice@example.org');
    const bob = await w.party('sip:bob@example.org');
    const { message: i1, csbId } = await alice.initiate({ to: 'sip:bob@example.org' });
    expect(nameOf(i1)).toBe('I_MESSAGE_1');
    const r1 = await bob.receive(i1);
    expect(r1.replyName).toBe('R_MESSAGE_1');
    expect(r1.established).toBeUndefined(); // no keys before the initiator is authenticated
    const i2 = await alice.receive(r1.reply!);
    expect(i2.replyName).toBe('I_MESSAGE_2');
    const nc = alice.initiated.get(csbId, 'sip:bob@example.org').nc!.slice(); // wiped once established
    expect(nc.length).toBe(32);
    const r2 = await bob.receive(i2.reply!);
    expect(r2.replyName).toBe('R_MESSAGE_2');
    expect(r2.established?.keys.length).toBe(2);
    const done = await alice.receive(r2.reply!);
    expect(done.reply).toBeUndefined();
    const ka = done.established!.keys;
    const kb = r2.established!.keys;
    expect(ka.map((k) => [k.csId, k.ssrc, hex(k.masterKey), hex(k.masterSalt), k.profile, k.keySource])).toEqual(
      kb.map((k) => [k.csId, k.ssrc, hex(k.masterKey), hex(k.masterSalt), k.profile, k.keySource]),
    );
    expect(ka[0]!.masterKey.length).toBe(16);
    expect(ka[0]!.masterSalt.length).toBe(14);
    expect(hex(ka[0]!.masterKey)).not.toBe(hex(ka[1]!.masterKey));
    expect(ka[1]!.ssrc).not.toBe(0); // responder filled its SSRC
    expect(done.established!.csbId).toBe(csbId);
    for (const m of [i1, r1.reply!, i2.reply!, r2.reply!]) expect(decodeMessage(m).header.csbId).toBe(csbId);
    // Independent recomputation: [x]([y]P) by noble, K_SESSION by node:crypto SHA-256 over
    // docs/profile.md §5's octets, then the RFC 6267/3830 KDF.
    const offer = alice.offers.get(csbId, 'sip:bob@example.org');
    const st = alice.initiated.get(csbId, 'sip:bob@example.org');
    expect(st.nc).toBeUndefined();
    const point = p256.getSharedSecret(offer.x, st.yP, false);
    const len16 = (s: string) => { const b = Buffer.from(s); return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]); };
    const kSession = createHash('sha256').update('MIKEY-IBAKE-V02 K_SESSION').update(point).update(len16('sip:alice@example.org')).update(len16('sip:bob@example.org')).update(nc).digest();
    expect(() => deriveTgk(1, point.subarray(1, 33), new Uint8Array(16), 32)).toThrow(); // a bare x is neither form
    const rand = (decodeMessage(i1).payloads.find((p) => p.kind === 'RAND') as { rand: Uint8Array }).rand;
    const tgk = deriveTgk(1, kSession, rand, 32, 'v2');
    const m1 = deriveSrtpMasterKeys(1, tgk, 1, csbId, rand, { key: 16, salt: 14 });
    expect(hex(m1.masterKey)).toBe(hex(ka[0]!.masterKey));
    expect(hex(m1.masterSalt)).toBe(hex(ka[0]!.masterSalt));
    // A second call gives fresh keys.
    const { message: j1 } = await alice.initiate({ to: 'sip:bob@example.org' });
    const s1 = await bob.receive(j1);
    const j2 = await alice.receive(s1.reply!);
    const s2 = await bob.receive(j2.reply!);
    const d2 = await alice.receive(s2.reply!);
    expect(hex(d2.established!.keys[0]!.masterKey)).not.toBe(hex(ka[0]!.masterKey));
  });
});
