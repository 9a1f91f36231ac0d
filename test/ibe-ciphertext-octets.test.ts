// The octet path of the DER BFCiphertextBlock (src/ibe/ciphertext-octets.ts) against the general
// strict DER codec (src/ibe/ciphertext.ts over src/ibe/der.ts): the same encoding for random
// values (leading zeros, top bits set, zero, short and long lengths), and on decoding the same
// verdict and the same values for every single-octet change, truncation and extension of valid
// encodings and for hand-made malformed ones.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeCiphertext, encodeCiphertext } from '../src/ibe/ciphertext.js';
import { decodeCiphertextOctets, encodeCiphertextOctets } from '../src/ibe/ciphertext-octets.js';
import { IbeError } from '../src/ibe/errors.js';
import { bytesToBigint } from '../src/util/bigint.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const big = (b: Uint8Array) => (b.length ? bytesToBigint(b) : 0n);

/** A random unsigned value as octets: random length 1..60, sometimes leading zeros / top bit / all zero. */
function coord(i: number): Uint8Array {
  const len = 1 + (randomBytes(1)[0]! % 60);
  const b = randomBytes(len);
  if (i % 5 === 0) b[0] = 0; // a leading zero
  if (i % 5 === 1) b[0]! |= 0x80; // top bit set: needs the sign octet
  if (i % 7 === 0) b.fill(0); // the value 0
  if (i % 11 === 0 && len > 2) b.fill(0, 0, 2);
  return b;
}

function wLength(i: number): number {
  if (i === 0) return 70000; // three length octets
  if (i === 1) return 200; // two
  if (i === 2) return 128;
  if (i === 3) return 127;
  return 1 + (randomBytes(2).readUInt16BE(0) % 400);
}

/** Both decoders' verdicts on `b`, as comparable strings. */
function verdicts(b: Uint8Array): [string, string] {
  const one = (f: () => string) => {
    try {
      return f();
    } catch (e) {
      expect(e).toBeInstanceOf(IbeError);
      expect((e as IbeError).code).toBe('IBE_BAD_CIPHERTEXT');
      return 'rejected';
    }
  };
  return [
    one(() => {
      const c = decodeCiphertext(b);
      return `${c.ux.toString(16)} ${c.uy.toString(16)} ${hex(c.v)} ${hex(c.w)}`;
    }),
    one(() => {
      const c = decodeCiphertextOctets(b);
      return `${big(c.x).toString(16)} ${big(c.y).toString(16)} ${hex(c.v)} ${hex(c.w)}`;
    }),
  ];
}

describe('BFCiphertextBlock straight from and to octets', () => {
  it('encodes exactly as the general DER codec, and decodes back', () => {
    for (let i = 0; i < 300; i++) {
      const x = coord(i);
      const y = coord(i + 3);
      const v = randomBytes(i % 9 === 0 ? 0 : 32);
      const w = randomBytes(wLength(i));
      const want = encodeCiphertext({ ux: big(x), uy: big(y), v, w });
      const got = encodeCiphertextOctets(x, y, v, w);
      expect(hex(got)).toBe(hex(want));
      const d = decodeCiphertextOctets(got);
      expect(big(d.x)).toBe(big(x));
      expect(big(d.y)).toBe(big(y));
      expect(hex(d.v)).toBe(hex(v));
      expect(hex(d.w)).toBe(hex(w));
      expect(d.x.length === 1 || d.x[0] !== 0).toBe(true); // minimal octets
    }
  });

  it('accepts and rejects exactly what the general decoder does: every octet change, truncation, extension', () => {
    let rejected = 0;
    let accepted = 0;
    for (let i = 0; i < 6; i++) {
      const w = randomBytes(i === 0 ? 300 : 5 + i * 7);
      const valid = encodeCiphertextOctets(coord(i), coord(i + 1), randomBytes(32), w);
      const check = (b: Uint8Array) => {
        const [a, o] = verdicts(b);
        expect(o).toBe(a);
        if (a === 'rejected') rejected++;
        else accepted++;
      };
      check(valid);
      for (let p = 0; p < valid.length; p++) {
        for (const x of [0x01, 0x80, 0xff, 1 + (randomBytes(1)[0]! % 254)]) {
          const b = valid.slice();
          b[p]! ^= x;
          check(b);
        }
      }
      for (let n = 0; n < valid.length; n++) check(valid.subarray(0, n));
      for (const extra of [[0], [0x02, 0x01, 0x00], [0x04, 0x00]]) check(Uint8Array.from([...valid, ...extra]));
    }
    expect(accepted).toBeGreaterThan(50); // e.g. flips inside v, w and the coordinates
    expect(rejected).toBeGreaterThan(500);
  });

  it('hand-made malformed encodings: both reject', () => {
    const tlv = (tag: number, body: number[]) => [tag, body.length, ...body];
    const int = (...b: number[]) => tlv(0x02, b);
    const oct = (...b: number[]) => tlv(0x04, b);
    const seq = (...items: number[][]) => tlv(0x30, items.flat());
    const cases: number[][] = [
      seq(int(3), seq(int(1), int(2)), oct(1), oct(2)), // version 3
      seq(int(0, 2), seq(int(1), int(2)), oct(1), oct(2)), // non-minimal version
      seq(int(2), seq(int(0xff), int(2)), oct(1), oct(2)), // negative x
      seq(int(2), seq(int(0, 1), int(2)), oct(1), oct(2)), // non-minimal x
      seq(int(2), seq(int(1), int(2), int(3)), oct(1), oct(2)), // three coordinates
      seq(int(2), seq(int(1)), oct(1), oct(2)), // one coordinate
      seq(int(2), seq(int(1), int(2)), oct(1)), // no w
      seq(int(2), seq(int(1), int(2)), oct(1), oct(2), oct(3)), // five items
      seq(int(2), seq(int(1), oct(2)), oct(1), oct(2)), // y not an INTEGER
      seq(int(2), seq(int(1), int(2)), int(1), oct(2)), // v not an OCTET STRING
      [0x30, 0x81, 0x05, ...int(2), ...int(1)], // non-minimal long length
      [0x30, 0x80, 0x00, 0x00], // indefinite length
      seq(int(2), [0x30, 0x06, ...int(1), ...int(2), 0x00], oct(1), oct(2)), // stray octet in FpPoint
      [0x31, 0x00], // SET
      [],
    ];
    for (const c of cases) {
      const [a, o] = verdicts(Uint8Array.from(c));
      expect(a).toBe('rejected');
      expect(o).toBe('rejected');
    }
    const [a, o] = verdicts(Uint8Array.from(seq(int(2), seq(int(0), int(0x00, 0x80)), oct(), oct(7))));
    expect(a).not.toBe('rejected'); // the smallest valid shape: both accept, same values
    expect(o).toBe(a);
  });
});
