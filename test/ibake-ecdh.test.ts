// P-256 ECDH / K_SESSION and point validation (src/ibake/ecdh.ts), checked against independent
// references: the spec's derived vector (x, y, [x][y]P), @noble/curves p256, and the DH
// identity [x]([y]P) = [y]([x]P); invalid points of every kind are refused. The native
// engine's p256Mul (the process's OpenSSL, native/src/p256.h) and computeKSessionWith over it
// give the same octets and the same refusals; its own argument checks have the engine's reasons.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import { checkP256Point, computeKSession, computeKSessionWith, generateEphemeral, publicFromSecret } from '../src/ibake/ecdh.js';
import { EngineError } from '../src/engine/errors.js';
import { loadEngine } from './helpers/engines.js';
import { IbakeError } from '../src/ibake/errors.js';
import { VECTORS } from './helpers/repo.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const pad32 = (s: string) => unhex(s.padStart(64, '0'));

describe('P-256 ECDH', () => {
  it('reproduces the derived vector K_SESSION (SEC1 uncompressed [x][y]P)', () => {
    const v = JSON.parse(readFileSync(join(VECTORS, 'derived-mikey-kdf.json'), 'utf8')).cases[2];
    const x = pad32(v.input['x (initiator secret)']);
    const y = pad32(v.input['y (responder secret)']);
    expect(hex(publicFromSecret(x))).toBe(v.input['ECCPTi = [x]G (uncompressed)']);
    expect(hex(publicFromSecret(y))).toBe(v.input['ECCPTr = [y]G (uncompressed)']);
    const k1 = computeKSession(x, unhex(v.input['ECCPTr = [y]G (uncompressed)']));
    const k2 = computeKSession(y, unhex(v.input['ECCPTi = [x]G (uncompressed)']));
    expect(hex(k1)).toBe(v.output.variant_A_SEC1_uncompressed_point_65_octets.K_SESSION);
    expect(hex(k2)).toBe(hex(k1));
  });

  it('agrees with @noble/curves on random keys (both y signs occur)', () => {
    const ys = new Set<number>();
    for (let i = 0; i < 24; i++) {
      const a = generateEphemeral();
      const b = generateEphemeral();
      const k = computeKSession(a.secret, b.publicPoint);
      expect(hex(computeKSession(b.secret, a.publicPoint))).toBe(hex(k));
      expect(hex(p256.getSharedSecret(a.secret, b.publicPoint, false))).toBe(hex(k));
      ys.add(k[64]! & 1);
    }
    expect(ys.size).toBe(2);
  });

  it('handles the edge scalars 1 and n-1', () => {
    const b = generateEphemeral();
    const one = pad32('1');
    expect(hex(computeKSession(one, b.publicPoint))).toBe(hex(b.publicPoint));
    const nm1 = unhex('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550');
    expect(hex(computeKSession(nm1, b.publicPoint))).toBe(hex(p256.getSharedSecret(nm1, b.publicPoint, false)));
  });

  it('rejects invalid points with the uniform auth failure', () => {
    const a = generateEphemeral();
    const good = generateEphemeral().publicPoint;
    const offCurve = Uint8Array.from(good);
    offCurve[64] ^= 1;
    const compressed = p256.getPublicKey(a.secret, true);
    const bigX = Uint8Array.from(good);
    bigX.fill(0xff, 1, 33);
    // A point of order 3 on a different curve y^2 = x^3 - 3x + b' (invalid-curve / small subgroup
    // attack): x=0 lies on y^2 = x^3 - 3x + 1 with y = 1, which is not on P-256.
    const twist = new Uint8Array(65);
    twist[0] = 4;
    twist[64] = 1;
    const cases: Array<[Uint8Array, string]> = [
      [offCurve, 'not-on-curve'],
      [new Uint8Array([0]), 'identity'],
      [compressed, 'length'],
      [bigX, 'non-canonical'],
      [twist, 'not-on-curve'],
      [Uint8Array.from([5, ...good.subarray(1)]), 'prefix'],
    ];
    for (const [pt, why] of cases) {
      expect(checkP256Point(pt)).toBe(why);
      let err: unknown;
      try {
        computeKSession(a.secret, pt);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(IbakeError);
      expect((err as IbakeError).code).toBe('IBAKE_AUTH_FAILED');
      expect((err as IbakeError).reason).toBe('bad-point');
    }
    expect(() => computeKSession(a.secret, a.publicPoint, a.publicPoint)).toThrow(IbakeError);
  });
});

const native = await loadEngine('native');

describe.runIf(!!native?.p256Mul)('P-256 through the native engine (p256Mul)', () => {
  const mul = native?.p256Mul!; // runIf(false) still collects this body: no dereference without the addon
  const n = unhex('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
  const reason = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (e: unknown) => (e instanceof EngineError ? e.reason : String(e)),
    );

  it('gives computeKSession\'s octets: the derived vector, random keys (both y signs), the edge scalars', async () => {
    const v = JSON.parse(readFileSync(join(VECTORS, 'derived-mikey-kdf.json'), 'utf8')).cases[2];
    const x = pad32(v.input['x (initiator secret)']);
    const yP = unhex(v.input['ECCPTr = [y]G (uncompressed)']);
    expect(hex(await mul(x, yP))).toBe(v.output.variant_A_SEC1_uncompressed_point_65_octets.K_SESSION);
    expect(hex(await computeKSessionWith(mul, x, yP))).toBe(v.output.variant_A_SEC1_uncompressed_point_65_octets.K_SESSION);
    const ys = new Set<number>();
    for (let i = 0; i < 24; i++) {
      const a = generateEphemeral();
      const b = generateEphemeral();
      const k = await computeKSessionWith(mul, a.secret, b.publicPoint, a.publicPoint);
      expect(hex(k)).toBe(hex(computeKSession(a.secret, b.publicPoint)));
      expect(hex(k)).toBe(hex(p256.getSharedSecret(a.secret, b.publicPoint, false)));
      ys.add(k[64]! & 1);
    }
    expect(ys.size).toBe(2);
    const b = generateEphemeral();
    expect(hex(await mul(pad32('1'), b.publicPoint))).toBe(hex(b.publicPoint));
    const nm1 = Uint8Array.from(n);
    nm1[31]! -= 1;
    expect(hex(await mul(nm1, b.publicPoint))).toBe(hex(p256.getSharedSecret(nm1, b.publicPoint, false)));
    // the octet-wise range check (no integer of the secret) takes both ends of [1, n-1]
    expect(hex(await computeKSessionWith(mul, pad32('1'), b.publicPoint))).toBe(hex(b.publicPoint));
    expect(hex(await computeKSessionWith(mul, nm1, b.publicPoint))).toBe(hex(p256.getSharedSecret(nm1, b.publicPoint, false)));
    const top = Uint8Array.from(n); // n with its top octet one less: below n whatever follows
    top[0]! -= 1;
    top.fill(0xff, 1);
    expect(hex(await computeKSessionWith(mul, top, b.publicPoint))).toBe(hex(p256.getSharedSecret(top, b.publicPoint, false)));
  });

  it('refuses what computeKSession refuses, before any multiplication, with the same auth failure', async () => {
    let calls = 0;
    const counted = (k: Uint8Array, q: Uint8Array) => (calls++, mul(k, q));
    const a = generateEphemeral();
    const good = generateEphemeral().publicPoint;
    const offCurve = Uint8Array.from(good);
    offCurve[64] ^= 1;
    for (const [k, pt, own] of [
      [a.secret, offCurve, undefined],
      [a.secret, new Uint8Array([0]), undefined],
      [a.secret, p256.getPublicKey(a.secret, true), undefined],
      [a.secret, a.publicPoint, a.publicPoint],
      [new Uint8Array(32), good, undefined],
      [n, good, undefined],
      [Uint8Array.from(n, (v, i) => (i === 31 ? v + 1 : v)), good, undefined], // n + 1
      [Uint8Array.from(n, (v, i) => (i === 20 ? v + 1 : v)), good, undefined], // above n in a middle octet
      [new Uint8Array(32).fill(0xff), good, undefined],
      [new Uint8Array(31).fill(1), good, undefined], // not 32 octets
    ] as Array<[Uint8Array, Uint8Array, Uint8Array | undefined]>) {
      const err = await computeKSessionWith(counted, k, pt, own).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IbakeError);
      expect((err as IbakeError).code).toBe('IBAKE_AUTH_FAILED');
      expect((err as IbakeError).reason).toBe('bad-point');
    }
    expect(calls).toBe(0);
  });

  it('takes a scalar exactly when 1 <= k < n (its octet-wise check against BigInt, on scalars near n and 0)', async () => {
    const N = BigInt('0x' + hex(n));
    const b = generateEphemeral().publicPoint;
    let taken = 0;
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      // n, or 0, with one to three octets changed at random: about half of them below n
      const k = i % 3 === 0 ? new Uint8Array(32) : Uint8Array.from(n);
      for (let j = 0, m = 1 + (i % 3); j < m; j++) k[(i * 7 + j * 13) % 32] = (i * 37 + j * 101) & 0xff;
      const v = BigInt('0x' + hex(k));
      const got = await computeKSessionWith(mul, k, b).then(
        (out) => hex(out),
        (e: unknown) => ((e as IbakeError).reason === 'bad-point' ? 'refused' : String(e)),
      );
      if (v > 0n && v < N) {
        expect(got, hex(k)).toBe(hex(p256.getSharedSecret(k, b, false)));
        taken++;
      } else {
        expect(got, hex(k)).toBe('refused');
        refused++;
      }
    }
    expect(taken).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });

  it('checks its own arguments with the engine\'s reasons', async () => {
    const a = generateEphemeral();
    const good = generateEphemeral().publicPoint;
    const offCurve = Uint8Array.from(good);
    offCurve[64] ^= 1;
    const bigX = Uint8Array.from(good);
    bigX.fill(0xff, 1, 33);
    const above = Uint8Array.from(n);
    above[31]! += 1;
    expect(await reason(mul(a.secret, good))).toBe('accepted');
    expect(await reason(mul(a.secret, offCurve))).toBe('not-on-curve');
    expect(await reason(mul(a.secret, bigX))).toBe('not-on-curve');
    expect(await reason(mul(a.secret, good.subarray(1)))).toBe('length');
    expect(await reason(mul(a.secret, Uint8Array.from([2, ...good.subarray(1)])))).toBe('non-canonical');
    expect(await reason(mul(a.secret.subarray(1), good))).toBe('length');
    expect(await reason(mul(new Uint8Array(32), good))).toBe('scalar-range');
    expect(await reason(mul(n, good))).toBe('scalar-range');
    expect(await reason(mul(above, good))).toBe('scalar-range');
    expect(await reason(mul(new Uint8Array(32).fill(0xff), good))).toBe('scalar-range');
    expect(await reason(mul('k' as never, good))).toBe('type');
    // and after those failures both paths still agree
    expect(hex(computeKSession(a.secret, good))).toBe(hex(await mul(a.secret, good)));
  });
});
