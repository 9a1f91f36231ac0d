// No passive key escrow, and its limit (RFC 6267 §7, design/security.md §1.3):
// * the KMS, holding the master secret and the full transcript, decrypts every IBAKE payload
//   and recovers [x]P and [y]P exactly — yet no key computed from what it sees (either point,
//   their sum or difference, either x-coordinate, as K_SESSION) matches any SRTP key: getting
//   [x][y]P from them is the ECDH problem;
// * the true key is [x]([y]P), recomputed independently with noble from the initiator's x;
// * the limit: an ACTIVE KMS answers in Bob's name with a key it extracted itself and ends up
//   sharing the SRTP keys with Alice — a full man in the middle, undetectable in-protocol.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import { availableEngines } from './helpers/engines.js';
import { hex, makeWorld } from './helpers/ibake-world.js';
import { extractBls } from '../src/ibe/bls12381/bf.js';
import { identityBytes, periodStart } from '../src/ibe/identity.js';
import { IbeKeyring } from '../src/ibake/keyring.js';
import { IbakeEndpoint } from '../src/ibake/endpoint.js';
import { decodeInnerChain, decodeMessage } from '../src/mikey/index.js';
import { KeyConst, buildLabel, deriveSrtpMasterKeys } from '../src/mikey/keys.js';
import { mikeyPrf } from '../src/mikey/prf.js';

const all = await availableEngines();
const engine = all.find((e) => e.name === 'native') ?? all.find((e) => e.name === 'ts')!;
const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';

describe(`KMS escrow (engine ${engine.name})`, () => {
  it('a passive KMS recovers [x]P and [y]P but none of its candidate keys is the SRTP key', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const { message: i1, csbId } = await alice.initiate({ to: B });
    const r1 = (await bob.receive(i1)).reply!;
    const x = alice.offers.get(csbId, B).x.slice(); // only for the independent check below
    const i2 = (await alice.receive(r1)).reply!;
    const r2 = (await bob.receive(i2)).reply!;
    const keys = (await alice.receive(r2)).established!.keys;

    // The KMS: master secret + transcript. It extracts both users' keys itself.
    const kms = new IbeKeyring(engine, w.Ppub);
    const now = Date.now();
    for (const id of [A, B]) kms.addKey(id, periodStart(now, 'month'), await extractBls(engine, w.s, identityBytes(id, now, 'month')));
    const inner = async (msg: Uint8Array, as: string) => {
      const ct = (decodeMessage(msg).payloads.find((p) => p.kind === 'IBAKE') as { encrData: Uint8Array }).encrData;
      return decodeInnerChain(await kms.decrypt(as, now, ct)).filter((p) => p.kind === 'ECCPT').map((p) => (p as { point: Uint8Array }).point);
    };
    // Profile v2: the KMS also reads N_c (I_MESSAGE_2 is encrypted to Bob).
    const i2ct = (decodeMessage(i2).payloads.find((p) => p.kind === 'IBAKE') as { encrData: Uint8Array }).encrData;
    const nc = (decodeInnerChain(await kms.decrypt(B, now, i2ct)).find((p) => p.kind === 'RANDR') as { rand: Uint8Array }).rand;
    expect(nc.length).toBe(32);
    const len16 = (u: string) => { const b = Buffer.from(u); return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]); };
    const v2 = (pt: Uint8Array) => new Uint8Array(createHash('sha256').update('MIKEY-IBAKE-V02 K_SESSION').update(pt).update(len16(A)).update(len16(B)).update(nc).digest());
    const [xP1] = await inner(i1, B);
    const [xP2, yP2] = await inner(r1, A);
    const [yP3] = await inner(i2, B);
    const xP = xP1!;
    const yP = yP2!;
    expect(hex(xP2!)).toBe(hex(xP));
    expect(hex(yP3!)).toBe(hex(yP));
    expect(hex(xP)).toBe(hex(p256.getPublicKey(x, false))); // the KMS really has [x]P

    const rand = (decodeMessage(i1).payloads.find((p) => p.kind === 'RAND') as { rand: Uint8Array }).rand;
    // TGK = PRF(K_SESSION, 0x1F4D675B || 0xFF || 0xFFFFFFFF || RAND) for any candidate octet string.
    const srtp = (kSession: Uint8Array) => hex(deriveSrtpMasterKeys(1, mikeyPrf(1, kSession, buildLabel(KeyConst.TGK, 0xff, 0xffffffff, rand), 32), 1, csbId, rand, { key: 16, salt: 14 }).masterKey);
    const X = p256.Point.fromBytes(xP);
    const Y = p256.Point.fromBytes(yP);
    const candidates = [xP, yP, X.add(Y).toBytes(false), X.subtract(Y).toBytes(false), Y.subtract(X).toBytes(false), xP.subarray(1, 33), yP.subarray(1, 33)];
    const real = keys.map((k) => hex(k.masterKey));
    for (const c of candidates) {
      expect(real).not.toContain(srtp(c));
      expect(real).not.toContain(srtp(v2(c)));
    }
    // Independent: K_SESSION hashes [x]([y]P) (noble), which needs x — not in the KMS's view.
    expect(srtp(v2(p256.getSharedSecret(x, yP, false)))).toBe(real[0]);
    x.fill(0);
  });

  it('the limit: an active KMS impersonates Bob and shares the keys with Alice (MITM)', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    // The KMS mints Bob's key for itself and answers Alice's call in Bob's name.
    const ring = new IbeKeyring(engine, w.Ppub);
    const now = Date.now();
    ring.addKey(B, periodStart(now, 'month'), await extractBls(engine, w.s, identityBytes(B, now, 'month')));
    const fakeBob = new IbakeEndpoint({ identity: B, ibe: ring });
    const { message: i1 } = await alice.initiate({ to: B });
    const r1 = await fakeBob.receive(i1);
    const i2 = await alice.receive(r1.reply!);
    const r2 = await fakeBob.receive(i2.reply!);
    const done = await alice.receive(r2.reply!);
    expect(done.established!.peer).toBe(B); // Alice believes she talks to Bob
    expect(done.established!.keys.map((k) => hex(k.masterKey))).toEqual(r2.established!.keys.map((k) => hex(k.masterKey)));
  });
});
