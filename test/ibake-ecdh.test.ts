// P-256 ECDH / K_SESSION and point validation (src/ibake/ecdh.ts), checked against independent
// references: the spec's derived vector (x, y, [x][y]P), @noble/curves p256, and the DH
// identity [x]([y]P) = [y]([x]P); invalid points of every kind are refused.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import { checkP256Point, computeKSession, generateEphemeral, publicFromSecret } from '../src/ibake/ecdh.js';
import { IbakeError } from '../src/ibake/errors.js';
import { VECTORS } from './helpers/shared.js';

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
