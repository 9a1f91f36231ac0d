// The MIKEY Writer's pooled scratch buffers (src/mikey/bytes.ts): results are exact, independent
// copies; consecutive and nested Writers never see each other's octets; long outputs grow past
// the scratch size; a finished Writer can be written again without harm; and a whole message
// round-trips through encode/decode while inner chains are encoded in between.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Writer } from '../src/mikey/bytes.js';
import { decodeInnerChain, encodeInnerChain, innerChainLength } from '../src/mikey/chain.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('Writer scratch buffers', () => {
  it('gives exact independent results; nested and consecutive writers do not mix', () => {
    const outer = new Writer();
    outer.u8(0xaa, 'a');
    const inner = new Writer(); // taken while outer is in use: a different buffer
    inner.bytes(Uint8Array.of(1, 2, 3), 'x');
    outer.u16(0xbbcc, 'b');
    const ri = inner.result();
    outer.u32(0xddeeff00, 'c');
    const ro = outer.result();
    expect(hex(ri)).toBe('010203');
    expect(hex(ro)).toBe('aabbccddeeff00');
    ri.fill(0x55); // results are the caller's: the next writer starts clean
    const next = new Writer();
    next.u8(7, 'n');
    expect(hex(next.result())).toBe('07');
    expect(hex(ro)).toBe('aabbccddeeff00');
  });

  it('grows past the scratch size, and a finished writer can be written again', () => {
    const big = randomBytes(10_000);
    const w = new Writer();
    w.u8(1, 'a');
    w.bytes(big, 'big');
    const r = w.result();
    expect(r.length).toBe(10_001);
    expect(hex(r.subarray(1))).toBe(hex(big));
    expect(w.result().length).toBe(0);
    w.u16(0x0102, 'again');
    expect(hex(w.result())).toBe('0102');
  });

  it('innerChainLength equals the encoding\'s length, checks the same, and leaves no octets behind', () => {
    for (let i = 0; i < 50; i++) {
      const chain = [
        { kind: 'IDR' as const, role: 1, idType: 1, data: randomBytes(1 + (i * 7) % 300) },
        { kind: 'RANDR' as const, role: 2, rand: randomBytes(16 + (i % 17)) },
      ];
      expect(innerChainLength(chain)).toBe(encodeInnerChain(chain).length);
    }
    const bad = [{ kind: 'RANDR' as const, role: 2, rand: randomBytes(16) }]; // first must be IDR
    expect(() => encodeInnerChain(bad)).toThrow();
    expect(() => innerChainLength(bad)).toThrow();
    const w = new Writer(); // the scratch innerChainLength used comes back zeroed
    w.bytes(new Uint8Array(0), 'x');
    expect(w.result().length).toBe(0);
  });

  it('many encodes in a row give the same bytes as the first (no leftovers between uses)', () => {
    const chain = [
      { kind: 'IDR' as const, role: 1, idType: 1, data: new TextEncoder().encode('sip:alice@example.org') },
      { kind: 'SK' as const, skType: 1, key: randomBytes(32), kv: { type: 0 as const } },
    ];
    const first = encodeInnerChain(chain);
    for (let i = 0; i < 50; i++) {
      const w = new Writer();
      w.bytes(randomBytes(1 + (i % 300)), 'noise'); // leave different lengths behind
      w.result();
      expect(hex(encodeInnerChain(chain))).toBe(hex(first));
    }
    expect(decodeInnerChain(first)).toHaveLength(2);
  });
});
