// bls12381-bf on the engine (ts always; other available engines cross-checked bit for bit):
// round trip (fast-check), every field of the DER ciphertext tamper-checked by single bit
// flips (uniform IBE_DECRYPT_FAILED), keys of another identity/period rejected, client key
// check, cached path == uncached path, invalid U (off curve, outside G1), strict DER.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.js';
import { derDecode, derEncode, type DerNode } from '../src/ibe/der.js';
import { decodeCiphertext, encodeCiphertext } from '../src/ibe/ciphertext.js';
import { DST, decryptBls, encryptBlsWithRho, extractBls, FP, hashIdentity } from '../src/ibe/bls12381/bf.js';
import { Lru } from '../src/ibe/lru.js';
import {
  createContext,
  decrypt,
  encrypt,
  extract,
  identityBytes,
  setup,
  verifyPrivateKey,
  type IbeContext,
  type SuiteParams,
} from '../src/ibe/index.js';
import { availableEngines, loadEngine } from './helpers/engines.js';
import { errorCode } from './helpers/outcome.js';

const ALICE = identityBytes('sip:alice@example.org', '2026-11-17', 'month');
const ALICE_DEC = identityBytes('sip:alice@example.org', '2026-12-03', 'month');
const BOB = identityBytes('sip:bob@example.org', '2026-11-17', 'month');

let engine: Engine;
let params: SuiteParams;
let master: Uint8Array;
let keyAlice: Uint8Array;
let ctx: IbeContext;

beforeAll(async () => {
  engine = (await loadEngine('ts'))!;
  ({ master, params } = await setup('bls12381-bf', engine));
  keyAlice = await extract(master, params, ALICE, engine);
  ctx = await createContext(params, engine);
});

describe('bls12381-bf', () => {
  it('setup/extract sizes and the client key check e(P, S) == e(P_pub, Q)', async () => {
    expect(master.length).toBe(32);
    expect(params.suite === 'bls12381-bf' && params.Ppub.length).toBe(48);
    expect(keyAlice.length).toBe(96);
    expect(await verifyPrivateKey(params, ALICE, keyAlice, engine)).toBe(true);
    expect(await ctx.verifyPrivateKey(ALICE, keyAlice)).toBe(true);
    expect(await verifyPrivateKey(params, BOB, keyAlice, engine)).toBe(false);
    expect(await verifyPrivateKey(params, ALICE_DEC, keyAlice, engine)).toBe(false);
    expect(await errorCode(verifyPrivateKey(params, ALICE, keyAlice.subarray(1), engine))).toBe('IBE_BAD_KEY');
  });

  it('decrypt(encrypt(m)) = m (fast-check, cached path)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (m) => {
        const ct = await ctx.encryptTo(ALICE, m);
        expect(await ctx.decryptWith(keyAlice, ct)).toEqual(m);
      }),
      { numRuns: 8 },
    );
  });

  it('the one-shot API round-trips and checks key ownership', async () => {
    const m = new TextEncoder().encode('IDRi || ECCPTi || IDRr');
    const ct = await encrypt(params, ALICE, m, engine);
    expect(await decrypt(params, ALICE, keyAlice, ct, engine)).toEqual(m);
    expect(await errorCode(decrypt(params, BOB, keyAlice, ct, engine))).toBe('IBE_BAD_KEY');
  });

  it('cached path == uncached path, bit for bit (same rho); uncached decrypt agrees', async () => {
    const rho = randomBytes(32);
    const m = randomBytes(77);
    const ct1 = await encryptBlsWithRho(engine, (params as { Ppub: Uint8Array }).Ppub, BOB, m, rho);
    const ct2 = await ctx.encryptToWithRho(BOB, m, rho);
    expect(Buffer.from(ct2).equals(Buffer.from(ct1))).toBe(true);
    const keyBob = await extract(master, params, BOB, engine);
    expect(await decryptBls(engine, keyBob, ct1)).toEqual(new Uint8Array(m));
    expect(await ctx.decryptWith(keyBob, ct1)).toEqual(new Uint8Array(m));
    // and a second cached encryption with a different rho differs (randomised)
    expect(Buffer.from(await ctx.encryptTo(BOB, m)).equals(Buffer.from(ct1))).toBe(false);
  });

  it('other engines produce the identical ciphertext for the same rho', async () => {
    const rho = randomBytes(32);
    const m = randomBytes(40);
    const ref = await encryptBlsWithRho(engine, (params as { Ppub: Uint8Array }).Ppub, ALICE, m, rho);
    for (const e of await availableEngines()) {
      if (e.name === 'ts') continue;
      const c = await createContext(params, e);
      expect(Buffer.from(await c.encryptToWithRho(ALICE, m, rho)).toString('hex'), e.name).toBe(Buffer.from(ref).toString('hex'));
      expect(await c.decryptWith(keyAlice, ref), e.name).toEqual(new Uint8Array(m));
      c.close();
    }
  });

  it('every field of the DER ciphertext: any single bit flip is rejected with IBE_DECRYPT_FAILED', async () => {
    const m = randomBytes(24);
    const ct = await ctx.encryptTo(ALICE, m);
    const d = decodeCiphertext(ct);
    expect(d.v.length).toBe(32);
    // stride 11 bits hits every field (header, version, FpPoint x and y, V, W) several times
    const bits: number[] = [];
    for (let b = 0; b < ct.length * 8; b += 11) bits.push(b);
    bits.push(ct.length * 8 - 1, 0, 7, 15);
    for (const bit of bits) {
      const t = Uint8Array.from(ct);
      t[bit >> 3]! ^= 1 << (7 - (bit & 7));
      expect(await errorCode(ctx.decryptWith(keyAlice, t)), `bit ${bit}`).toBe('IBE_DECRYPT_FAILED');
    }
    // truncation and extension
    expect(await errorCode(ctx.decryptWith(keyAlice, ct.subarray(0, ct.length - 1)))).toBe('IBE_DECRYPT_FAILED');
    expect(await errorCode(ctx.decryptWith(keyAlice, Buffer.concat([ct, Buffer.from([0])])))).toBe('IBE_DECRYPT_FAILED');
    expect(await ctx.decryptWith(keyAlice, ct)).toEqual(new Uint8Array(m));
  });

  it('a key for another identity or another period does not decrypt', async () => {
    const ct = await ctx.encryptTo(ALICE, randomBytes(16));
    const keyBob = await extract(master, params, BOB, engine);
    const keyAliceDec = await extract(master, params, ALICE_DEC, engine);
    expect(await errorCode(ctx.decryptWith(keyBob, ct))).toBe('IBE_DECRYPT_FAILED');
    expect(await errorCode(ctx.decryptWith(keyAliceDec, ct))).toBe('IBE_DECRYPT_FAILED');
    // a key from another master (another KMS) neither
    const other = await setup('bls12381-bf', engine);
    const keyOther = await extract(other.master, other.params, ALICE, engine);
    expect(await errorCode(ctx.decryptWith(keyOther, ct))).toBe('IBE_DECRYPT_FAILED');
  });

  it('U off the curve, outside G1, the identity, or >= p is rejected', async () => {
    const ct = decodeCiphertext(await ctx.encryptTo(ALICE, randomBytes(8)));
    const sqrt = (a: bigint) => {
      let r = 1n;
      let b = a % FP;
      let e = (FP + 1n) / 4n;
      while (e > 0n) {
        if (e & 1n) r = (r * b) % FP;
        b = (b * b) % FP;
        e >>= 1n;
      }
      return (r * r) % FP === a % FP ? r : null;
    };
    let x = 1n;
    let y: bigint | null = null;
    for (; ; x++) {
      y = sqrt(x * x * x + 4n);
      if (y !== null) break;
    }
    const cases: Array<[bigint, bigint]> = [
      [x, y!], // on E(Fp) but (overwhelmingly) not in the order-r subgroup
      [ct.ux, (ct.uy + 1n) % FP], // off the curve
      [0n, 0n], // would be the identity
      [ct.ux + FP, ct.uy], // x >= p
    ];
    for (const [ux, uy] of cases) {
      const bad = encodeCiphertext({ ...ct, ux, uy });
      expect(await errorCode(ctx.decryptWith(keyAlice, bad))).toBe('IBE_DECRYPT_FAILED');
    }
    // V of the wrong length, empty W
    expect(await errorCode(ctx.decryptWith(keyAlice, encodeCiphertext({ ...ct, v: ct.v.subarray(1) })))).toBe('IBE_DECRYPT_FAILED');
    expect(await errorCode(ctx.decryptWith(keyAlice, encodeCiphertext({ ...ct, w: new Uint8Array(0) })))).toBe('IBE_DECRYPT_FAILED');
  });

  it('plaintext bounds and malformed keys are typed errors', async () => {
    expect(await errorCode(ctx.encryptTo(ALICE, new Uint8Array(0)))).toBe('IBE_BAD_INPUT');
    expect(await errorCode(ctx.decryptWith(new Uint8Array(96), await ctx.encryptTo(ALICE, new Uint8Array(1))))).toBe('IBE_BAD_KEY');
  });

  it('bounded caches: recipients evicted (handles freed) and recomputed transparently', async () => {
    const small = await createContext(params, engine, { recipients: 1, keys: 1 });
    const m = new Uint8Array([1, 2, 3]);
    const keyBob = await extract(master, params, BOB, engine);
    for (const [id, key] of [[ALICE, keyAlice], [BOB, keyBob], [ALICE, keyAlice]] as const) {
      expect(await small.decryptWith(key, await small.encryptTo(id, m))).toEqual(m);
    }
    small.close();
    await expect(small.encryptTo(ALICE, m)).rejects.toThrow(/close/);
    const evicted: string[] = [];
    const lru = new Lru<string, number>(2, (_v, k) => evicted.push(k));
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.set('c', 3);
    expect(evicted).toEqual(['b']);
    lru.clear();
    expect(evicted.sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('bls12381-bf known-answer vector (test/fixtures/ibe-bls12381-bf-kat.json) on every engine', () => {
  const kat = JSON.parse(readFileSync(new URL('./fixtures/ibe-bls12381-bf-kat.json', import.meta.url), 'utf8'));
  const hx = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const bin = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
  it('every engine reproduces P_pub, Q_ID, S_ID, g_ID and the ciphertext, and decrypts it', async () => {
    expect(kat.dst).toBe(DST);
    const engines = await availableEngines();
    expect(engines.map((e) => e.name)).toContain('ts');
    for (const e of engines) {
      const s = bin(kat.master_s);
      const id = bin(kat.id_hex);
      const Ppub = await e.g1Mul(e.g1Generator(), s);
      expect(hx(Ppub), e.name).toBe(kat.Ppub);
      const q = await hashIdentity(e, id);
      expect(hx(q), e.name).toBe(kat.Q_id);
      expect(hx(await extractBls(e, s, id)), e.name).toBe(kat.S_id);
      expect(hx(await e.pairing(Ppub, q)), e.name).toBe(kat.g_id);
      expect(hx(await encryptBlsWithRho(e, Ppub, id, bin(kat.m_hex), bin(kat.rho))), e.name).toBe(kat.ciphertext_der);
      expect(hx(await decryptBls(e, bin(kat.S_id), bin(kat.ciphertext_der))), e.name).toBe(kat.m_hex);
    }
  });
});

describe('strict DER', () => {
  const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/ /g, ''), 'hex'));
  it('round-trips arbitrary structures (fast-check)', () => {
    const leaf: fc.Arbitrary<DerNode> = fc.oneof(
      fc.bigInt({ min: 0n, max: 1n << 400n }).map((value) => ({ kind: 'int', value }) as DerNode),
      fc.uint8Array({ maxLength: 300 }).map((value) => ({ kind: 'octets', value }) as DerNode),
    );
    const tree = fc.letrec<{ node: DerNode }>((tie) => ({
      node: fc.oneof({ depthSize: 'small', maxDepth: 4 }, leaf, fc.array(tie('node'), { maxLength: 4 }).map((items) => ({ kind: 'seq', items }) as DerNode)),
    })).node;
    fc.assert(
      fc.property(tree, (n) => {
        const enc = derEncode(n);
        expect(derEncode(derDecode(enc))).toEqual(enc);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects non-DER encodings', () => {
    const bad = [
      '30 81 03 02 01 02', // non-minimal long-form length
      '30 80 02 01 02 00 00', // indefinite length
      '02 02 00 05', // INTEGER with a redundant leading zero
      '02 01 85', // negative INTEGER
      '02 00', // empty INTEGER
      '30 03 02 01 02 00', // trailing byte
      '30 04 02 01 02', // truncated
      '31 00', // SET (unexpected tag)
      '04 82 00 05 0102030405', // long form for a short length
    ];
    for (const b of bad) expect(() => derDecode(hex(b)), b).toThrow(expect.objectContaining({ code: 'IBE_DER' }));
    expect(derDecode(hex('02 02 00 85'))).toEqual({ kind: 'int', value: 0x85n });
    expect(derDecode(hex('06 03 2a 86 48'))).toEqual({ kind: 'oid', value: '1.2.840' });
    // BFCiphertextBlock: wrong version, missing field, extra field
    const good = { ux: 5n, uy: 7n, v: new Uint8Array(32), w: new Uint8Array(3) };
    const enc = (items: DerNode[]) => derEncode({ kind: 'seq', items });
    const pt: DerNode = { kind: 'seq', items: [{ kind: 'int', value: 5n }, { kind: 'int', value: 7n }] };
    const o = (value: Uint8Array): DerNode => ({ kind: 'octets', value });
    expect(decodeCiphertext(encodeCiphertext(good))).toEqual(good);
    for (const b of [
      enc([{ kind: 'int', value: 1n }, pt, o(good.v), o(good.w)]),
      enc([{ kind: 'int', value: 2n }, pt, o(good.v)]),
      enc([{ kind: 'int', value: 2n }, pt, o(good.v), o(good.w), o(good.w)]),
      enc([{ kind: 'int', value: 2n }, o(good.v), o(good.v), o(good.w)]),
    ]) {
      expect(() => decodeCiphertext(b)).toThrow(expect.objectContaining({ code: 'IBE_BAD_CIPHERTEXT' }));
    }
  });
});
