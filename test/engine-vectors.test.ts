// Published vectors, run on every available engine backend: RFC 9380 hash-to-G2 / hash-to-G1
// (random-oracle suites, Appendix J), expand_message_xmd (Appendix K.1, through noble's
// expander, which the ts backend uses), the CIRCL point-encoding files i·G (i = 0 … 999, both
// forms) and Wycheproof bls_hash_to_g2_test.json.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { availableEngines } from './helpers/engines.js';
import { engineReason } from './helpers/outcome.js';
import { VECTORS } from './helpers/repo.js';
import { bigintToBytes } from '../src/engine/scalar.js';
import type { Engine } from '../src/engine/types.js';

const vecDir = VECTORS;
const bls = (f: string): string => path.join(vecDir, 'bls12-381', f);
const json = (p: string): any => JSON.parse(readFileSync(p, 'utf8'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const fpHex = (s: string): string => bigintToBytes(BigInt(s.trim()), 48).reduce((a, x) => a + x.toString(16).padStart(2, '0'), '');

const engines = await availableEngines();

/** Uncompressed ZCash bytes from an RFC 9380 JSON point (G2 coordinates listed "c0,c1"). */
function uncompressedFromJson(pt: { x: string; y: string }, g2: boolean): Uint8Array {
  if (!g2) return unhex(fpHex(pt.x) + fpHex(pt.y));
  const [x0, x1] = pt.x.split(',');
  const [y0, y1] = pt.y.split(',');
  return unhex(fpHex(x1!) + fpHex(x0!) + fpHex(y1!) + fpHex(y0!));
}

/** Splits a .dat file of fixed-size encodings into its 1000 entries (i = 0 … 999). */
function datEntries(file: string, size: number): Uint8Array[] {
  const all = new Uint8Array(readFileSync(bls(file)));
  expect(all.length).toBe(1000 * size);
  const out: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) out.push(all.subarray(i * size, (i + 1) * size));
  return out;
}

const scalar = (i: number): Uint8Array => bigintToBytes(BigInt(i), 32);

describe('expand_message_xmd (RFC 9380 K.1) through the expander the ts backend uses', () => {
  for (const f of ['expand_message_xmd_SHA256_38.json', 'expand_message_xmd_SHA256_256.json']) {
    it(f, () => {
      const v = json(bls(f));
      expect(v.tests.length).toBeGreaterThan(0);
      for (const t of v.tests) {
        const out = expand_message_xmd(new TextEncoder().encode(t.msg), v.DST, Number(t.len_in_bytes), sha256);
        expect(hex(out)).toBe(t.uniform_bytes);
      }
    });
  }
});

describe.each(engines.map((e) => [e.name, e] as [string, Engine]))('%s engine: vectors', (_name, engine) => {
  for (const [file, g2] of [
    ['BLS12381G2_XMD-SHA-256_SSWU_RO_.json', true],
    ['BLS12381G1_XMD-SHA-256_SSWU_RO_.json', false],
  ] as const) {
    it(`RFC 9380 ${file}`, async () => {
      const v = json(bls(file));
      expect(v.randomOracle).toBe(true);
      expect(v.vectors.length).toBe(5);
      for (const t of v.vectors) {
        const msg = new TextEncoder().encode(t.msg);
        const got = g2 ? await engine.hashToG2(msg, v.dst) : await engine.hashToG1(msg, v.dst);
        const want = uncompressedFromJson(t.P, g2);
        // the engine's compressed output, re-encoded uncompressed, is the published point …
        const asUncompressed = g2 ? await engine.g2Encode(got, 'uncompressed') : await engine.g1Encode(got, 'uncompressed');
        expect(hex(asUncompressed)).toBe(hex(want));
        // … and the published point, compressed by the engine, is the engine's output
        const compressed = g2 ? await engine.g2Encode(want) : await engine.g1Encode(want);
        expect(hex(compressed)).toBe(hex(got));
        // DST given as octets gives the same point
        const dstBytes = new TextEncoder().encode(v.dst);
        const again = g2 ? await engine.hashToG2(msg, dstBytes) : await engine.hashToG1(msg, dstBytes);
        expect(hex(again)).toBe(hex(got));
      }
    });
  }

  it('Wycheproof bls_hash_to_g2_test.json', async () => {
    const w = json(path.join(vecDir, 'wycheproof', 'bls_hash_to_g2_test.json'));
    let n = 0;
    for (const g of w.testGroups) {
      for (const t of g.tests) {
        const got = await engine.hashToG2(unhex(t.msg), g.dst);
        if (t.result === 'valid') expect(hex(got), `tcId ${t.tcId}`).toBe(t.expected);
        else expect(hex(got), `tcId ${t.tcId}`).not.toBe(t.expected);
        n++;
      }
    }
    expect(n).toBe(w.numberOfTests);
  });

  it('generators are entry 1 of the i·G files', () => {
    expect(hex(engine.g1Generator())).toBe(hex(datEntries('g1_compressed_valid_test_vectors.dat', 48)[1]!));
    expect(hex(engine.g2Generator())).toBe(hex(datEntries('g2_compressed_valid_test_vectors.dat', 96)[1]!));
  });

  // i·G for every i: the multiplication and both encodings. The ts backend is slow (every
  // decode is a full subgroup check), so there a fixed subset: all i < 48 and every 8th i.
  for (const [grp, clen] of [
    ['g1', 48],
    ['g2', 96],
  ] as const) {
    it(`${grp} i·G, i = 0 … 999, compressed and uncompressed`, async () => {
      const comp = datEntries(`${grp}_compressed_valid_test_vectors.dat`, clen);
      const unc = datEntries(`${grp}_uncompressed_valid_test_vectors.dat`, 2 * clen);
      const gen = grp === 'g1' ? engine.g1Generator() : engine.g2Generator();
      const mul = (p: Uint8Array, k: Uint8Array) => (grp === 'g1' ? engine.g1Mul(p, k) : engine.g2Mul(p, k));
      const enc = (p: Uint8Array, f?: 'compressed' | 'uncompressed') =>
        grp === 'g1' ? engine.g1Encode(p, f) : engine.g2Encode(p, f);
      // i = 0: the canonical identity encodings, refused as 'identity'
      expect(await engineReason(enc(comp[0]!))).toBe('identity');
      expect(await engineReason(enc(unc[0]!))).toBe('identity');
      let checked = 0;
      for (let i = 1; i < 1000; i++) {
        if (engine.name === 'ts' && !(i < 48 || i % 8 === 0)) continue;
        const p = await mul(gen, scalar(i));
        expect(hex(p), `${i}·G`).toBe(hex(comp[i]!));
        expect(hex(await enc(comp[i]!, 'uncompressed')), `${i}·G uncompressed`).toBe(hex(unc[i]!));
        expect(hex(await enc(unc[i]!)), `${i}·G compressed`).toBe(hex(comp[i]!));
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(160);
    });
  }
});
