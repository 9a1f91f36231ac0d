// Negative paths of the MIKEY-IBAKE engine. Each attack gives the right typed error, releases
// no keys, and leaves every other session unchanged (a parallel call completes afterwards):
// flipped bytes at sample positions of each message; wrong / swapped identities in the header;
// identities inside the ciphertext that differ; an echoed DH value that differs (both echoes);
// received points off the curve, on another curve (small order), the identity; a replayed
// I_MESSAGE_1 and a T outside the window (both refused BEFORE any pairing / IBE decryption);
// a private key for the wrong period; an R_MESSAGE_2 with a bad MAC; a message of an expired
// session; uniform ERR bytes for every pre-authentication failure.
// Protocol logic is engine-independent: this file uses the fastest available engine.
import { beforeAll, describe, expect, it } from 'vitest';
import { fastestEngine } from './helpers/engines.js';
import { hex, makeWorld, type World } from './helpers/ibake-world.js';
import { IbakeError } from '../src/ibake/errors.js';
import type { IbakeEndpoint } from '../src/ibake/endpoint.js';
import type { IbeKeyring } from '../src/ibake/keyring.js';
import { decodeInnerChain, decodeMessage, encodeInnerChain, encodeMessage, type InnerPayload, type MikeyMessage } from '../src/mikey/index.js';
import { extractBls } from '../src/ibe/bls12381/bf.js';
import { identityBytes, periodStart } from '../src/ibe/identity.js';
import { generateEphemeral } from '../src/ibake/ecdh.js';

const engine = await fastestEngine();
const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
const E = 'sip:eve@example.org';
type P = IbakeEndpoint & { keyring: IbeKeyring };

let w: World;
beforeAll(async () => {
  w = await makeWorld(engine);
});

/** Counts IBE decryptions (each one costs a pairing). */
/** Counts the keyring's decryptions (plain, and the responder's decrypt-and-prepare). */
function countDecrypts(p: P): { n: number } {
  const c = { n: 0 };
  const orig = p.keyring.decrypt.bind(p.keyring);
  p.keyring.decrypt = (...a) => {
    c.n++;
    return orig(...a);
  };
  const origPrep = p.keyring.decryptAndPrepare.bind(p.keyring);
  p.keyring.decryptAndPrepare = (...a) => {
    c.n++;
    return origPrep(...a);
  };
  const origReply = p.keyring.decryptAndReply.bind(p.keyring);
  p.keyring.decryptAndReply = (...a) => {
    c.n++;
    return origReply(...a);
  };
  return c;
}

async function expectErr(p: Promise<unknown>, code: string, reason?: string): Promise<IbakeError> {
  let err: unknown;
  try {
    const r = (await p) as { established?: unknown };
    err = new Error(`resolved ${r?.established ? 'WITH KEYS' : 'without error'}`);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(IbakeError);
  expect((err as IbakeError).code).toBe(code);
  if (reason) expect((err as IbakeError).reason).toBe(reason);
  return err as IbakeError;
}

/** Decrypts the IBAKE payload of `bytes` as `uri` (via `ring`), edits the chain, re-encrypts to `to`. */
async function rewriteIbake(
  bytes: Uint8Array,
  ring: IbeKeyring,
  uri: string,
  to: string,
  edit: (c: InnerPayload[], raw: Uint8Array) => InnerPayload[] | Uint8Array,
  editMsg?: (m: MikeyMessage) => void,
): Promise<Uint8Array> {
  const m = decodeMessage(bytes);
  const ib = m.payloads.find((p) => p.kind === 'IBAKE') as { encrData: Uint8Array };
  const plain = await ring.decrypt(uri, Date.now(), ib.encrData);
  const out = edit(decodeInnerChain(plain), plain);
  ib.encrData = await ring.encrypt(to, Date.now(), out instanceof Uint8Array ? out : encodeInnerChain(out));
  const msg: MikeyMessage = { header: m.header, payloads: m.payloads };
  editMsg?.(msg);
  return encodeMessage(msg);
}

async function pair() {
  const alice = await w.party(A);
  const bob = await w.party(B);
  return { alice, bob };
}

/** A complete call between two fresh parties (checks that unrelated sessions still work). */
async function callWorks(alice: IbakeEndpoint, bob: IbakeEndpoint): Promise<void> {
  const { message: i1 } = await alice.initiate({ to: bob.identity });
  const r1 = await bob.receive(i1);
  const i2 = await alice.receive(r1.reply!);
  const r2 = await bob.receive(i2.reply!);
  const d = await alice.receive(r2.reply!);
  expect(hex(d.established!.keys[0]!.masterKey)).toBe(hex(r2.established!.keys[0]!.masterKey));
}

describe(`negative paths (engine ${engine.name})`, () => {
  it('a flipped byte in any message never yields keys and leaves other sessions intact', async () => {
    const { alice, bob } = await pair();
    // Record one genuine transcript.
    const { message: i1 } = await alice.initiate({ to: B });
    const r1 = (await bob.receive(i1)).reply!;
    const i2 = (await alice.receive(r1)).reply!;
    const r2 = (await bob.receive(i2)).reply!;
    const positions = (len: number) => [...new Set([0, 1, 2, 3, 5, 9, 11, 14, 20, 27, 35, 46, 60, Math.floor(len / 3), Math.floor(len / 2), len - 40, len - 5, len - 1])].filter((i) => i >= 0 && i < len);
    // Positions are clamped to each message's own length: DER INTEGERs are minimal, so a fresh
    // message can be an octet shorter than the recorded one.
    const flip = (b: Uint8Array, i: number) => {
      if (i >= b.length) throw new Error('flip position out of range');
      const c = b.slice();
      c[i] ^= 0x01;
      return c;
    };
    const ok = new Set(['IBAKE_MALFORMED', 'IBAKE_AUTH_FAILED', 'IBAKE_STALE', 'IBAKE_NO_SESSION', 'IBAKE_NO_KEY', 'IBAKE_STATE', 'IBAKE_UNSUPPORTED', 'IBAKE_POLICY', 'IBAKE_REPLAY', 'IBAKE_EXPIRED']);
    let tried = 0;
    for (const [name, msg] of [['I_MESSAGE_1', i1], ['R_MESSAGE_1', r1], ['I_MESSAGE_2', i2], ['R_MESSAGE_2', r2]] as const) {
      for (const pos of positions(msg.length)) {
        tried++;
        // Fresh parties per trial; the whole (possibly partial) exchange is driven with the
        // tampered message in place and must not end with the initiator holding keys.
        const a = await w.party(A);
        const b = await w.party(B);
        const other = { a: await w.party('sip:carol@example.org'), b: await w.party('sip:dave@example.org') };
        const { message: o1 } = await other.a.initiate({ to: other.b.identity });
        const or1 = await other.b.receive(o1);
        let out: unknown;
        try {
          // Both SSRCs fixed by the initiator, so every CS-map octet is checked (an SSRC left 0
          // is the responder's to choose; the final map is then covered by R_MESSAGE_2's MAC).
          const { message: j1 } = await a.initiate({ to: B, ssrcs: [0x11111111, 0x22222222] });
          let cur = name === 'I_MESSAGE_1' ? flip(j1, Math.min(pos, j1.length - 1)) : j1;
          const s1 = (await b.receive(cur)).reply!;
          cur = name === 'R_MESSAGE_1' ? flip(s1, Math.min(pos, s1.length - 1)) : s1;
          const s2 = (await a.receive(cur)).reply!;
          cur = name === 'I_MESSAGE_2' ? flip(s2, Math.min(pos, s2.length - 1)) : s2;
          const s3 = (await b.receive(cur)).reply!;
          cur = name === 'R_MESSAGE_2' ? flip(s3, Math.min(pos, s3.length - 1)) : s3;
          out = await a.receive(cur);
        } catch (e) {
          out = e;
        }
        if (!(out instanceof IbakeError)) throw new Error(`${name} flip @${pos}: ${out instanceof Error ? out.stack : 'completed with keys'}`);
        expect(ok.has(out.code), `${name}@${pos} ${out.code}`).toBe(true);
        // The other exchange, interleaved, is unaffected.
        const oi2 = await other.a.receive(or1.reply!);
        const or2 = await other.b.receive(oi2.reply!);
        const od = await other.a.receive(or2.reply!);
        expect(hex(od.established!.keys[0]!.masterKey)).toBe(hex(or2.established!.keys[0]!.masterKey));
      }
    }
    expect(tried).toBeGreaterThan(50);
  });

  it('wrong or swapped identities in the header', async () => {
    const { alice, bob } = await pair();
    const { message: i1 } = await alice.initiate({ to: B });
    // IDRi rewritten to Eve in the clear: the identity inside the ciphertext differs.
    const m = decodeMessage(i1);
    const idi = m.payloads.find((p) => p.kind === 'IDR' && p.role === 1) as { data: Uint8Array };
    idi.data = new TextEncoder().encode(E);
    await expectErr(bob.receive(encodeMessage(m)), 'IBAKE_AUTH_FAILED', 'identity-mismatch');
    // Swapped (IDRi = Bob, IDRr = Alice): a message "from ourselves" is refused outright.
    const s = decodeMessage(i1);
    for (const p of s.payloads) if (p.kind === 'IDR') p.data = new TextEncoder().encode(p.role === 1 ? B : A);
    await expectErr(bob.receive(encodeMessage(s)), 'IBAKE_AUTH_FAILED', 'identity-mismatch');
    // Addressed (IDRr) to Eve: not an identity Bob holds -> ERR Invalid ID, no decryption.
    const x = decodeMessage(i1);
    (x.payloads.find((p) => p.kind === 'IDR' && p.role === 2) as { data: Uint8Array }).data = new TextEncoder().encode(E);
    const ni = await expectErr(bob.receive(encodeMessage(x)), 'IBAKE_NO_KEY');
    expect(decodeMessage(ni.reply!).payloads.find((p) => p.kind === 'ERR')).toMatchObject({ errNo: 7 });
    // The genuine message still works afterwards (the failures cached nothing).
    const r1 = await bob.receive(i1);
    // R_MESSAGE_1 whose cleartext IDRi names someone else.
    const r = decodeMessage(r1.reply!);
    (r.payloads.find((p) => p.kind === 'IDR' && p.role === 1) as { data: Uint8Array }).data = new TextEncoder().encode(E);
    await expectErr(alice.receive(encodeMessage(r)), 'IBAKE_AUTH_FAILED', 'identity-mismatch');
    // Inner identities swapped by someone holding Alice's key (re-encrypted to Alice).
    const bad = await rewriteIbake(r1.reply!, alice.keyring, A, A, (c) => {
      const idr = c.find((p) => p.kind === 'IDR' && p.role === 2) as { data: Uint8Array };
      idr.data = new TextEncoder().encode(E);
      return c;
    });
    await expectErr(alice.receive(bad), 'IBAKE_AUTH_FAILED', 'identity-mismatch');
    const i2 = await alice.receive(r1.reply!);
    const r2 = await bob.receive(i2.reply!);
    expect((await alice.receive(r2.reply!)).established).toBeDefined();
  });

  it('an echoed DH value that differs (R_MESSAGE_1 and I_MESSAGE_2)', async () => {
    const { alice, bob } = await pair();
    const other = generateEphemeral().publicPoint;
    const { message: i1 } = await alice.initiate({ to: B });
    const r1 = (await bob.receive(i1)).reply!;
    const badR1 = await rewriteIbake(r1, alice.keyring, A, A, (c) => {
      (c.find((p) => p.kind === 'ECCPT') as { point: Uint8Array }).point = other; // first ECCPT = ECCPTi echo
      return c;
    });
    await expectErr(alice.receive(badR1), 'IBAKE_AUTH_FAILED', 'echo-mismatch');
    const i2 = (await alice.receive(r1)).reply!;
    const badI2 = await rewriteIbake(i2, bob.keyring, B, B, (c) => {
      (c.find((p) => p.kind === 'ECCPT') as { point: Uint8Array }).point = other; // ECCPTr echo
      return c;
    });
    const err = await expectErr(bob.receive(badI2), 'IBAKE_AUTH_FAILED', 'echo-mismatch');
    expect(err.reply).toBeInstanceOf(Uint8Array);
    // the exchange was aborted (RFC 6539: halt and discard y)
    await expectErr(bob.receive(i2), 'IBAKE_NO_SESSION');
  });

  it('received points off the curve, on another curve (small order) or the identity', async () => {
    const { alice, bob } = await pair();
    const good = generateEphemeral().publicPoint;
    const offCurve = good.slice();
    offCurve[64] ^= 1;
    const otherCurve = new Uint8Array(65); // (0, 1): a point of order 3 on y^2 = x^3 - 3x + 1
    otherCurve[0] = 4;
    otherCurve[64] = 1;
    for (const pt of [offCurve, otherCurve]) {
      const { message: i1 } = await alice.initiate({ to: B });
      const bad = await rewriteIbake(i1, bob.keyring, B, B, (c) => {
        (c.find((p) => p.kind === 'ECCPT') as { point: Uint8Array }).point = pt;
        return c;
      });
      await expectErr(bob.receive(bad), 'IBAKE_AUTH_FAILED', 'bad-point');
      // and as ECCPTr in R_MESSAGE_1
      const { message: j1 } = await alice.initiate({ to: B });
      const r1 = (await bob.receive(j1)).reply!;
      const badR = await rewriteIbake(r1, alice.keyring, A, A, (c) => {
        (c.filter((p) => p.kind === 'ECCPT')[1] as { point: Uint8Array }).point = pt;
        return c;
      });
      await expectErr(alice.receive(badR), 'IBAKE_AUTH_FAILED', 'bad-point');
    }
    // The identity (SEC1 0x00): patched into the raw plaintext (the codec cannot even encode it).
    const { message: k1 } = await alice.initiate({ to: B });
    const bad = await rewriteIbake(k1, bob.keyring, B, B, (c, raw) => {
      const at = c.find((p) => p.kind === 'ECCPT') as { offset: number };
      const r = raw.slice();
      r.fill(0, at.offset + 2, at.offset + 2 + 65);
      return r;
    });
    await expectErr(bob.receive(bad), 'IBAKE_AUTH_FAILED', 'inner-format');
    // Our own share reflected back as the peer's share.
    const { message: m1 } = await alice.initiate({ to: B });
    const r1 = (await bob.receive(m1)).reply!;
    const refl = await rewriteIbake(r1, alice.keyring, A, A, (c) => {
      const e = c.filter((p) => p.kind === 'ECCPT') as { point: Uint8Array }[];
      e[1]!.point = e[0]!.point;
      return c;
    });
    await expectErr(alice.receive(refl), 'IBAKE_AUTH_FAILED', 'bad-point');
    await callWorks(alice, bob);
  });

  it('a replayed I_MESSAGE_1 is refused before any pairing', async () => {
    const { alice, bob } = await pair();
    const c = countDecrypts(bob);
    const { message: i1 } = await alice.initiate({ to: B });
    await bob.receive(i1);
    expect(c.n).toBe(1);
    await expectErr(bob.receive(i1), 'IBAKE_REPLAY');
    // the same ciphertext under fresh clear fields (CSB ID, T, RAND) is still a replay
    const m = decodeMessage(i1);
    m.header.csbId = (m.header.csbId + 1) >>> 0;
    (m.payloads.find((p) => p.kind === 'RAND') as { rand: Uint8Array }).rand = new Uint8Array(16).fill(9);
    await expectErr(bob.receive(encodeMessage(m)), 'IBAKE_REPLAY');
    expect(c.n).toBe(1);
    // Profile v2 keys the cache on the ciphertext: a changed ciphertext is a new one, costs
    // its decryption and fails (the FO check), and is not recorded.
    const t = decodeMessage(i1);
    t.header.csbId = (t.header.csbId + 2) >>> 0;
    const ib = t.payloads.find((p) => p.kind === 'IBAKE') as { encrData: Uint8Array };
    ib.encrData = ib.encrData.slice();
    ib.encrData[ib.encrData.length - 1] ^= 1;
    await expectErr(bob.receive(encodeMessage(t)), 'IBAKE_AUTH_FAILED', 'decrypt');
    expect(c.n).toBe(2);
  });

  it('a T outside the window is refused before any pairing, with ERR Invalid TS', async () => {
    const bob = await w.party(B);
    const c = countDecrypts(bob);
    for (const skew of [-120_000, 120_000]) {
      const alice = await w.party(A, { now: () => Date.now() + skew });
      const { message: i1 } = await alice.initiate({ to: B });
      const err = await expectErr(bob.receive(i1), 'IBAKE_STALE');
      const reply = decodeMessage(err.reply!);
      expect(reply.header.dataType).toBe(6);
      expect(reply.payloads.find((p) => p.kind === 'ERR')).toMatchObject({ errNo: 1 });
    }
    expect(c.n).toBe(0);
  });

  it('a private key for the wrong period', async () => {
    const alice = await w.party(A);
    const lastYear = Date.now() - 400 * 86400_000;
    // Bob holds only a key for another period: no key for this message's period.
    const bob = await w.party(B, { keyTime: lastYear });
    const { message: i1 } = await alice.initiate({ to: B });
    await expectErr(bob.receive(i1), 'IBAKE_NO_KEY');
    // A key of another period filed under the current one does not decrypt.
    const bob2 = await w.party('sip:bob2@example.org');
    bob2.keyring.addKey(B, periodStart(Date.now(), 'month'), await extractBls(engine, w.s, identityBytes(B, lastYear, 'month')));
    const bob3 = new (bob2.constructor as typeof IbakeEndpoint)({ identity: B, ibe: bob2.keyring });
    await expectErr(bob3.receive(i1), 'IBAKE_AUTH_FAILED', 'decrypt');
  });

  it('an R_MESSAGE_2 with a bad MAC', async () => {
    const { alice, bob } = await pair();
    const { message: i1, csbId } = await alice.initiate({ to: B });
    const i2 = (await alice.receive((await bob.receive(i1)).reply!)).reply!;
    const r2 = (await bob.receive(i2)).reply!;
    const bad = r2.slice();
    bad[bad.length - 3] ^= 0x80;
    await expectErr(alice.receive(bad), 'IBAKE_AUTH_FAILED', 'bad-mac');
    expect(alice.initiated.has(csbId, B)).toBe(false); // aborted, secrets wiped
    await expectErr(alice.receive(r2), 'IBAKE_NO_SESSION');
    await callWorks(alice, bob);
  });

  it('a message of an expired session', async () => {
    let now = Date.now();
    const alice = await w.party(A);
    const bob = await w.party(B, { now: () => now, handshakeTimeoutMs: 5_000 });
    const { message: i1 } = await alice.initiate({ to: B });
    const i2 = (await alice.receive((await bob.receive(i1)).reply!)).reply!;
    now += 10_000;
    await expectErr(bob.receive(i2), 'IBAKE_EXPIRED');
    await expectErr(bob.receive(i2), 'IBAKE_NO_SESSION');
  });

  it('every pre-authentication failure gives the same ERR bytes', async () => {
    const fixed = Date.now();
    const alice = await w.party(A, { now: () => fixed });
    const bob = await w.party(B, { now: () => fixed });
    const other = generateEphemeral().publicPoint;
    const replies: string[] = [];
    const { message: i1 } = await alice.initiate({ to: B });
    const variants = [
      await rewriteIbake(i1, bob.keyring, B, B, (c) => ((c.find((p) => p.kind === 'ECCPT') as { point: Uint8Array }).point = other.map((x, i) => (i === 64 ? x ^ 1 : x)), c)),
      await rewriteIbake(i1, bob.keyring, B, B, (c) => (((c[0] as { data: Uint8Array }).data = new TextEncoder().encode(E)), c)),
      (() => {
        const m = decodeMessage(i1);
        const ib = m.payloads.find((p) => p.kind === 'IBAKE') as { encrData: Uint8Array };
        ib.encrData = ib.encrData.slice();
        ib.encrData[60] ^= 1;
        return encodeMessage(m);
      })(),
    ];
    for (const v of variants) {
      const err = await expectErr(bob.receive(v), 'IBAKE_AUTH_FAILED');
      replies.push(hex(err.reply!));
    }
    expect(new Set(replies).size).toBe(1);
    expect(decodeMessage(Buffer.from(replies[0]!, 'hex')).payloads.find((p) => p.kind === 'ERR')).toMatchObject({ errNo: 0 });
  });
});

describe(`an exchange closed while its message is processed (engine ${engine.name})`, () => {
  // found by fuzzing the daemon: exchange.close racing exchange.receive of the same exchange
  // wiped its secrets mid-check, and the receive failed IBAKE_AUTH_FAILED with an Error reply
  // for the peer, as if the peer had forged the message; it is IBAKE_NO_SESSION (no reply)
  for (const at of ['I_MESSAGE_2', 'R_MESSAGE_2'] as const) {
    it(`${at}: IBAKE_NO_SESSION, no reply`, async () => {
      const a = await w.party(A);
      const b = await w.party(B);
      const o = await a.initiate({ to: B });
      const r1 = await b.receive(o.message);
      const i2 = await a.receive(r1.reply!);
      let msg = i2.reply!;
      let ep = b;
      let store = b.responded;
      if (at === 'R_MESSAGE_2') {
        msg = (await b.receive(i2.reply!)).reply!;
        ep = a;
        store = a.initiated as unknown as typeof store;
      }
      const p = ep.receive(msg);
      store.delete(o.csbId, ep === b ? A : B); // the app's exchange.close, while the receive runs
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(IbakeError);
      expect((e as IbakeError).code).toBe('IBAKE_NO_SESSION');
      expect((e as IbakeError).reply).toBeUndefined();
    });
  }
});
