// Small native arguments travel through one off-heap scratch (src/engine/native/small-args.ts):
// the addon sees equal octets in views of that scratch, larger arrays are passed as they are,
// and every octet of the scratch used is zeroed once the addon has taken the arguments, even
// when the call throws. Also runs one real native op through it against the pure-TS engine.
import { describe, expect, it } from 'vitest';
import { SmallArgs } from '../src/engine/native/small-args.js';
import { ctEqual } from '../src/util/ct-equal.js';
import { loadEngine } from './helpers/engines.js';

describe('SmallArgs', () => {
  it('passes small arrays as equal copies in one off-heap scratch, large ones as they are, and zeroes the scratch after', () => {
    const s = new SmallArgs();
    const small = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const edge = new Uint8Array(64).fill(0xab);
    const big = new Uint8Array(65).fill(7);
    let seen: unknown[] = [];
    const r = s.with([small, 5, edge, big, 'x'], (a) => {
      seen = a.map((x) => (x instanceof Uint8Array ? { same: x === small || x === edge || x === big, bytes: Array.from(x), buf: x.buffer } : x));
      return 42;
    });
    expect(r).toBe(42);
    const [a0, a1, a2, a3, a4] = seen as [{ same: boolean; bytes: number[]; buf: ArrayBuffer }, number, { same: boolean; bytes: number[]; buf: ArrayBuffer }, { same: boolean }, string];
    expect(a0.same).toBe(false);
    expect(a0.bytes).toEqual(Array.from(small));
    expect(a2.same).toBe(false);
    expect(a2.bytes).toEqual(Array.from(edge));
    expect(a0.buf).toBe(a2.buf); // one scratch
    expect(a3.same).toBe(true);
    expect([a1, a4]).toEqual([5, 'x']);
    expect(new Uint8Array(a0.buf).every((b) => b === 0)).toBe(true); // wiped
    expect(Array.from(small)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1)); // the caller's array is untouched
  });

  it('zeroes the scratch when the call throws', () => {
    const s = new SmallArgs();
    let buf: ArrayBuffer | undefined;
    expect(() =>
      s.with([new Uint8Array(16).fill(9)], (a) => {
        buf = (a[0] as Uint8Array).buffer;
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(new Uint8Array(buf!).every((b) => b === 0)).toBe(true);
  });

  it('a native op fed through it gives the pure-TS engine\'s bytes (small scalar and point arguments)', async () => {
    const native = await loadEngine('native');
    const ts = (await loadEngine('ts'))!;
    expect(native, 'the native addon is built by npm ci').toBeDefined();
    if (!native) return;
    const g = ts.g1Generator();
    for (let i = 1; i <= 4; i++) {
      const k = new Uint8Array(32);
      k[31] = i * 37;
      k[0] = i;
      const p = await ts.g1Encode(await ts.g1Mul(g, k), 'compressed'); // 48 octets: on V8's heap
      const [n, t] = [await native.g1Mul(p, k), await ts.g1Mul(p, k)];
      expect(Buffer.from(await native.g1Encode(n, 'compressed')).equals(Buffer.from(await ts.g1Encode(t, 'compressed')))).toBe(true);
    }
  });
});

describe('ctEqual', () => {
  it('is equality of length and octets, for every position of a difference', () => {
    const a = Uint8Array.from({ length: 65 }, (_, i) => (i * 29) & 0xff);
    expect(ctEqual(a, a.slice())).toBe(true);
    expect(ctEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(ctEqual(a, a.subarray(0, 64))).toBe(false);
    for (let i = 0; i < a.length; i++) {
      for (const bit of [1, 0x80]) {
        const b = a.slice();
        b[i]! ^= bit;
        expect(ctEqual(a, b)).toBe(false);
      }
    }
  });
  it('refuses what is not a Uint8Array', () => {
    expect(() => ctEqual('ab' as unknown as Uint8Array, new Uint8Array(2))).toThrow(TypeError);
    expect(() => ctEqual(new Uint8Array(2), [0, 0] as unknown as Uint8Array)).toThrow(TypeError);
  });
});
