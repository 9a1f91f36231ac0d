// Public-parameter files (src/ibe/params.ts) and the master-key file (src/kms/master.ts):
// strict JSON schema, fingerprint over the canonical form, group-element validation of P_pub
// (bls12381-bf) and of p, q, P, P_pub (rfc5091-bf); master file checksum/truncation/binding;
// atomic no-clobber writes.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.js';
import { buildParams, fingerprintOf, paramsToJson, parseParams } from '../src/ibe/params.js';
import { setup, checkMaster, type IbeParams } from '../src/ibe/index.js';
import { decodeMasterFile, encodeMasterFile, initKmsDir, loadKmsDir, writeFileAtomic } from '../src/kms/master.js';
import { loadEngine } from './helpers/engines.js';
import { errorCode } from './helpers/outcome.js';

let engine: Engine;
let bls: IbeParams;
let blsMaster: Uint8Array;
const root = mkdtempSync(join(tmpdir(), 'ibe-params-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  engine = (await loadEngine('ts'))!;
  const s = await setup('bls12381-bf', engine);
  blsMaster = s.master;
  bls = buildParams('https://kms.example.org/', 'month', s.params);
});

describe('params.json', () => {
  it('round-trips through JSON with the same fingerprint', async () => {
    const text = paramsToJson(bls);
    const back = await parseParams(text, engine);
    expect(back.fingerprint).toBe(bls.fingerprint);
    expect(back).toEqual(bls);
    // the fingerprint is over the canonical form, not the whitespace
    expect(await parseParams(JSON.stringify(JSON.parse(text)), engine)).toEqual(bls);
  });

  it('fingerprint changes with every field', () => {
    const base = fingerprintOf(bls.kmsId, bls.period, bls.suite);
    expect(fingerprintOf('https://other.example.org/', bls.period, bls.suite)).not.toBe(base);
    expect(fingerprintOf(bls.kmsId, 'week', bls.suite)).not.toBe(base);
    const P2 = Uint8Array.from((bls.suite as { Ppub: Uint8Array }).Ppub);
    P2[47]! ^= 1;
    expect(fingerprintOf(bls.kmsId, bls.period, { suite: 'bls12381-bf', Ppub: P2 })).not.toBe(base);
  });

  it('rejects altered, extended, or invalid parameter files', async () => {
    const j = JSON.parse(paramsToJson(bls));
    const variants: Array<[string, unknown]> = [
      ['altered period', { ...j, period: 'day' }],
      ['altered kmsId', { ...j, kmsId: 'https://evil.example/' }],
      ['extra key', { ...j, extra: 1 }],
      ['missing key', { ...j, fingerprint: undefined }],
      ['bad version', { ...j, version: 2 }],
      ['unknown suite', { ...j, suite: 'sakke' }],
      ['uppercase hex', { ...j, params: { ...j.params, Ppub: j.params.Ppub.toUpperCase() } }],
      ['bad dst', { ...j, params: { ...j.params, dst: 'OTHER' } }],
      ['P_pub not a point', { ...j, params: { ...j.params, Ppub: 'a0' + '00'.repeat(46) + '01' } }],
      ['P_pub = identity', { ...j, params: { ...j.params, Ppub: 'c0' + '00'.repeat(47) } }],
      ['P_pub = P', { ...j, params: { ...j.params, Ppub: Buffer.from(engine.g1Generator()).toString('hex') } }],
    ];
    for (const [what, v] of variants) {
      expect(await errorCode(parseParams(JSON.stringify(v), engine)), what).toBe('IBE_BAD_PARAMS');
    }
    expect(await errorCode(parseParams('{', engine))).toBe('IBE_BAD_PARAMS');
    expect(await errorCode(parseParams('[]', engine))).toBe('IBE_BAD_PARAMS');
  });

  it('rfc5091-bf parameters are validated (primes, p mod 12, q | p+1, points of order q)', async () => {
    const s = await setup('rfc5091-bf', undefined, { rfc5091Level: 1024 });
    const p = buildParams('urn:ibaked:kms:test', 'day', s.params);
    const text = paramsToJson(p);
    expect((await parseParams(text)).fingerprint).toBe(p.fingerprint);
    await checkMaster(s.master, p);
    const j = JSON.parse(text);
    const c = (s.params as { curve: { p: bigint; q: bigint } }).curve;
    // group checks run before the fingerprint check, so each message names the real defect
    const bad: Array<[RegExp, unknown]> = [
      [/P_pub is not a point of order q/, { ...j, params: { ...j.params, Ppub: { ...j.params.Ppub, y: (BigInt('0x' + j.params.Ppub.y) + 1n).toString(16) } } }],
      [/q must divide p \+ 1|q is not prime/, { ...j, params: { ...j.params, q: (c.q + 2n).toString(16) } }],
      [/minimal lowercase hex/, { ...j, params: { ...j.params, p: '0' + j.params.p } }],
      [/params.hash/, { ...j, params: { ...j.params, hash: 'md5' } }],
      [/fingerprint mismatch/, { ...j, kmsId: 'urn:ibaked:kms:other' }],
    ];
    for (const [msg, v] of bad) {
      await expect(parseParams(JSON.stringify(v)), String(msg)).rejects.toThrow(msg);
    }
    // a master secret that does not match P_pub
    expect(await errorCode(checkMaster(blsMaster, p))).not.toBe('ok');
  });
});

describe('master.key', () => {
  it('encodes/decodes and detects every truncation and any flipped bit', () => {
    const f = encodeMasterFile('bls12381-bf', bls.fingerprint, blsMaster);
    expect(decodeMasterFile(f)).toEqual({ suite: 'bls12381-bf', fingerprint: bls.fingerprint, secret: blsMaster });
    for (let n = 0; n < f.length; n++) {
      expect(() => decodeMasterFile(f.subarray(0, n)), `truncated to ${n}`).toThrow(/corrupt or truncated/);
    }
    for (let bit = 0; bit < f.length * 8; bit += 5) {
      const g = Uint8Array.from(f);
      g[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => decodeMasterFile(g), `bit ${bit}`).toThrow(/corrupt/);
    }
  });

  it('initKmsDir writes 0600 master + params that loadKmsDir accepts; never overwrites', async () => {
    const dir = join(root, 'kms');
    const p = await initKmsDir(dir, { suite: 'bls12381-bf', period: 'day', kmsId: 'urn:ibaked:kms:t', engine });
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    const { params, master } = await loadKmsDir(dir, engine);
    expect(params).toEqual(p);
    expect(master.length).toBe(32);
    await expect(initKmsDir(dir, { suite: 'bls12381-bf', period: 'day', kmsId: 'urn:ibaked:kms:t', engine })).rejects.toThrow(/refusing to overwrite/);
    await expect(writeFileAtomic(join(dir, 'master.key'), 'x', 0o600)).rejects.toThrow(/already exists/);
    expect(readFileSync(join(dir, 'master.key')).length).toBeGreaterThan(32);
  });
});
