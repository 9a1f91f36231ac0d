// Cha–Cheon identity-based signatures (src/ibe/bls12381/ibs.ts) on every engine:
// round trip; cross-engine (each engine verifies every engine's signatures); the algebra checked
// independently (V = [s](U + [h]Q_sig) with the master secret, two separate pairings, Q_sig =
// noble's hash to curve with the signing DST); tampered m / U / V rejected; another identity or
// another period rejected; malformed U / V (every bad G2 case, wrong lengths, the identity)
// rejected with IBE_BAD_SIGNATURE; signing-key checks; addModR against bigints.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { availableEngines } from './helpers/engines.js';
import { errorCode } from './helpers/outcome.js';
import { badG2 } from './fixtures/engine-bad-inputs.js';
import { identityBytes } from '../src/ibe/index.js';
import { extractBls, setupBls } from '../src/ibe/bls12381/bf.js';
import * as ibs from '../src/ibe/bls12381/ibs.js';
import { R, bigintToBytes, bytesToBigint } from '../src/engine/scalar.js';
import type { Engine } from '../src/engine/types.js';

const engines = await availableEngines();
const fast = engines[engines.length - 1]!;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const te = new TextEncoder();
const ALICE = identityBytes('sip:alice@example.org', '2026-12-04');
const ALICE_NEXT = identityBytes('sip:alice@example.org', '2027-01-04');
const BOB = identityBytes('sip:bob@example.org', '2026-12-04');

const { s, Ppub } = await setupBls(fast);
const dAlice = await ibs.extractSigningKey(fast, s, ALICE);
const msg = te.encode('prekey bundle entry 1');

/** Signatures made on each engine (for the cross-engine test). */
const signed = new Map<string, Uint8Array>();

describe('signing identity and key', () => {
  it('ID_sig = URI ‖ 0x00 ‖ period ‖ 0x00 ‖ "sign"; Q_sig = RFC 9380 hash with the signing DST (noble)', async () => {
    expect(Buffer.from(ibs.signingIdentity(ALICE)).toString('latin1')).toBe('sip:alice@example.org\u00002026-12-01\u0000sign');
    const want = bls12_381.G2.hashToCurve(ibs.signingIdentity(ALICE), { DST: ibs.SIG_DST }).toBytes(true);
    for (const e of engines) expect(hex(await ibs.hashSigningIdentity(e, ALICE)), e.name).toBe(hex(want));
    expect(ibs.SIG_DST).toBe('MIKEY-IBAKE-V02-SIG-with-BLS12381G2_XMD:SHA-256_SSWU_RO_');
  });

  it.each(engines.map((e) => [e.name, e] as [string, Engine]))('%s: the signing key verifies; a decryption key, another identity’s or a malformed key does not', async (_n, e) => {
    expect(hex(await ibs.extractSigningKey(e, s, ALICE))).toBe(hex(dAlice));
    expect(await ibs.verifySigningKey(e, Ppub, ALICE, dAlice)).toBe(true);
    expect(await ibs.verifySigningKey(e, Ppub, BOB, dAlice)).toBe(false);
    expect(await ibs.verifySigningKey(e, Ppub, ALICE_NEXT, dAlice)).toBe(false);
    expect(await ibs.verifySigningKey(e, Ppub, ALICE, await extractBls(e, s, ALICE))).toBe(false);
    const other = await setupBls(fast);
    expect(await ibs.verifySigningKey(e, other.Ppub, ALICE, dAlice)).toBe(false);
    for (const c of badG2().filter((c) => c.bytes instanceof Uint8Array && c.bytes.length === 96)) {
      expect(await errorCode(ibs.verifySigningKey(e, Ppub, ALICE, c.bytes as Uint8Array)), c.name).toBe('IBE_BAD_KEY');
    }
  });
});

describe.each(engines.map((e) => [e.name, e] as [string, Engine]))('%s engine: Cha–Cheon', (name, engine) => {
  it('round trip, randomized, and the algebra V = [s](U + [h]Q_sig), e(P, V) = e(P_pub, U + [h]Q_sig)', async () => {
    const sig = await ibs.sign(engine, ALICE, dAlice, msg);
    signed.set(name, sig);
    expect(sig.length).toBe(192);
    expect(await ibs.verify(engine, Ppub, ALICE, msg, sig)).toBe(true);
    expect(hex(await ibs.sign(engine, ALICE, dAlice, msg))).not.toBe(hex(sig));
    const u = sig.subarray(0, 96);
    const v = sig.subarray(96);
    const q = await ibs.hashSigningIdentity(fast, ALICE);
    const h = ibs.signatureHash(msg, u)!;
    const w = await fast.g2Add(u, await fast.g2Mul(q, h));
    expect(hex(await fast.g2Mul(w, s))).toBe(hex(v));
    expect(hex(await fast.pairing(fast.g1Generator(), v))).toBe(hex(await fast.pairing(Ppub, w)));
    // the empty message and a long one
    for (const m of [new Uint8Array(0), randomBytes(5000)]) {
      expect(await ibs.verify(engine, Ppub, ALICE, m, await ibs.sign(engine, ALICE, dAlice, m))).toBe(true);
    }
    // a cached Q_sig gives the same verdicts
    expect(await ibs.verify(engine, Ppub, ALICE, msg, sig, q)).toBe(true);
  });

  it('tampered m, U or V, another identity or another period: rejected', async () => {
    const sig = await ibs.sign(engine, ALICE, dAlice, msg);
    const m2 = msg.slice();
    m2[3]! ^= 1;
    expect(await ibs.verify(engine, Ppub, ALICE, m2, sig)).toBe(false);
    expect(await ibs.verify(engine, Ppub, ALICE, msg.subarray(1), sig)).toBe(false);
    expect(await ibs.verify(engine, Ppub, BOB, msg, sig)).toBe(false);
    expect(await ibs.verify(engine, Ppub, ALICE_NEXT, msg, sig)).toBe(false);
    // U or V replaced by another valid point
    const other = await fast.hashToG2(randomBytes(8), 'other');
    for (const at of [0, 96]) {
      const t = sig.slice();
      t.set(other, at);
      expect(await ibs.verify(engine, Ppub, ALICE, msg, t), `valid point at ${at}`).toBe(false);
    }
    // swapped halves, and a signature under another master key
    expect(await ibs.verify(engine, Ppub, ALICE, msg, Buffer.concat([sig.subarray(96), sig.subarray(0, 96)]))).toBe(false);
    const other2 = await setupBls(fast);
    expect(await ibs.verify(engine, other2.Ppub, ALICE, msg, sig)).toBe(false);
    // every single-bit flip of U and V, sampled: never accepted; malformed ones are typed
    const outcomes = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const t = sig.slice();
      const bit = (i * 67 + 5) % (192 * 8);
      t[bit >> 3]! ^= 1 << (bit & 7);
      let o: string;
      try {
        o = String(await ibs.verify(engine, Ppub, ALICE, msg, t));
      } catch (e) {
        o = (e as { code?: string }).code ?? String(e);
      }
      outcomes.add(o);
    }
    expect([...outcomes].filter((o) => o !== 'false' && o !== 'IBE_BAD_SIGNATURE')).toEqual([]);
  });

  it('malformed signatures: IBE_BAD_SIGNATURE (bad G2 encodings as U or V, identity, lengths)', async () => {
    const sig = await ibs.sign(engine, ALICE, dAlice, msg);
    const got: string[] = [];
    const want: string[] = [];
    for (const c of badG2().filter((c) => c.bytes instanceof Uint8Array && c.bytes.length === 96)) {
      for (const at of [0, 96]) {
        const t = sig.slice();
        t.set(c.bytes as Uint8Array, at);
        got.push(`${c.name}@${at}: ${await errorCode(ibs.verify(engine, Ppub, ALICE, msg, t))}`);
        want.push(`${c.name}@${at}: IBE_BAD_SIGNATURE`);
      }
    }
    expect(got).toEqual(want);
    const inf = new Uint8Array(96);
    inf[0] = 0xc0;
    for (const t of [Buffer.concat([inf, sig.subarray(96)]), Buffer.concat([sig.subarray(0, 96), inf])]) {
      expect(await errorCode(ibs.verify(engine, Ppub, ALICE, msg, new Uint8Array(t)))).toBe('IBE_BAD_SIGNATURE');
    }
    for (const t of [sig.subarray(0, 191), new Uint8Array(193), new Uint8Array(0), 'x' as unknown as Uint8Array]) {
      expect(await errorCode(ibs.verify(engine, Ppub, ALICE, msg, t))).toBe('IBE_BAD_SIGNATURE');
    }
    expect(await errorCode(ibs.parseSignature(engine, sig))).toBe('ok');
    expect(await errorCode(ibs.sign(engine, ALICE, new Uint8Array(96), msg))).toBe('IBE_BAD_KEY');
  });
});

describe(`cross-engine (${engines.map((e) => e.name).join(',')})`, () => {
  it('every engine verifies every engine’s signature, and rejects it under another identity', async () => {
    for (const e of engines) if (!signed.has(e.name)) signed.set(e.name, await ibs.sign(e, ALICE, dAlice, msg));
    const got: string[] = [];
    for (const [by, sig] of signed) {
      for (const e of engines) {
        got.push(`${by}->${e.name}: ${await ibs.verify(e, Ppub, ALICE, msg, sig)} ${await ibs.verify(e, Ppub, BOB, msg, sig)}`);
      }
    }
    expect(got).toEqual([...signed.keys()].flatMap((by) => engines.map((e) => `${by}->${e.name}: true false`)));
  });
});

describe('addModR', () => {
  it('equals (a + b) mod r on edge and random values', () => {
    const vals = [0n, 1n, 2n, R - 1n, R - 2n, R >> 1n, (R >> 1n) + 1n, 1n << 254n];
    for (let i = 0; i < 40; i++) vals.push(bytesToBigint(randomBytes(40)) % R);
    for (const a of vals) {
      for (const b of vals.slice(0, 12)) {
        expect(bytesToBigint(ibs.addModR(bigintToBytes(a, 32), bigintToBytes(b, 32))), `${a}+${b}`).toBe((a + b) % R);
      }
    }
  });
});

describe('Engine.ibsVerify (fused native path) agrees with the general path', () => {
  const fused = engines.filter((e) => e.ibsVerify);
  it.runIf(fused.length > 0).each(fused.map((e) => [e.name, e] as [string, Engine]))('%s', async (_n, e) => {
    const general = { ...e, ibsVerify: undefined } as Engine;
    const q = await ibs.hashSigningIdentity(e, ALICE);
    // verdicts through ibs.verify on both paths: valid, tampered message, other identity, other valid point as U / V
    const sig = await ibs.sign(e, ALICE, dAlice, msg);
    const other = await fast.hashToG2(randomBytes(8), 'other');
    const cases: Array<[string, Uint8Array, Uint8Array, Uint8Array]> = [
      ['valid', ALICE, msg, sig],
      ['message', ALICE, te.encode('other'), sig],
      ['identity', BOB, msg, sig],
      ['U', ALICE, msg, Buffer.concat([other, sig.subarray(96)])],
      ['V', ALICE, msg, Buffer.concat([sig.subarray(0, 96), other])],
    ];
    for (const [what, id, m, s2] of cases) {
      const a = await ibs.verify(e, Ppub, id, m, new Uint8Array(s2)).catch((x) => x.code);
      const b = await ibs.verify(general, Ppub, id, m, new Uint8Array(s2)).catch((x) => x.code);
      expect(`${what}: ${a}`).toBe(`${what}: ${b}`);
    }
    // the raw op: W = U + [h]Q = 0 is false; each argument's rejection in order
    const h = bigintToBytes(12345n, 32);
    const u0 = await e.g2Mul(q, bigintToBytes(R - 12345n, 32));
    expect(await e.ibsVerify!(Ppub, q, h, u0, sig.subarray(96))).toBe(false);
    const u = sig.subarray(0, 96);
    const v = sig.subarray(96);
    const hs = ibs.signatureHash(msg, u)!;
    expect(await e.ibsVerify!(Ppub, q, hs, u, v)).toBe(true);
    const badG1 = new Uint8Array(48).fill(0xff);
    const badG2x = badG2().find((c) => c.reason === 'not-in-subgroup')!.bytes as Uint8Array;
    const reason = (p: Promise<unknown>) => p.then(() => 'ok', (x) => x.reason);
    expect(await reason(e.ibsVerify!(badG1, badG2x, new Uint8Array(32), badG2x, badG2x))).toBe('non-canonical');
    expect(await reason(e.ibsVerify!(Ppub, badG2x, new Uint8Array(32), badG2x, badG2x))).toBe('not-in-subgroup');
    expect(await reason(e.ibsVerify!(Ppub, q, new Uint8Array(32), badG2x, badG2x))).toBe('scalar-range');
    expect(await reason(e.ibsVerify!(Ppub, q, h, badG2x, v))).toBe('not-in-subgroup');
    expect(await reason(e.ibsVerify!(Ppub, q, h, u, new Uint8Array(96)))).toBe(await reason(e.g2Encode(new Uint8Array(96))));
  });
});
