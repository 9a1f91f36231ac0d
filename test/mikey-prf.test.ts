// src/mikey/prf.ts's PRF-HMAC-SHA-256 against an independent one written here on node:crypto's
// HMAC (RFC 3830 §4.1.2's P function per 256-bit key chunk, XORed, truncated), on random keys,
// labels and lengths around the chunk and block boundaries: on the JavaScript path and again
// with the native engine's whole PRF lent (usePrfSha256), including inputs too long for the
// lent path's scratch. The native export itself: its argument checks, and that an engine lends
// it through IbeKeyring.
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { PrfFunc, mikeyPrf, prfSha256Lent, usePrfSha256, type PrfSha256Fn } from '../src/mikey/prf.js';
import { IbeKeyring } from '../src/ibake/keyring.js';
import { setupBls } from '../src/ibe/bls12381/bf.js';
import { loadEngine } from './helpers/engines.js';

const native = await loadEngine('native');
let lentCalls = 0;
const lent: PrfSha256Fn | undefined = native?.mikeyPrfSha256
  ? (buf, a, b, c) => {
      lentCalls++;
      native.mikeyPrfSha256!(buf, a, b, c);
    }
  : undefined;
const paths: Array<[string, PrfSha256Fn | undefined]> = [['JavaScript', undefined], ...(lent ? [['native (lent)', lent] as [string, PrfSha256Fn]] : [])];
afterAll(() => usePrfSha256(undefined));

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The reference: P(s, label, m) per 32-octet chunk s of inkey, XORed, first outLen octets. */
function referencePrf(inkey: Uint8Array, label: Uint8Array, outLen: number): Uint8Array {
  const m = Math.ceil(outLen / 32);
  const acc = Buffer.alloc(m * 32);
  for (let off = 0; off < inkey.length; off += 32) {
    const s = inkey.subarray(off, off + 32);
    let a: Buffer = Buffer.from(label);
    for (let i = 0; i < m; i++) {
      a = createHmac('sha256', s).update(a).digest();
      const block = createHmac('sha256', s).update(a).update(label).digest();
      for (let j = 0; j < 32; j++) acc[32 * i + j]! ^= block[j]!;
    }
  }
  return new Uint8Array(acc.subarray(0, outLen));
}

describe.each(paths)('PRF-HMAC-SHA-256, path: %s', (_name, fn) => {
  const use = () => usePrfSha256(fn);
  const before = lentCalls;
  afterAll(() => {
    if (fn) expect(lentCalls - before).toBeGreaterThan(500); // the lent path really ran
    usePrfSha256(undefined);
  });
  it('equals the node:crypto reference for keys of 1..100 octets, labels of 0..200, outputs of 1..100', () => {
    use();
    for (let i = 0; i < 600; i++) {
      const inkey = new Uint8Array(randomBytes(i < 100 ? i + 1 : randomInt(1, 101)));
      const label = new Uint8Array(randomBytes(randomInt(0, 201)));
      const outLen = i % 7 === 0 ? [16, 14, 32, 33, 64, 65, 1][(i / 7) % 7]! : randomInt(1, 101);
      expect(hex(mikeyPrf(PrfFunc.HMAC_SHA_256, inkey, label, outLen))).toBe(hex(referencePrf(inkey, label, outLen)));
    }
  });
  it('long inputs and outputs (past the lent scratch) give the same octets', () => {
    use();
    for (const [k, l, o] of [
      [600, 400, 100],
      [32, 50, 4000],
      [1, 0, 1],
      [700, 300, 24],
    ] as const) {
      const inkey = new Uint8Array(randomBytes(k));
      const label = new Uint8Array(randomBytes(l));
      expect(hex(mikeyPrf(PrfFunc.HMAC_SHA_256, inkey, label, o))).toBe(hex(referencePrf(inkey, label, o)));
    }
  });
  it('leaves its inputs as they were', () => {
    use();
    const inkey = new Uint8Array(randomBytes(48));
    const label = new Uint8Array(randomBytes(40));
    const [k0, l0] = [hex(inkey), hex(label)];
    const a = mikeyPrf(PrfFunc.HMAC_SHA_256, inkey, label, 46);
    expect([hex(inkey), hex(label)]).toEqual([k0, l0]);
    expect(hex(mikeyPrf(PrfFunc.HMAC_SHA_256, inkey, label, 46))).toBe(hex(a));
  });
});

describe('the native PRF', () => {
  it.runIf(native?.mikeyPrfSha256)('checks its arguments', () => {
    const f = native!.mikeyPrfSha256!;
    const buf = new Uint8Array(128);
    expect(() => f(buf, 0, 10, 16)).toThrow(RangeError); // no key
    expect(() => f(buf, 16, 10, 0)).toThrow(RangeError); // no output
    expect(() => f(buf, 64, 40, 32)).toThrow(RangeError); // does not fit
    expect(() => f(buf, 16.5, 10, 16)).toThrow(RangeError);
    expect(() => f(buf, -1, 10, 16)).toThrow(RangeError);
    expect(() => f(buf, 16, Number.NaN, 16)).toThrow(RangeError);
    expect(() => f(new Uint16Array(64) as unknown as Uint8Array, 16, 10, 16)).toThrow(TypeError);
    expect(() => (f as (...a: unknown[]) => void)(buf, 16, 10)).toThrow(TypeError);
    expect(() => (f as (...a: unknown[]) => void)(buf, '16', 10, 16)).toThrow(TypeError);
    // a good call writes exactly the output octets
    buf.fill(7);
    f(buf, 16, 10, 30);
    expect(buf.subarray(0, 26).every((b) => b === 7)).toBe(true);
    expect(buf.subarray(56).every((b) => b === 7)).toBe(true);
    expect(hex(buf.subarray(26, 56))).toBe(hex(referencePrf(buf.subarray(0, 16), buf.subarray(16, 26), 30)));
  });
  it.runIf(native?.mikeyPrfSha256)('is lent to the MIKEY layer by an IbeKeyring on the native engine', async () => {
    usePrfSha256(undefined);
    const { Ppub } = await setupBls(native!);
    new IbeKeyring(native!, Ppub).close();
    expect(prfSha256Lent()).toBe(true);
    usePrfSha256(undefined);
  });
});
