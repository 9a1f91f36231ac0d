// src/mikey/hmac-sha256.ts against node:crypto (OpenSSL) on random keys and messages of every
// length around the block and padding boundaries, split into parts at random, plus the RFC 4231
// test case 2 vector: every check on the JavaScript compression and again with the native
// engine's lent one (useSha256Blocks), including inputs too long for the lent path's scratch.
// The native export itself: its argument checks, and that an engine lends it through IbeKeyring.
import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { HmacSha256Key, hmacSha256, sha256, sha256BlocksLent, useSha256Blocks, type Sha256BlocksFn } from '../src/mikey/hmac-sha256.js';
import { IbeKeyring } from '../src/ibake/keyring.js';
import { setupBls } from '../src/ibe/bls12381/bf.js';
import { loadEngine } from './helpers/engines.js';

const native = await loadEngine('native');
/** The lent compression, counting its calls (a check that the lent path really ran). */
let lentCalls = 0;
const lent: Sha256BlocksFn | undefined = native?.sha256Blocks
  ? (buf, blocks) => {
      lentCalls++;
      native.sha256Blocks!(buf, blocks);
    }
  : undefined;
const paths: Array<[string, Sha256BlocksFn | undefined]> = [['JavaScript', undefined], ...(lent ? [['native (lent)', lent] as [string, Sha256BlocksFn]] : [])];
afterAll(() => useSha256Blocks(undefined));

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
function split(m: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let i = 0;
  while (i < m.length) {
    const n = randomInt(0, m.length - i + 1);
    parts.push(m.subarray(i, i + n));
    i += n;
    if (n === 0 && parts.length > 4) break;
  }
  if (i < m.length) parts.push(m.subarray(i));
  return parts;
}

describe.each(paths)('HMAC-SHA-256 / SHA-256, compression: %s', (_name, fn) => {
  const use = () => useSha256Blocks(fn);
  const before = lentCalls;
  afterAll(() => {
    if (fn) expect(lentCalls - before).toBeGreaterThan(1000); // the lent path really ran
    useSha256Blocks(undefined);
  });
  it('RFC 4231 test case 2', () => {
    use();
    const mac = hmacSha256(new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want for nothing?'));
    expect(hex(mac)).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
  it('SHA-256 equals node:crypto for every length 0..300, in random parts', () => {
    use();
    for (let len = 0; len <= 2400; len += len < 300 ? 1 : 97) {
      const m = new Uint8Array(randomBytes(len));
      expect(hex(sha256(...split(m)))).toBe(createHash('sha256').update(m).digest('hex'));
    }
  });
  it('HMAC equals node:crypto for keys of 0..150 octets and messages of 0..200, reusing keys', () => {
    use();
    for (let i = 0; i < 400; i++) {
      const key = new Uint8Array(randomBytes(randomInt(0, 151)));
      const k = new HmacSha256Key(key);
      for (let j = 0; j < 3; j++) {
        const m = new Uint8Array(randomBytes(randomInt(0, 201)));
        expect(hex(k.mac(...split(m)))).toBe(createHmac('sha256', key).update(m).digest('hex'));
      }
      k.wipe();
    }
  });
  it('mac2(a, b?) equals node:crypto, with two keys used in turn (the scratch state is shared)', () => {
    use();
    for (let i = 0; i < 300; i++) {
      const k1 = new Uint8Array(randomBytes(randomInt(0, 100)));
      const k2 = new Uint8Array(randomBytes(randomInt(0, 100)));
      const a = new HmacSha256Key(k1);
      const b = new HmacSha256Key(k2);
      const x = new Uint8Array(randomBytes(randomInt(0, 140)));
      const y = new Uint8Array(randomBytes(randomInt(0, 140)));
      expect(hex(a.mac2(x, y))).toBe(createHmac('sha256', k1).update(x).update(y).digest('hex'));
      expect(hex(b.mac2(x))).toBe(createHmac('sha256', k2).update(x).digest('hex'));
      expect(hex(a.mac2(y))).toBe(createHmac('sha256', k1).update(y).digest('hex'));
      a.wipe();
      b.wipe();
    }
  });
  it('a wiped key no longer gives its MACs', () => {
    use();
    const key = new Uint8Array(randomBytes(32));
    const k = new HmacSha256Key(key);
    const m = new Uint8Array(randomBytes(20));
    const good = hex(k.mac2(m));
    expect(good).toBe(createHmac('sha256', key).update(m).digest('hex'));
    k.wipe();
    expect(hex(k.mac2(m))).not.toBe(good);
  });
});

describe('the native SHA-256 compression', () => {
  it.runIf(native)('checks its arguments', () => {
    const f = native!.sha256Blocks!;
    expect(() => f(new Uint8Array(96), 2)).toThrow(RangeError);
    expect(() => f(new Uint8Array(96), -1)).toThrow(RangeError);
    expect(() => f(new Uint8Array(96), 0.5)).toThrow(RangeError);
    expect(() => f(new Uint8Array(new ArrayBuffer(100), 1, 96), 1)).toThrow(RangeError);
    expect(() => f(new Uint16Array(48) as unknown as Uint8Array, 1)).toThrow(TypeError);
    expect(() => (f as (...a: unknown[]) => void)(new Uint8Array(96))).toThrow(TypeError);
    const buf = new Uint8Array(32);
    f(buf, 0); // no blocks: the state is left as it is
    expect(buf.every((b) => b === 0)).toBe(true);
  });
  it.runIf(native)('is lent to the MIKEY layer by an IbeKeyring on the native engine', async () => {
    useSha256Blocks(undefined);
    const { Ppub } = await setupBls(native!);
    new IbeKeyring(native!, Ppub).close();
    expect(sha256BlocksLent()).toBe(true);
    useSha256Blocks(undefined);
  });
});
