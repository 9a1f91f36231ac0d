// Cross-engine identity: the same random inputs through every available backend (ts, wasm,
// native) must give bit-identical bytes for every operation and encoding, and the same
// EngineError reason for every invalid input. The backends are independent implementations
// (@noble/curves, herumi/mcl, blst), so agreement is the check; the ts backend is the reference.
//
// CROSS_CASES (default 200) sets the number of cases per operation; CROSS_SEED reproduces a run
// (the seed is printed in the suite name). Inputs are generated cheaply with the fastest engine
// (hash to curve of random messages, pairings of those), then every engine is compared on them.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { availableEngines } from './helpers/engines.js';
import { EngineError } from '../src/engine/errors.js';
import { P as FIELD_P } from '../src/engine/encoding.js';
import { R, bigintToBytes, bytesToBigint } from '../src/engine/scalar.js';
import type { Bytes, Engine, G1Table, G2Prepared, GTTable } from '../src/engine/types.js';

const N = Math.max(1, Number(process.env.CROSS_CASES ?? 200));
const SEED = process.env.CROSS_SEED ?? createHash('sha256').update(String(Date.now()) + Math.random()).digest('hex').slice(0, 16);
const engines = await availableEngines();
const names = engines.map((e) => e.name).join(',');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// ---- deterministic test randomness (SHA-256 in counter mode over the seed; not for secrets) --
let ctr = 0;
function rbytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 32) {
    const h = createHash('sha256').update(`${SEED}/${ctr++}`).digest();
    out.set(h.subarray(0, Math.min(32, n - off)), off);
  }
  return out;
}
/** Uniform-enough integer in [0, n) (n >= 1). */
const rint = (n: number): number => Number(bytesToBigint(rbytes(6)) % BigInt(Math.max(1, n)));
const rbit = (): boolean => (rbytes(1)[0]! & 1) === 1;

const EDGE_SCALARS = [1n, 2n, 3n, R - 1n, R - 2n, 1n << 64n, 0xd201000000010000n, (1n << 254n) + 12345n, R >> 1n, (R >> 1n) + 1n];
function scalarAt(i: number): Uint8Array {
  if (i < EDGE_SCALARS.length) return bigintToBytes(EDGE_SCALARS[i]!, 32);
  const v = bytesToBigint(rbytes(48)) % R;
  return bigintToBytes(v === 0n ? 1n : v, 32);
}
const randomFp = (): bigint => bytesToBigint(rbytes(64)) % FIELD_P;
const fp12Bytes = (c: bigint[]): Uint8Array => {
  const out = new Uint8Array(576);
  c.forEach((v, i) => out.set(bigintToBytes(v, 48), i * 48));
  return out;
};

// ---- outcomes --------------------------------------------------------------------------------
/** 'ok:<hex>' or 'err:<reason>'; anything that is not an EngineError is a bug. */
async function outcome(p: Promise<Bytes | void>): Promise<string> {
  try {
    const v = await p;
    return v === undefined ? 'ok' : `ok:${hex(v)}`;
  } catch (e) {
    if (!(e instanceof EngineError)) throw new Error(`non-EngineError thrown: ${(e as Error)?.stack ?? String(e)}`);
    return `err:${e.reason}`;
  }
}

/** Runs op on every engine; expects identical outcomes; returns the reference outcome. */
async function same(label: string, op: (e: Engine, i: number) => Promise<Bytes | void>): Promise<string> {
  const out: string[] = [];
  for (let i = 0; i < engines.length; i++) out.push(await outcome(op(engines[i]!, i)));
  for (let i = 1; i < out.length; i++) {
    expect(out[i], `${label}: ${engines[i]!.name} vs ${engines[0]!.name} (seed ${SEED})`).toBe(out[0]);
  }
  return out[0]!;
}

// ---- inputs, generated once with the fastest engine --------------------------------------------
const fast = engines[engines.length - 1]!; // availableEngines order is ts, wasm, native
const te = new TextEncoder();

interface Case {
  msg: Uint8Array;
  dst: Uint8Array | string;
  p: Uint8Array; // G1, compressed
  pu: Uint8Array; // G1, uncompressed
  q: Uint8Array;
  qu: Uint8Array;
  e: Uint8Array; // GT = e(p, q)
  k: Uint8Array;
}

async function makeCases(): Promise<Case[]> {
  const cases: Case[] = [];
  for (let i = 0; i < N; i++) {
    const msg = rbytes(rint(80));
    const dlen = 1 + rint(i % 10 === 0 ? 255 : 60);
    const dst: Uint8Array | string = rbit() ? `IBAKED-CROSS-${i}-${hex(rbytes(4))}` : rbytes(dlen);
    const p = await fast.hashToG1(msg, dst);
    const q = await fast.hashToG2(msg, dst);
    cases.push({
      msg,
      dst,
      p,
      pu: await fast.g1Encode(p, 'uncompressed'),
      q,
      qu: await fast.g2Encode(q, 'uncompressed'),
      e: await fast.pairing(p, q),
      k: scalarAt(i),
    });
  }
  return cases;
}

const pick = <T>(a: T, b: T): T => (rbit() ? a : b);

const cases = engines.length >= 2 ? await makeCases() : [];

describe.runIf(engines.length >= 2)(`cross-engine identity [${names}] (${N} cases, seed ${SEED})`, () => {
  const g1gen = engines[0]!.g1Generator();
  const g2gen = engines[0]!.g2Generator();

  it('generators', async () => {
    await same('g1Generator', async (e) => e.g1Generator());
    await same('g2Generator', async (e) => e.g2Generator());
  });

  it('hashToG1 / hashToG2 (random messages and DSTs)', async () => {
    for (const [i, c] of cases.entries()) {
      await same(`hashToG1 #${i}`, (e) => e.hashToG1(c.msg, c.dst));
      await same(`hashToG2 #${i}`, (e) => e.hashToG2(c.msg, c.dst));
    }
    for (const n of [0, 255, 256, 100_000, 1 << 21]) {
      const msg = rbytes(n);
      await same(`hashToG1 (${n}-octet message)`, (e) => e.hashToG1(msg, 'LONG'));
      await same(`hashToG2 (${n}-octet message)`, (e) => e.hashToG2(msg, new Uint8Array(255).fill(7)));
    }
  });

  it('g1Encode / g2Encode, both input forms to both output forms', async () => {
    for (const [i, c] of cases.entries()) {
      for (const [inp, form] of [
        [c.p, 'compressed'],
        [c.pu, 'uncompressed'],
        [c.pu, 'compressed'],
        [c.p, 'uncompressed'],
      ] as const) {
        expect(await same(`g1Encode #${i} ${form}`, (e) => e.g1Encode(inp, form))).toMatch(/^ok:/);
      }
      for (const [inp, form] of [
        [c.q, 'compressed'],
        [c.qu, 'uncompressed'],
        [c.qu, 'compressed'],
        [c.q, undefined],
      ] as const) {
        expect(await same(`g2Encode #${i} ${form}`, (e) => e.g2Encode(inp, form))).toMatch(/^ok:/);
      }
    }
  });

  it('g1Mul / g2Mul (either input form, edge and random scalars)', async () => {
    for (const [i, c] of cases.entries()) {
      const p = pick(c.p, c.pu);
      const q = pick(c.q, c.qu);
      await same(`g1Mul #${i}`, (e) => e.g1Mul(p, c.k));
      await same(`g2Mul #${i}`, (e) => e.g2Mul(q, c.k));
    }
  });

  it('g1Add / g2Add, including doubling and P + (-P) = identity', async () => {
    for (const [i, c] of cases.entries()) {
      const j = (i + 1) % cases.length;
      let [a1, b1, a2, b2] = [pick(c.p, c.pu), pick(cases[j]!.p, cases[j]!.pu), pick(c.q, c.qu), cases[j]!.q];
      if (i % 10 === 1) [b1, b2] = [c.pu, c.qu]; // doubling
      if (i % 10 === 2) {
        const minus = bigintToBytes(R - 1n, 32);
        b1 = await fast.g1Mul(c.p, minus);
        b2 = await fast.g2Mul(c.q, minus);
      }
      const r1 = await same(`g1Add #${i}`, (e) => e.g1Add(a1, b1));
      const r2 = await same(`g2Add #${i}`, (e) => e.g2Add(a2, b2));
      if (i % 10 === 2) {
        expect(r1).toBe(`ok:c0${'00'.repeat(47)}`);
        expect(r2).toBe(`ok:c0${'00'.repeat(95)}`);
      }
    }
  });

  it('pairing', async () => {
    for (const [i, c] of cases.entries()) {
      const r = await same(`pairing #${i}`, (e) => e.pairing(pick(c.p, c.pu), pick(c.q, c.qu)));
      expect(r).toBe(`ok:${hex(c.e)}`);
    }
  });

  it('millerLoop of one engine, finalExp on every engine, equals pairing', async () => {
    for (const [i, c] of cases.entries()) {
      const src = engines[i % engines.length]!;
      const ml = await src.millerLoop(c.p, c.q);
      expect(ml.length).toBe(576);
      const r = await same(`finalExp(millerLoop@${src.name}) #${i}`, (e) => e.finalExp(ml));
      expect(r).toBe(`ok:${hex(c.e)}`);
    }
  });

  it('finalExp of random Fp12 values', async () => {
    for (let i = 0; i < N; i++) {
      const f = fp12Bytes(Array.from({ length: 12 }, () => (i % 17 === 3 ? 0n : randomFp())).map((v, j) => (j === i % 12 ? randomFp() : v)));
      const r = await same(`finalExp(random) #${i}`, (e) => e.finalExp(f));
      expect(r).toMatch(/^ok:/);
    }
  });

  it('gtMul, gtPow, gtValidate on pairing values', async () => {
    for (const [i, c] of cases.entries()) {
      const other = cases[(i + 7) % cases.length]!.e;
      await same(`gtMul #${i}`, (e) => e.gtMul(c.e, other));
      await same(`gtPow #${i}`, (e) => e.gtPow(c.e, c.k));
      expect(await same(`gtValidate #${i}`, (e) => e.gtValidate(c.e))).toBe('ok');
    }
  });

  it('g1FixedBase tables: point and [k]B equal g1Mul', async () => {
    const bases = [g1gen, ...cases.slice(0, 3).map((c) => c.pu)];
    const tables: G1Table[][] = [];
    for (const b of bases) {
      tables.push(await Promise.all(engines.map((e) => e.g1FixedBase(b))));
      const pts = tables[tables.length - 1]!.map((t) => hex(t.point));
      expect(new Set(pts).size).toBe(1);
    }
    for (const [i, c] of cases.entries()) {
      const bi = i % bases.length;
      const r = await same(`g1FixedBase.mul #${i}`, (e, ei) => tables[bi]![ei]!.mul(c.k));
      expect(r).toBe(await outcome(fast.g1Mul(bases[bi]!, c.k)));
    }
    for (const row of tables) for (const t of row) t.free();
  });

  it('g2Prepare handles: pairing and millerLoop (through finalExp) equal pairing', async () => {
    const preps: G2Prepared[][] = [];
    const qs = cases.slice(0, 4).map((c) => c.qu);
    for (const q of qs) preps.push(await Promise.all(engines.map((e) => e.g2Prepare(q))));
    for (const [i, c] of cases.entries()) {
      const qi = i % qs.length;
      const want = await outcome(fast.pairing(c.p, qs[qi]!));
      expect(await same(`g2Prepared.pairing #${i}`, (e, ei) => preps[qi]![ei]!.pairing(pick(c.p, c.pu)))).toBe(want);
      const src = i % engines.length;
      const ml = await preps[qi]![src]!.millerLoop(c.p);
      expect(await same(`finalExp(prepared ML@${engines[src]!.name}) #${i}`, (e) => e.finalExp(ml))).toBe(want);
    }
    for (const row of preps) for (const h of row) h.free();
  });

  it('gtFixedBase tables: value and g^k equal gtPow', async () => {
    const gs = cases.slice(0, 3).map((c) => c.e);
    const tables: GTTable[][] = [];
    for (const g of gs) {
      tables.push(await Promise.all(engines.map((e) => e.gtFixedBase(g))));
      expect(new Set(tables[tables.length - 1]!.map((t) => hex(t.value))).size).toBe(1);
    }
    for (const [i, c] of cases.entries()) {
      const gi = i % gs.length;
      const r = await same(`gtFixedBase.pow #${i}`, (e, ei) => tables[gi]![ei]!.pow(c.k));
      expect(r).toBe(await outcome(fast.gtPow(gs[gi]!, c.k)));
    }
    for (const row of tables) for (const t of row) t.free();
  });

  // ---- invalid inputs: same reason on every engine ---------------------------------------------
  function withP(b: Uint8Array, set: (v: Uint8Array) => void): Uint8Array {
    const c = Uint8Array.from(b);
    set(c);
    return c;
  }
  const pBytes = bigintToBytes(FIELD_P, 48);

  /** Malformed G1 (g2 = false) or G2 encodings, one per case, covering every rejection step. */
  function invalidPoint(i: number, c: Case, g2: boolean): unknown {
    const comp = g2 ? c.q : c.p;
    const unc = g2 ? c.qu : c.pu;
    const clen = comp.length;
    switch (i % 14) {
      case 0: {
        const len = rint(3 * clen);
        return rbytes(len === clen || len === 2 * clen ? len + 1 : len);
      }
      case 1: return i % 28 === 1 ? Array.from(comp) : 'not bytes';
      case 2: return withP(comp, (v) => (v[0]! &= 0x7f)); // C flag cleared on the compressed length
      case 3: return withP(unc, (v) => (v[0]! |= 0x80)); // C flag set on the uncompressed length
      case 4: return withP(unc, (v) => (v[0]! |= 0x20)); // S flag on the uncompressed form
      case 5: return withP(new Uint8Array(rbit() ? clen : 2 * clen), (v) => { v[0] = (v.length === clen ? 0xc0 : 0x40) | (rbit() ? 0x20 : 0x01); v[v.length - 1] = rbit() ? 0 : 1; });
      case 6: return withP(new Uint8Array(rbit() ? clen : 2 * clen), (v) => (v[0] = v.length === clen ? 0xc0 : 0x40)); // identity
      case 7: return withP(comp, (v) => { v.set(bigintToBytes(FIELD_P + BigInt(rint(3)), 48), g2 ? 48 * rint(2) : 0); v[0]! |= 0x80; }); // coordinate >= p
      case 8: return withP(unc, (v) => v.set(pBytes, 48 * rint(unc.length / 48))); // some coordinate = p (flags dropped)
      case 9:
      case 10: return withP(rbytes(clen), (v) => (v[0] = (v[0]! & 0x1f) | 0x80 | (rbit() ? 0x20 : 0))); // random x: off curve or off subgroup
      case 11: return withP(unc, (v) => (v[v.length - 1]! ^= 1 << rint(8))); // uncompressed, y corrupted
      default: {
        // random bit flip; never the compressed form's sign flag (bit 5 of octet 0): that gives
        // the valid point -P (it did once in 384 flips of a compressed point: seed 92c0beeb7ef4fba8)
        const v = Uint8Array.from(rbit() ? comp : unc);
        const at = rint(v.length);
        let bit = rint(8);
        if (v.length === clen && at === 0 && bit === 5) bit = 4;
        v[at]! ^= 1 << bit;
        return v;
      }
    }
  }

  it('invalid G1 inputs: same reason in every operation taking G1', async () => {
    const seen = new Set<string>();
    const preps = await Promise.all(engines.map((e) => e.g2Prepare(cases[0]!.q)));
    for (const [i, c] of cases.entries()) {
      const x = invalidPoint(i, c, false) as Bytes;
      const r = await same(`g1Encode(invalid #${i})`, (e) => e.g1Encode(x));
      seen.add(r);
      expect(r, `invalid G1 #${i} ${typeof x === 'string' ? x : hex(Uint8Array.from(x as ArrayLike<number>))} was accepted`).toMatch(/^err:/);
      await same(`g1Mul(invalid #${i})`, (e) => e.g1Mul(x, c.k));
      await same(`g1Add(invalid, P) #${i}`, (e) => e.g1Add(x, c.p));
      await same(`g1Add(P, invalid) #${i}`, (e) => e.g1Add(c.p, x));
      await same(`pairing(invalid, Q) #${i}`, (e) => e.pairing(x, c.q));
      await same(`millerLoop(invalid, Q) #${i}`, (e) => e.millerLoop(x, c.q));
      await same(`g1FixedBase(invalid) #${i}`, (e) => e.g1FixedBase(x).then((t) => t.point));
      await same(`g2Prepared.pairing(invalid) #${i}`, (_e, ei) => preps[ei]!.pairing(x));
    }
    for (const h of preps) h.free();
    if (N >= 28) {
      expect([...seen].sort()).toEqual(
        ['err:identity', 'err:length', 'err:non-canonical', 'err:not-in-subgroup', 'err:not-on-curve', 'err:type'].sort(),
      );
    }
  });

  it('invalid G2 inputs: same reason in every operation taking G2', async () => {
    const seen = new Set<string>();
    for (const [i, c] of cases.entries()) {
      const x = invalidPoint(i, c, true) as Bytes;
      const r = await same(`g2Encode(invalid #${i})`, (e) => e.g2Encode(x, 'uncompressed'));
      seen.add(r);
      expect(r).toMatch(/^err:/);
      await same(`g2Mul(invalid #${i})`, (e) => e.g2Mul(x, c.k));
      await same(`g2Add(invalid, Q) #${i}`, (e) => e.g2Add(x, c.q));
      await same(`g2Add(Q, invalid) #${i}`, (e) => e.g2Add(c.qu, x));
      await same(`pairing(P, invalid) #${i}`, (e) => e.pairing(c.p, x));
      await same(`g2Prepare(invalid) #${i}`, (e) => e.g2Prepare(x).then((h) => h.point));
    }
    if (N >= 28) {
      expect([...seen].sort()).toEqual(
        ['err:identity', 'err:length', 'err:non-canonical', 'err:not-in-subgroup', 'err:not-on-curve', 'err:type'].sort(),
      );
    }
  });

  it('invalid scalars: same reason everywhere, after the point checks', async () => {
    const g1t = await Promise.all(engines.map((e) => e.g1FixedBase(g1gen)));
    const gtt = await Promise.all(engines.map((e) => e.gtFixedBase(cases[0]!.e)));
    const seen = new Set<string>();
    const fixed: unknown[] = [
      new Uint8Array(32),
      bigintToBytes(R, 32),
      bigintToBytes(R + 1n, 32),
      new Uint8Array(32).fill(0xff),
      new Uint8Array(31).fill(1),
      new Uint8Array(33).fill(1),
      [1, 2, 3],
      '01',
      undefined,
    ];
    for (let i = 0; i < N; i++) {
      const c = cases[i]!;
      // beyond the fixed list: random values in [r, 2^256)
      const k = (i < fixed.length ? fixed[i] : bigintToBytes(R + (bytesToBigint(rbytes(32)) % ((1n << 256n) - R)), 32)) as Bytes;
      seen.add(await same(`g1Mul(P, bad k #${i})`, (e) => e.g1Mul(c.p, k)));
      await same(`g2Mul(Q, bad k #${i})`, (e) => e.g2Mul(c.q, k));
      await same(`gtPow(e, bad k #${i})`, (e) => e.gtPow(c.e, k));
      await same(`g1Table.mul(bad k #${i})`, (_e, ei) => g1t[ei]!.mul(k));
      await same(`gtTable.pow(bad k #${i})`, (_e, ei) => gtt[ei]!.pow(k));
      if (i % 20 === 0) await same(`g1Mul(bad P, bad k #${i})`, (e) => e.g1Mul(c.p.subarray(1), k)); // point first
    }
    for (const t of [...g1t, ...gtt]) t.free();
    if (N >= fixed.length) expect([...seen].sort()).toEqual(['err:length', 'err:scalar-range', 'err:type']);
  });

  it('invalid GT / Fp12 inputs: same reason in every operation taking GT', async () => {
    const F12 = bls12_381.fields.Fp12;
    const seen = new Set<string>();
    for (let i = 0; i < N; i++) {
      const c = cases[i]!;
      let x: unknown;
      switch (i % 8) {
        case 0: x = fp12Bytes(Array.from({ length: 12 }, randomFp)); break; // not cyclotomic
        case 1: x = new Uint8Array(576); break; // zero
        case 2: x = withP(c.e, (v) => v.set(pBytes, 48 * rint(12))); break; // coefficient = p
        case 3: x = c.e.subarray(0, rint(576)); break;
        case 4: x = i % 16 === 4 ? 'gt' : Array.from(c.e); break;
        case 5: x = withP(c.e, (v) => (v[rint(576)]! ^= 1 << rint(8))); break; // bit flip
        case 6: { // cyclotomic but not of order r: f^((p^6-1)(p^2+1)) of a random f
          const f = F12.fromBigTwelve(Array.from({ length: 12 }, randomFp) as never);
          let g = F12.mul(F12.conjugate(f), F12.inv(f));
          g = F12.mul(F12.frobeniusMap(g, 2), g);
          x = fp12Bytes([g.c0, g.c1].flatMap((s) => [s.c0, s.c1, s.c2].flatMap((d) => [d.c0, d.c1])));
          break;
        }
        default: x = fp12Bytes([1n, ...new Array<bigint>(11).fill(0n)]); // the identity
      }
      const b = x as Bytes;
      const r = await same(`gtValidate(invalid #${i})`, (e) => e.gtValidate(b));
      seen.add(r);
      expect(r).toMatch(/^err:/);
      await same(`gtMul(x, e) #${i}`, (e) => e.gtMul(b, c.e));
      await same(`gtMul(e, x) #${i}`, (e) => e.gtMul(c.e, b));
      if (i % 8 !== 6) await same(`gtPow(x) #${i}`, (e) => e.gtPow(b, c.k)); // pow is defined on GT only
      await same(`gtFixedBase(x) #${i}`, (e) => e.gtFixedBase(b).then((t) => t.value));
      await same(`finalExp(x) #${i}`, (e) => e.finalExp(b));
    }
    if (N >= 16) {
      expect([...seen].sort()).toEqual(['err:identity', 'err:length', 'err:non-canonical', 'err:not-in-subgroup', 'err:type'].sort());
    }
  });

  it('invalid hashing and encoding arguments', async () => {
    const bad: [string, (e: Engine) => Promise<Bytes>][] = [
      ['empty DST', (e) => e.hashToG2(te.encode('m'), '')],
      ['256-octet DST', (e) => e.hashToG1(te.encode('m'), new Uint8Array(256))],
      ['DST not bytes', (e) => e.hashToG2(te.encode('m'), 7 as unknown as string)],
      ['message not bytes', (e) => e.hashToG1('m' as unknown as Uint8Array, 'D')],
      ['bad form', (e) => e.g1Encode(g1gen, 'hybrid' as 'compressed')],
      ['bad form G2', (e) => e.g2Encode(g2gen, 'x' as 'compressed')],
    ];
    for (const [label, op] of bad) expect(await same(label, op)).toMatch(/^err:/);
    expect(await same('255-octet DST', (e) => e.hashToG2(te.encode('m'), new Uint8Array(255).fill(0x41)))).toMatch(/^ok:/);
  });

  it("handles after free(): 'freed' before any argument check, free() idempotent", async () => {
    for (const e of engines) {
      const t = await e.g1FixedBase(g1gen);
      const p = await e.g2Prepare(g2gen);
      const g = await e.gtFixedBase(cases[0]!.e);
      t.free();
      p.free();
      g.free();
      t.free();
      p.free();
      g.free();
      expect(await outcome(t.mul(cases[0]!.k)), e.name).toBe('err:freed');
      expect(await outcome(t.mul(new Uint8Array(3))), e.name).toBe('err:freed');
      expect(await outcome(p.pairing(g1gen)), e.name).toBe('err:freed');
      expect(await outcome(p.millerLoop(new Uint8Array(3))), e.name).toBe('err:freed');
      expect(await outcome(g.pow(cases[0]!.k)), e.name).toBe('err:freed');
      expect(await outcome(g.pow(new Uint8Array(3))), e.name).toBe('err:freed');
    }
  });
});
