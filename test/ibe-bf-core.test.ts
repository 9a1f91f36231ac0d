// The fused bls12381-bf core (Engine.bfCore, native only: native/src/bf_core.h) against the
// reference path of src/ibe/bls12381/bf.ts. Pins, for random identities, plaintexts of every
// length 1..300 and random rho: the cached context's fused encryption — with the plain g_ID and
// through a GT table — gives exactly the bytes of the uncached reference encryptBlsWithRho on
// native (general operations) and, for a sample, on the ts engine (@noble/curves, independent);
// fused decryption round-trips; every single-octet change of U, V or W is rejected (the core's
// reason: U's validation reason exactly as the prepared pairing gives it, else 'ibe-check'); a
// ciphertext for another identity is rejected; argument checks, foreign and freed handles, and
// the context's fallbacks. l = 0 cannot be produced from real inputs (it needs
// HashToRange(rho ‖ t) = 0, probability 2^-255 per rho), so its handling in the context is
// driven through a core that reports 'ibe-check' instead.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EngineError, type EngineErrorReason } from '../src/engine/errors.js';
import type { BfCore, Engine, G2Prepared } from '../src/engine/types.js';
import { decodeCiphertext, encodeCiphertext } from '../src/ibe/ciphertext.js';
import { IbeError } from '../src/ibe/errors.js';
import { decryptBls, DST, encodeCoreCiphertext, encryptBlsWithRho, extractBls, FP, parseCiphertextBls, setupBls } from '../src/ibe/bls12381/bf.js';
import { BlsContext } from '../src/ibe/bls12381/context.js';
import { identityBytes } from '../src/ibe/identity.js';
import { loadEngine } from './helpers/engines.js';

const native = await loadEngine('native');
const ts = (await loadEngine('ts')) as Engine;
const run = describe.runIf(!!native?.bfCore);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function reason(p: Promise<unknown>): Promise<EngineErrorReason | 'accepted'> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return (e as EngineError).reason;
  }
}

async function ibeCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    expect(e).toBeInstanceOf(IbeError);
    return (e as IbeError).code;
  }
}

/** The native engine with gtFixedBase failing, so its context never gets a table (plain g_ID). */
function withoutTables(e: Engine): Engine {
  const c: Engine = Object.create(e);
  Object.defineProperty(c, 'gtFixedBase', { value: () => Promise.reject(new EngineError('unavailable', 'no tables in this test')) });
  return c;
}

run('fused bls12381-bf core (native) against the reference path', () => {
  const e = native as Engine;
  const core = e?.bfCore as BfCore; // runIf(false) still collects this body: nothing may run here without the addon
  let once: ReturnType<typeof makeSetup> | undefined;
  const setup = () => (once ??= makeSetup());
  const makeSetup = async () => {
    const { s, Ppub } = await setupBls(e);
    const ids = Array.from({ length: 12 }, () => identityBytes(`sip:u${randomBytes(6).toString('hex')}@example.org`, '2026-11-28', 'month'));
    const keys = await Promise.all(ids.map((id) => extractBls(e, s, id)));
    s.fill(0);
    return { Ppub, ids, keys };
  };

  it('concurrent first uses (the process-wide generator table is built once) agree with the reference', async () => {
    const { Ppub, ids, keys } = await setup();
    const ctx = new BlsContext(e, Ppub);
    try {
      const jobs = ids.slice(0, 6).map(async (id, i) => {
        const m = randomBytes(20 + i);
        const rho = randomBytes(32);
        const [got, want] = await Promise.all([ctx.encryptToWithRho(id, m, rho), encryptBlsWithRho(e, Ppub, id, m, rho)]);
        expect(hex(got)).toBe(hex(want));
        expect(hex(await ctx.decryptWith(keys[i]!, got))).toBe(hex(m));
      });
      await Promise.all(jobs);
    } finally {
      ctx.close();
    }
  });

  it('encryptions of every length 1..300, plain g_ID and GT table, equal encryptBlsWithRho on native and ts; decryptions round-trip', async () => {
    const { Ppub, ids, keys } = await setup();
    const plain = new BlsContext(withoutTables(e), Ppub);
    const tabled = new BlsContext(e, Ppub);
    try {
      // warm the tabled context past TABLE_AFTER so every recipient has its table
      for (const id of ids) for (let i = 0; i < 3; i++) await tabled.encryptTo(id, Uint8Array.of(i + 1));
      await tabled.settle();
      for (const id of ids) expect((await tabled.recipient(id)).table).toBeDefined();
      let tsChecked = 0;
      for (let len = 1; len <= 300; len++) {
        const j = len % ids.length;
        const id = ids[j]!;
        const m = randomBytes(len);
        const rho = randomBytes(32);
        const want = hex(await encryptBlsWithRho(e, Ppub, id, m, rho));
        const viaPlain = await plain.encryptToWithRho(id, m, rho);
        const viaTable = await tabled.encryptToWithRho(id, m, rho);
        expect(hex(viaPlain)).toBe(want);
        expect(hex(viaTable)).toBe(want);
        if (len <= 3 || len % 23 === 0 || [31, 32, 33, 64, 65, 300].includes(len)) {
          expect(hex(await encryptBlsWithRho(ts, Ppub, id, m, rho))).toBe(want);
          tsChecked++;
        }
        expect(hex(await tabled.decryptWith(keys[j]!, viaTable))).toBe(hex(m));
        if (len % 50 === 0) expect(hex(await decryptBls(e, keys[j]!, viaPlain))).toBe(hex(m)); // reference decryption too
      }
      expect(tsChecked).toBeGreaterThan(15);
      expect((await plain.recipient(ids[0]!)).table).toBeUndefined();
    } finally {
      plain.close();
      tabled.close();
    }
  });

  it('every single-octet change of U, V or W is rejected, with the prepared pairing\'s reason for U and ibe-check otherwise', async () => {
    const { Ppub, ids, keys } = await setup();
    const ctx = new BlsContext(e, Ppub);
    const prep = await e.g2Prepare(keys[0]!);
    try {
      const m = new TextEncoder().encode('IDRi || ECCPTi || IDRr: an IBAKE-sized plaintext');
      const ct = await ctx.encryptTo(ids[0]!, m);
      const c = parseCiphertextBls(ct);
      expect(hex(await core.decrypt(prep, c.u, c.v, c.w))).toBe(hex(m));
      const parts = { u: c.u, v: c.v, w: c.w };
      let tried = 0;
      for (const part of ['u', 'v', 'w'] as const) {
        for (let i = 0; i < parts[part].length; i++) {
          const bad = { ...parts, [part]: Uint8Array.from(parts[part]) };
          bad[part][i] = bad[part][i]! ^ (1 + (i % 255)); // a non-zero change of octet i
          tried++;
          const got = await reason(core.decrypt(prep, bad.u, bad.v, bad.w));
          if (part === 'u') expect(got).toBe(await reason(prep.pairing(bad.u)));
          else expect(got).toBe('ibe-check');
          // through the context (DER and its pre-checks first): always the one uniform failure
          const x = BigInt('0x' + hex(bad.u.subarray(0, 48)));
          const y = BigInt('0x' + hex(bad.u.subarray(48)));
          const der = encodeCiphertext({ ux: x, uy: y, v: bad.v, w: bad.w });
          expect(await ibeCode(ctx.decryptWith(keys[0]!, der))).toBe('IBE_DECRYPT_FAILED');
          if (x < FP && y < FP) expect(got).not.toBe('accepted');
        }
      }
      expect(tried).toBe(96 + 32 + m.length);
      expect(hex(await ctx.decryptWith(keys[0]!, ct))).toBe(hex(m));
    } finally {
      prep.free();
      ctx.close();
    }
  });

  it('a ciphertext for another identity is rejected (ibe-check / IBE_DECRYPT_FAILED)', async () => {
    const { Ppub, ids, keys } = await setup();
    const ctx = new BlsContext(e, Ppub);
    const prepB = await e.g2Prepare(keys[1]!);
    try {
      for (let i = 0; i < 4; i++) {
        const ct = await ctx.encryptTo(ids[0]!, randomBytes(1 + i * 40));
        expect(await ibeCode(ctx.decryptWith(keys[1]!, ct))).toBe('IBE_DECRYPT_FAILED');
        const c = parseCiphertextBls(ct);
        expect(await reason(core.decrypt(prepB, c.u, c.v, c.w))).toBe('ibe-check');
      }
    } finally {
      prepB.free();
      ctx.close();
    }
  });

  it('checks its arguments: types, lengths, g_ID like gtPow, handles of another kind, engine or freed', async () => {
    const { Ppub, ids, keys } = await setup();
    const gId = await e.pairing(Ppub, await e.hashToG2(ids[0]!, 'MIKEY-IBAKE-V01-CS01-with-BLS12381G2_XMD:SHA-256_SSWU_RO_'));
    const m = randomBytes(10);
    const rho = randomBytes(32);
    const table = await e.gtFixedBase(gId);
    const prep = await e.g2Prepare(keys[0]!);
    const ok = await core.encrypt(gId, m, rho);
    expect(hex((await core.encryptWithTable(table, m, rho)).u)).toBe(hex(ok.u));
    expect(ok.u.length).toBe(96);
    expect(ok.v.length).toBe(32);
    expect(ok.w.length).toBe(10);
    const big = new Uint8Array((1 << 20) + 1);
    const bad: Array<[() => Promise<unknown>, EngineErrorReason]> = [
      [() => core.encrypt(gId, new Uint8Array(0), rho), 'length'],
      [() => core.encrypt(gId, big, rho), 'length'],
      [() => core.encrypt(gId, m, rho.subarray(1)), 'length'],
      [() => core.encrypt(gId, m, 'x' as unknown as Uint8Array), 'type'],
      [() => core.encrypt([1, 2] as unknown as Uint8Array, m, rho), 'type'],
      [() => core.encryptWithTable(table, new Uint8Array(0), rho), 'length'],
      [() => core.encryptWithTable(table, m, new Uint8Array(33)), 'length'],
      [() => core.encryptWithTable({} as never, m, rho), 'type'],
      [() => core.encryptWithTable(prep as never, m, rho), 'type'], // a handle of another kind
      [() => core.decrypt(table as never, ok.u, ok.v, ok.w), 'type'],
      [() => core.decrypt(prep, ok.u.subarray(0, 48), ok.v, ok.w), 'length'], // compressed U: not accepted here
      [() => core.decrypt(prep, ok.u, ok.v.subarray(1), ok.w), 'length'],
      [() => core.decrypt(prep, ok.u, ok.v, new Uint8Array(0)), 'length'],
      [() => core.decrypt(prep, ok.u, ok.v, big), 'length'],
      [() => core.decrypt(prep, ok.u, ok.v, null as never), 'type'],
    ];
    for (const [p, want] of bad) expect(await reason(p())).toBe(want);
    const zeroU = new Uint8Array(96);
    expect(await reason(core.decrypt(prep, zeroU, ok.v, ok.w))).toBe(await reason(prep.pairing(zeroU)));
    // g_ID is checked exactly like gtPow's input
    const gBad = [gId.subarray(1), new Uint8Array(576), Uint8Array.from(gId, (x, i) => (i === 575 ? x ^ 1 : x)), (() => {
      const g = Uint8Array.from(gId);
      g.set(Buffer.from(FP.toString(16).padStart(96, '0'), 'hex'), 0); // coefficient = p
      return g;
    })()];
    for (const g of gBad) expect(await reason(core.encrypt(g, m, rho))).toBe(await reason(e.gtPow(g, rho)));
    // a handle of the ts engine
    const tsPrep = await ts.g2Prepare(keys[0]!);
    expect(await reason(core.decrypt(tsPrep, ok.u, ok.v, ok.w))).toBe('type');
    tsPrep.free();
    // freed handles
    table.free();
    prep.free();
    expect(await reason(core.encryptWithTable(table, m, rho))).toBe('freed');
    expect(await reason(core.decrypt(prep, ok.u, ok.v, ok.w))).toBe('freed');
  });

  it('the context falls back when its table or prepared key is freed under it', async () => {
    const { Ppub, ids, keys } = await setup();
    const ctx = new BlsContext(e, Ppub);
    try {
      const id = ids[2]!;
      for (let i = 0; i < 3; i++) await ctx.encryptTo(id, Uint8Array.of(1));
      await ctx.settle();
      const r = await ctx.recipient(id);
      r.table!.free(); // as if evicted while a call was in flight
      const m = randomBytes(77);
      const rho = randomBytes(32);
      const ct = await ctx.encryptToWithRho(id, m, rho);
      expect(hex(ct)).toBe(hex(await encryptBlsWithRho(e, Ppub, id, m, rho)));
      const prep = await (ctx as unknown as { prepared(k: Uint8Array): Promise<G2Prepared> }).prepared(keys[2]!);
      prep.free();
      expect(hex(await ctx.decryptWith(keys[2]!, ct))).toBe(hex(m));
    } finally {
      ctx.close();
    }
  });

  it('l = 0 (reported by the core as ibe-check): encryptTo retries with a fresh rho, encryptToWithRho refuses', async () => {
    const { Ppub, ids, keys } = await setup();
    let refusals = 1;
    const seen: string[] = [];
    const flaky: BfCore = {
      ...core,
      encrypt: (g, m, rho) => {
        seen.push(hex(rho));
        if (refusals-- > 0) return Promise.reject(new EngineError('ibe-check', 'l = 0 (simulated)'));
        return core.encrypt(g, m, rho);
      },
    };
    const c: Engine = Object.create(e);
    Object.defineProperty(c, 'bfCore', { value: flaky });
    const ctx = new BlsContext(c, Ppub);
    try {
      const m = randomBytes(30);
      const ct = await ctx.encryptTo(ids[3]!, m);
      expect(seen.length).toBe(2);
      expect(seen[0]).not.toBe(seen[1]); // a fresh rho after the refusal
      expect(hex(await ctx.decryptWith(keys[3]!, ct))).toBe(hex(m));
      refusals = 1;
      const err = await ctx.encryptToWithRho(ids[3]!, m, randomBytes(32)).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(IbeError);
      expect((err as IbeError).code).toBe('IBE_BAD_INPUT');
      expect((err as IbeError).message).toMatch(/^l = 0/);
      // the DER the context produced decodes to a 96-octet U, 32-octet V and |M|-octet W
      const d = decodeCiphertext(ct);
      expect(d.v.length).toBe(32);
      expect(d.w.length).toBe(30);
    } finally {
      ctx.close();
    }
  });
  it('BfRecipient equals hashToG2 then pairing (native and ts), P_pub in both forms', async () => {
    const { Ppub, ids } = await setup();
    const PpubU = await e.g1Encode(Ppub, 'uncompressed');
    const dst = new TextEncoder().encode(DST);
    let tsChecked = 0;
    for (let i = 0; i < 16; i++) {
      const id = i < ids.length ? ids[i]! : randomBytes(1 + (i * 37) % 200);
      const { qId, gId } = await core.recipient(i % 2 ? PpubU : Ppub, id, dst);
      const q = await e.hashToG2(id, DST);
      expect(hex(qId)).toBe(hex(q));
      expect(hex(gId)).toBe(hex(await e.pairing(Ppub, q)));
      if (i % 5 === 0) {
        expect(hex(qId)).toBe(hex(await ts.hashToG2(id, DST)));
        expect(hex(gId)).toBe(hex(await ts.pairing(Ppub, qId)));
        tsChecked++;
      }
    }
    expect(tsChecked).toBe(4);
    // g_ID is e(P_pub, Q_ID) for the recipient's key: e(P, S_ID) equals it (bilinearity)
    const { keys } = await setup();
    const { gId } = await core.recipient(Ppub, ids[1]!, dst);
    expect(hex(await e.pairing(e.g1Generator(), keys[1]!))).toBe(hex(gId));
  });

  it('BfRecipient checks P_pub (as pairing does) first, then the identity and the DST', async () => {
    const { Ppub, ids } = await setup();
    const dst = new TextEncoder().encode(DST);
    const q = await e.hashToG2(ids[0]!, DST);
    const flip = (b: Uint8Array, i: number, x: number) => Uint8Array.from(b, (v, k) => (k === i ? v ^ x : v));
    const ident1 = new Uint8Array(48);
    ident1[0] = 0xc0; // compressed point at infinity
    const badP = [Ppub.subarray(1), new Uint8Array(49), ident1, flip(Ppub, 47, 1), flip(Ppub, 20, 0x40), flip(Ppub, 0, 0x20), new Uint8Array(48)];
    let rejected = 0;
    for (const P of badP) {
      const want = await reason(e.pairing(P, q));
      expect(await reason(core.recipient(P, ids[0]!, dst))).toBe(want);
      if (want === 'accepted') continue; // e.g. the sign flag flipped: -P_pub, a valid point
      expect(await reason(core.recipient(P, new Uint8Array(0), new Uint8Array(0)))).toBe(want); // P_pub first
      rejected++;
    }
    expect(rejected).toBeGreaterThanOrEqual(5);
    const bad: Array<[() => Promise<unknown>, EngineErrorReason | 'accepted']> = [
      [() => core.recipient('x' as never, ids[0]!, dst), 'type'],
      [() => core.recipient(Ppub, 'sip:a@b' as never, dst), 'type'],
      [() => core.recipient(Ppub, new Uint8Array(0), dst), 'length'],
      [() => core.recipient(Ppub, new Uint8Array((1 << 20) + 1), dst), 'length'],
      [() => core.recipient(Ppub, ids[0]!, DST as never), 'type'],
      [() => core.recipient(Ppub, ids[0]!, new Uint8Array(0)), 'length'],
      [() => core.recipient(Ppub, ids[0]!, new Uint8Array(256)), 'length'],
      [() => core.recipient(Ppub, ids[0]!, new Uint8Array(255)), 'accepted'],
      [() => core.recipient(Ppub, new Uint8Array(1 << 20), dst), 'accepted'],
    ];
    for (const [p, want] of bad) expect(await reason(p())).toBe(want);
  });

  it('BfRecipient gives the same verdicts and values whether or not P_pub was just seen (native remembers the last valid one)', async () => {
    const { Ppub, ids } = await setup();
    const dst = new TextEncoder().encode(DST);
    const q = await e.hashToG2(ids[2]!, DST);
    const other = await e.g1Mul(e.g1Generator(), Uint8Array.from(randomBytes(32), (v, k) => (k === 0 ? v & 0x3f : v)));
    const flip = (b: Uint8Array, i: number, x: number) => Uint8Array.from(b, (v, k) => (k === i ? v ^ x : v));
    const PpubU = await e.g1Encode(Ppub, 'uncompressed');
    // valid, near misses of it (rejected, or another valid point: -P_pub), the same point in the
    // other form, another KMS's key, and back: each compared with pairing()'s own decoding
    const seq = [Ppub, flip(Ppub, 47, 1), Ppub, Ppub, flip(Ppub, 0, 0x20), PpubU, flip(PpubU, 95, 1), other, Ppub, other, Ppub.subarray(0, 47), Ppub];
    const verdicts = new Set<string>();
    for (const P of seq) {
      const want = await e.pairing(P, q).then(hex, (x: unknown) => `reject:${(x as { reason?: string }).reason}`);
      const got = await core.recipient(P, ids[2]!, dst).then((r) => hex(r.gId), (x: unknown) => `reject:${(x as { reason?: string }).reason}`);
      expect(got).toBe(want);
      verdicts.add(want.startsWith('reject:') ? want : 'value');
    }
    expect(verdicts.has('value')).toBe(true);
    expect(verdicts.size).toBeGreaterThanOrEqual(3); // values and at least two rejection reasons
  });

  it('a context makes a new peer\'s entry with one BfRecipient call, encrypts with g_ID, then through its table', async () => {
    const { Ppub, ids, keys } = await setup();
    const n = { recipient: 0, plain: 0, table: 0, pairing: 0, hash: 0 };
    const counted: BfCore = {
      ...core,
      encrypt: (g, m, rho) => (n.plain++, core.encrypt(g, m, rho)),
      encryptWithTable: (t, m, rho) => (n.table++, core.encryptWithTable(t, m, rho)),
      recipient: (P, id, dst) => (n.recipient++, core.recipient(P, id, dst)),
    };
    const c: Engine = Object.create(e);
    Object.defineProperty(c, 'bfCore', { value: counted });
    Object.defineProperty(c, 'pairing', { value: (a: Uint8Array, b: Uint8Array) => (n.pairing++, e.pairing(a, b)) });
    Object.defineProperty(c, 'hashToG2', { value: (a: Uint8Array, d: string | Uint8Array) => (n.hash++, e.hashToG2(a, d)) });
    const ctx = new BlsContext(c, Ppub);
    try {
      const id = ids[5]!;
      const m = new TextEncoder().encode('first message to a new peer');
      const rho = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1); // fixed rho
      const first = await ctx.encryptToWithRho(id, m, rho);
      expect(n).toEqual({ recipient: 1, plain: 1, table: 0, pairing: 0, hash: 0 });
      expect(hex(first)).toBe(hex(await encryptBlsWithRho(e, Ppub, id, m, rho)));
      expect(hex(first)).toBe(hex(await encryptBlsWithRho(ts, Ppub, id, m, rho)));
      expect(hex(await ctx.decryptWith(keys[5]!, first))).toBe(hex(m));
      expect(hex(await ctx.publicKey(id))).toBe(hex(await e.hashToG2(id, DST)));
      const second = await ctx.encryptToWithRho(id, m, rho);
      expect(hex(second)).toBe(hex(first));
      expect(n).toEqual({ recipient: 1, plain: 2, table: 0, pairing: 0, hash: 0 });
      await ctx.encryptTo(id, m); // third use: starts the table build
      await ctx.settle();
      const fourth = await ctx.encryptToWithRho(id, m, rho);
      expect(hex(fourth)).toBe(hex(first));
      expect(n.recipient).toBe(1);
      expect(n.table).toBe(1);
      expect(await ctx.verifyKey(id, keys[5]!)).toBe(true);
      expect(await ctx.verifyKey(ids[6]!, keys[5]!)).toBe(false); // a new entry for another identity
      expect(n.recipient).toBe(2);
      // an identity the context refuses never reaches the engine
      await expect(ctx.encryptTo(new Uint8Array(0), m)).rejects.toBeInstanceOf(IbeError);
      expect(n.recipient).toBe(2);
    } finally {
      ctx.close();
    }
  });

  it('BfDecryptRecipient = BfDecrypt and BfRecipient: the same plaintext and entry, the decryption\'s verdict, the recipient\'s own', async () => {
    const { Ppub, ids, keys } = await setup();
    const dst = new TextEncoder().encode(DST);
    const fused = core.decryptWithRecipient!;
    expect(fused).toBeTypeOf('function');
    const ctx = new BlsContext(e, Ppub);
    try {
      const prep = await e.g2Prepare(keys[7]!);
      for (let i = 0; i < 6; i++) {
        const m = randomBytes(1 + i * 50);
        const c = parseCiphertextBls(await ctx.encryptTo(ids[7]!, m));
        const peer = ids[(i % 4) + 8]!;
        const out = await fused(prep, c, { Ppub, id: peer, dst });
        expect(hex(out.m)).toBe(hex(m));
        expect(hex(out.m)).toBe(hex(await core.decrypt(prep, c.u, c.v, c.w)));
        expect(out.recipient).not.toBeInstanceOf(EngineError);
        const want = await core.recipient(Ppub, peer, dst);
        const got = out.recipient as { qId: Uint8Array; gId: Uint8Array };
        expect(hex(got.qId)).toBe(hex(want.qId));
        expect(hex(got.gId)).toBe(hex(want.gId));
      }
      // the ciphertext's rejection is the op's, whatever the recipient arguments
      const c = parseCiphertextBls(await ctx.encryptTo(ids[7]!, new Uint8Array([1, 2, 3])));
      const flip = (b: Uint8Array, i: number) => Uint8Array.from(b, (v, k) => (k === i ? v ^ 1 : v));
      const badCts = [{ ...c, v: flip(c.v, 3) }, { ...c, w: flip(c.w, 0) }, { ...c, u: flip(c.u, 95) }, { ...c, u: c.u.subarray(1) }];
      for (const bc of badCts) {
        const want = await reason(core.decrypt(prep, bc.u, bc.v, bc.w));
        expect(want).not.toBe('accepted');
        expect(await reason(fused(prep, bc, { Ppub, id: ids[8]!, dst }))).toBe(want);
        expect(await reason(fused(prep, bc, { Ppub: new Uint8Array(3), id: ids[8]!, dst }))).toBe(want);
      }
      // a valid ciphertext with bad recipient arguments: the plaintext, and recipient()'s reason
      const ident1 = new Uint8Array(48);
      ident1[0] = 0xc0;
      const badRecipients = [
        { Ppub: ident1, id: ids[8]!, dst },
        { Ppub: Ppub.subarray(1), id: ids[8]!, dst },
        { Ppub, id: new Uint8Array(0), dst },
        { Ppub, id: ids[8]!, dst: new Uint8Array(256) },
      ];
      for (const r of badRecipients) {
        const want = await reason(core.recipient(r.Ppub, r.id, r.dst));
        expect(want).not.toBe('accepted');
        const out = await fused(prep, c, r);
        expect(hex(out.m)).toBe('010203');
        expect(out.recipient).toBeInstanceOf(EngineError);
        expect((out.recipient as EngineError).reason).toBe(want);
      }
      expect(await reason(fused(prep, { ...c, u: 'x' as never }, { Ppub, id: ids[8]!, dst }))).toBe('type');
      expect(await reason(fused({} as G2Prepared, c, { Ppub, id: ids[8]!, dst }))).toBe('type');
      prep.free();
      expect(await reason(fused(prep, c, { Ppub, id: ids[8]!, dst }))).toBe('freed');
    } finally {
      ctx.close();
    }
  });

  it('a context decrypting with alsoPrepare makes a new peer\'s entry in the same engine call, and only for a new peer', async () => {
    const { Ppub, ids, keys } = await setup();
    const n = { fused: 0, decrypt: 0, recipient: 0, plain: 0 };
    let failFused: EngineError | undefined;
    const counted: BfCore = {
      ...core,
      decrypt: (k, u, v, w) => (n.decrypt++, core.decrypt(k, u, v, w)),
      encrypt: (g, m, rho) => (n.plain++, core.encrypt(g, m, rho)),
      recipient: (P, id, dst) => (n.recipient++, core.recipient(P, id, dst)),
      decryptWithRecipient: (k, ct, r) => (n.fused++, failFused ? Promise.reject(failFused) : core.decryptWithRecipient!(k, ct, r)),
    };
    const c: Engine = Object.create(e);
    Object.defineProperty(c, 'bfCore', { value: counted });
    const sender = new BlsContext(e, Ppub);
    const ctx = new BlsContext(c, Ppub);
    try {
      const m = new TextEncoder().encode('I_MESSAGE_1 plaintext');
      const ct = await sender.encryptTo(ids[9]!, m);
      // new peer: one fused call, then the entry is there for the reply (no recipient call)
      expect(hex(await ctx.decryptWith(keys[9]!, ct, undefined, ids[10]!))).toBe(hex(m));
      expect(n).toEqual({ fused: 1, decrypt: 0, recipient: 0, plain: 0 });
      const reply = await ctx.encryptTo(ids[10]!, m);
      expect(n).toEqual({ fused: 1, decrypt: 0, recipient: 0, plain: 1 });
      expect(hex(await sender.decryptWith(keys[10]!, reply))).toBe(hex(m));
      expect(hex(await ctx.publicKey(ids[10]!))).toBe(hex(await e.hashToG2(ids[10]!, DST)));
      // known peer: a plain decryption
      expect(hex(await ctx.decryptWith(keys[9]!, ct, undefined, ids[10]!))).toBe(hex(m));
      expect(n).toEqual({ fused: 1, decrypt: 1, recipient: 0, plain: 1 });
      // a tampered ciphertext: the uniform failure, and no entry left behind for the new peer
      const bad = Uint8Array.from(ct, (v, i) => (i === ct.length - 1 ? v ^ 1 : v));
      const err = await ctx.decryptWith(keys[9]!, bad, undefined, ids[11]!).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(IbeError);
      expect(n.fused).toBe(2);
      await ctx.encryptTo(ids[11]!, m); // the entry came from BfRecipient after the failure
      expect(n.recipient).toBe(1);
      // an encryption to the new peer issued while a failing fused call holds its pending entry
      // gets the entry from BfRecipient, not the decryption's error
      const failing = ctx.decryptWith(keys[9]!, bad, undefined, ids[0]!).catch((x: unknown) => x);
      const reply0 = ctx.encryptTo(ids[0]!, m);
      expect(await failing).toBeInstanceOf(IbeError);
      expect(hex(await sender.decryptWith(keys[0]!, await reply0))).toBe(hex(m));
      expect(n).toMatchObject({ fused: 3, recipient: 2 });
      // a key handle freed under the fused call: the separate path (recipient, then decrypt)
      failFused = new EngineError('freed', 'handle freed');
      expect(hex(await ctx.decryptWith(keys[9]!, ct, undefined, ids[4]!))).toBe(hex(m));
      expect(n).toMatchObject({ fused: 4, recipient: 3, decrypt: 2 });
      failFused = undefined;
      // a context whose P_pub is bad still decrypts; the peer's entry reports P_pub's reason
      const ident1 = new Uint8Array(48);
      ident1[0] = 0xc0;
      const badCtx = new BlsContext(c, ident1);
      try {
        expect(hex(await badCtx.decryptWith(keys[9]!, ct, undefined, ids[3]!))).toBe(hex(m));
        const e2 = await badCtx.encryptTo(ids[3]!, m).catch((x: unknown) => x);
        expect(e2).toBeInstanceOf(EngineError);
        expect((e2 as EngineError).reason).toBe(await reason(core.recipient(ident1, ids[3]!, new TextEncoder().encode(DST))));
      } finally {
        badCtx.close();
      }
    } finally {
      ctx.close();
      sender.close();
    }
  });

  it('BfDecryptEncrypt = BfDecrypt, then BfEncrypt (same rho) of the reply with the echoed octets spliced in; the decryption\'s verdict', async () => {
    const { Ppub, ids, keys } = await setup();
    const fused = core.decryptEncrypt!;
    expect(fused).toBeTypeOf('function');
    const ctx = new BlsContext(e, Ppub);
    const prep = await e.g2Prepare(keys[2]!);
    const table = await e.gtFixedBase((await ctx.recipient(ids[3]!)).gId!);
    try {
      for (let i = 0; i < 8; i++) {
        const m = randomBytes(70 + 17 * i);
        const c = parseCiphertextBls(await ctx.encryptTo(ids[2]!, m));
        const reply = randomBytes(60 + 13 * i);
        const n = 1 + ((i * 29) % 60);
        const splice = { from: (i * 11) % (m.length - n + 1), to: (i * 7) % (reply.length - n + 1), n };
        const rho = randomBytes(32);
        const out = await fused(prep, c, table, reply, rho, splice);
        expect(hex(out.m)).toBe(hex(m));
        const spliced = Uint8Array.from(reply);
        spliced.set(m.subarray(splice.from, splice.from + n), splice.to);
        const want = await core.encryptWithTable(table, spliced, rho);
        expect(out.reply).toBeDefined();
        expect(hex(encodeCoreCiphertext(out.reply!))).toBe(hex(encodeCoreCiphertext(want)));
        // and the peer reads the spliced reply (reference decryption)
        expect(hex(await decryptBls(e, keys[3]!, encodeCoreCiphertext(out.reply!)))).toBe(hex(spliced));
      }
      const m = randomBytes(40);
      const c = parseCiphertextBls(await ctx.encryptTo(ids[2]!, m));
      const rho = randomBytes(32);
      const reply = randomBytes(30);
      // a plaintext too short for the splice: M alone (the caller encrypts itself)
      for (const sp of [{ from: 30, to: 0, n: 11 }, { from: 40, to: 0, n: 1 }, { from: 0xffffffff, to: 0, n: 1 }]) {
        const out = await fused(prep, c, table, reply, rho, sp);
        expect(hex(out.m)).toBe(hex(m));
        expect(out.reply).toBeUndefined();
      }
      // the ciphertext's rejection is the op's, as BfDecrypt gives it
      const flip = (b: Uint8Array, i: number) => Uint8Array.from(b, (v, k) => (k === i ? v ^ 1 : v));
      const ok = { from: 0, to: 0, n: 4 };
      for (const bc of [{ ...c, v: flip(c.v, 3) }, { ...c, w: flip(c.w, 0) }, { ...c, u: flip(c.u, 95) }, { ...c, u: c.u.subarray(1) }]) {
        const want = await reason(core.decrypt(prep, bc.u, bc.v, bc.w));
        expect(want).not.toBe('accepted');
        expect(await reason(fused(prep, bc, table, reply, rho, ok))).toBe(want);
      }
      // the reply's arguments are checked first, as BfEncrypt checks M and rho
      expect(await reason(fused(prep, c, table, reply, rho.subarray(1), ok))).toBe('length');
      expect(await reason(fused(prep, c, table, new Uint8Array(0), rho, ok))).toBe('length');
      expect(await reason(fused(prep, c, table, 'x' as never, rho, ok))).toBe('type');
      expect(await reason(fused(prep, c, table, reply, rho, { from: 0, to: 0, n: 0 }))).toBe('length');
      expect(await reason(fused(prep, c, table, reply, rho, { from: 0, to: 27, n: 4 }))).toBe('length');
      expect(await reason(fused(prep, c, table, reply, rho, { from: 0, to: 0, n: -1 }))).toBe('length');
      expect(await reason(fused(prep, c, table, reply, rho, { from: 0.5, to: 0, n: 1 }))).toBe('length');
      // handles: of the wrong kind, not this engine's, freed
      expect(await reason(fused(prep, c, prep as never, reply, rho, ok))).toBe('type');
      expect(await reason(fused(table as never, c, table, reply, rho, ok))).toBe('type');
      expect(await reason(fused(prep, c, {} as never, reply, rho, ok))).toBe('type');
      const t2 = await e.gtFixedBase((await ctx.recipient(ids[4]!)).gId!);
      t2.free();
      expect(await reason(fused(prep, c, t2, reply, rho, ok))).toBe('freed');
      prep.free();
      expect(await reason(fused(prep, c, table, reply, rho, ok))).toBe('freed');
    } finally {
      prep.free();
      table.free();
      ctx.close();
    }
  });

  it('a context decrypts and encrypts the reply in one engine call for a repeat peer only, and falls back without losing the plaintext', async () => {
    const { Ppub, ids, keys } = await setup();
    const n = { fused: 0, decrypt: 0, recipient: 0, withRecipient: 0 };
    let failFused: EngineError | undefined;
    const counted: BfCore = {
      ...core,
      decrypt: (k, u, v, w) => (n.decrypt++, core.decrypt(k, u, v, w)),
      recipient: (P, id, dst) => (n.recipient++, core.recipient(P, id, dst)),
      decryptWithRecipient: (k, ct, r) => (n.withRecipient++, core.decryptWithRecipient!(k, ct, r)),
      decryptEncrypt: (k, ct, t, reply, rho, sp) => (n.fused++, failFused ? Promise.reject(failFused) : core.decryptEncrypt!(k, ct, t, reply, rho, sp)),
    };
    const c: Engine = Object.create(e);
    Object.defineProperty(c, 'bfCore', { value: counted });
    const sender = new BlsContext(e, Ppub);
    const ctx = new BlsContext(c, Ppub);
    try {
      const m = new TextEncoder().encode('....the point xP....');
      const reply = new TextEncoder().encode('reply echoing [' + ' '.repeat(9) + '] here');
      const sp = { from: 8, to: 15, n: 9 };
      const want = new TextEncoder().encode('reply echoing [point xP.] here');
      const ct = await sender.encryptTo(ids[5]!, m);
      // a new peer: no table, so the decryption with the peer's entry made beside it; no reply
      let out = await ctx.decryptThenEncrypt(keys[5]!, ct, undefined, ids[6]!, reply, sp);
      expect(hex(out.m)).toBe(hex(m));
      expect(out.reply).toBeUndefined();
      expect(n).toEqual({ fused: 0, decrypt: 0, recipient: 0, withRecipient: 1 });
      // a repeat peer (table built after TABLE_AFTER uses): one call gives both
      for (let i = 0; i < 3; i++) await ctx.encryptTo(ids[6]!, m);
      await ctx.settle();
      expect((await ctx.recipient(ids[6]!)).table).toBeDefined();
      out = await ctx.decryptThenEncrypt(keys[5]!, ct, undefined, ids[6]!, reply, sp);
      expect(hex(out.m)).toBe(hex(m));
      expect(hex(await sender.decryptWith(keys[6]!, out.reply!))).toBe(hex(want));
      expect(n).toMatchObject({ fused: 1, decrypt: 0 });
      // a tampered ciphertext: the uniform failure
      const bad = Uint8Array.from(ct, (v, i) => (i === ct.length - 1 ? v ^ 1 : v));
      expect(await ibeCode(ctx.decryptThenEncrypt(keys[5]!, bad, undefined, ids[6]!, reply, sp))).toBe('IBE_DECRYPT_FAILED');
      expect(n.fused).toBe(2);
      // a handle freed under the call: the plaintext from the separate path, no reply
      failFused = new EngineError('freed', 'handle freed');
      out = await ctx.decryptThenEncrypt(keys[5]!, ct, undefined, ids[6]!, reply, sp);
      expect(hex(out.m)).toBe(hex(m));
      expect(out.reply).toBeUndefined();
      expect(n).toMatchObject({ fused: 3, decrypt: 1 });
      failFused = undefined;
      // a bad splice is the caller's bug: thrown before any engine call
      await expect(ctx.decryptThenEncrypt(keys[5]!, ct, undefined, ids[6]!, reply, { from: 0, to: 25, n: 9 })).rejects.toThrow(RangeError);
      await expect(ctx.decryptThenEncrypt(keys[5]!, ct, undefined, ids[6]!, reply, { from: 0, to: 0, n: 0 })).rejects.toThrow(RangeError);
      // also for a peer without a table (the path that only decrypts)
      await expect(ctx.decryptThenEncrypt(keys[5]!, ct, undefined, ids[11]!, reply, { from: 0, to: 0, n: 0 })).rejects.toThrow(RangeError);
      expect(n).toMatchObject({ fused: 3, decrypt: 1, withRecipient: 1 });
    } finally {
      ctx.close();
      sender.close();
    }
  });

  it('a context does not hold a decryption back for a reply entry still being computed', async () => {
    const { Ppub, ids, keys } = await setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let fused = 0;
    const gated: BfCore = {
      ...core,
      recipient: async (P, id, dst) => {
        await gate;
        return core.recipient(P, id, dst);
      },
      decryptEncrypt: (k, ct, t, reply, rho, sp) => (fused++, core.decryptEncrypt!(k, ct, t, reply, rho, sp)),
    };
    const c: Engine = Object.create(e);
    Object.defineProperty(c, 'bfCore', { value: gated });
    const sender = new BlsContext(e, Ppub);
    const ctx = new BlsContext(c, Ppub);
    try {
      const m = new TextEncoder().encode('plaintext with an echo');
      const ct = await sender.encryptTo(ids[9]!, m);
      const pending = ctx.recipient(ids[10]!); // e.g. IbePort.prepare() just before the decryption
      const out = await ctx.decryptThenEncrypt(keys[9]!, ct, undefined, ids[10]!, new Uint8Array(30), { from: 0, to: 0, n: 4 });
      expect(hex(out.m)).toBe(hex(m));
      expect(out.reply).toBeUndefined();
      expect(fused).toBe(0);
      release();
      await pending;
    } finally {
      release();
      ctx.close();
      sender.close();
    }
  });
});
