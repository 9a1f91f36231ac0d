// Robustness of the MIKEY decoder against hostile input (three of the four IBAKE messages are
// unauthenticated): every truncation of every valid sample, >= 100 000 random mutations
// (fast-check), every length field set to 0, 1, max and off by one, long payload chains, and
// counts that would overflow. The only acceptable outcomes are a MikeyError (typed, with an
// offset inside the input) or a valid decode that re-encodes to the identical bytes; anything
// else thrown (TypeError, RangeError, …) fails the test.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MikeyError, decodeInnerChain, decodeMessage, encodeInnerChain, encodeMessage, idr, type InnerPayload } from '../src/mikey/index.js';
import { ALICE, BOB, filler, fixtures, oracleSamples, p256Point } from './mikey-fixtures.js';
import { VECTORS } from './helpers/repo.js';

/** Total number of mutated inputs the fast-check properties below generate (documented in docs/mikey-wire.md). */
const RUNS = { flips: 40_000, splices: 30_000, headerKept: 20_000, inner: 15_000 };

type Outcome = 'valid' | 'rejected';
const stats = { valid: 0, rejected: 0 };

/** Decodes; fails the test on anything but a MikeyError or a faithful valid decode. */
function judge(bytes: Uint8Array): Outcome {
  let m;
  try {
    m = decodeMessage(bytes);
  } catch (e) {
    if (!(e instanceof MikeyError)) throw new Error(`untyped throw on ${Buffer.from(bytes).toString('hex')}: ${String(e)}`);
    if (!(e.offset >= -1 && e.offset <= bytes.length)) throw new Error(`offset ${e.offset} outside input of ${bytes.length}`);
    stats.rejected++;
    return 'rejected';
  }
  // a valid decode must be exact: contiguous spans and encode(decode(x)) = x
  let at = m.header.length;
  for (const p of m.payloads) {
    if (p.offset !== at) throw new Error(`gap before ${p.kind} at ${p.offset}`);
    at += p.length;
  }
  if (at !== bytes.length) throw new Error('spans do not cover the input');
  const again = encodeMessage(m);
  if (!Buffer.from(again).equals(Buffer.from(bytes))) {
    throw new Error(`re-encoding differs for ${Buffer.from(bytes).toString('hex')}`);
  }
  stats.valid++;
  return 'valid';
}

function judgeInner(bytes: Uint8Array): void {
  try {
    const d = decodeInnerChain(bytes);
    if (!Buffer.from(encodeInnerChain(d)).equals(Buffer.from(bytes))) throw new Error('inner re-encoding differs');
  } catch (e) {
    if (!(e instanceof MikeyError)) throw e;
  }
}

const valid: { name: string; bytes: Uint8Array }[] = [
  ...fixtures().map((f) => ({ name: f.name, bytes: encodeMessage(f.msg) })),
  ...(JSON.parse(readFileSync(resolve(VECTORS, 'rfc4567-mikey-sdp-examples.json'), 'utf8')) as { vectors: { id: string; decoded_hex: string }[] }).vectors.map((v) => ({
    name: v.id,
    bytes: new Uint8Array(Buffer.from(v.decoded_hex, 'hex')),
  })),
  ...[...oracleSamples()].map(([name, bytes]) => ({ name: `sample ${name}`, bytes })),
];

describe('truncations', () => {
  it('every prefix of every sample is a typed error or an exact valid decode', () => {
    let n = 0;
    for (const v of valid) {
      for (let i = 0; i <= v.bytes.length; i++) {
        judge(v.bytes.subarray(0, i));
        n++;
      }
      // also: every suffix (a lost head), cheap and hostile
      for (let i = 1; i < v.bytes.length; i += 7) judge(v.bytes.subarray(i));
    }
    expect(n).toBeGreaterThan(5000);
    // the full, valid messages are still valid
    for (const v of valid.filter((x) => !x.name.startsWith('sample bad') && x.name !== 'sample unknown-pt-250')) expect(judge(v.bytes), v.name).toBe('valid');
  });
});

describe('random mutations (fast-check)', () => {
  const sampleArb = fc.constantFrom(...valid.map((v) => v.bytes));

  it(`${RUNS.flips} inputs: bytes overwritten at random positions`, () => {
    fc.assert(
      fc.property(sampleArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (b, edits) => {
        const x = b.slice();
        for (const [pos, val] of edits) x[pos % x.length] = val;
        judge(x);
      }),
      { numRuns: RUNS.flips },
    );
  });

  it(`${RUNS.splices} inputs: bytes inserted, deleted, duplicated or spliced between samples`, () => {
    fc.assert(
      fc.property(sampleArb, sampleArb, fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 8 }), fc.integer({ min: 0, max: 3 }), (a, b, p, q, ins, op) => {
        const i = p % (a.length + 1);
        const j = q % (b.length + 1);
        let x: Uint8Array;
        if (op === 0) x = Buffer.concat([a.subarray(0, i), ins, a.subarray(i)]);
        else if (op === 1) x = Buffer.concat([a.subarray(0, i), a.subarray(Math.min(a.length, i + 1 + (q % 8)))]);
        else if (op === 2) x = Buffer.concat([a.subarray(0, i), a.subarray(i - (q % (i + 1)))]);
        else x = Buffer.concat([a.subarray(0, i), b.subarray(j)]);
        judge(new Uint8Array(x));
      }),
      { numRuns: RUNS.splices },
    );
  });

  it(`${RUNS.headerKept} inputs: a valid header followed by random payload bytes`, () => {
    const decodable = valid.filter((v) => !v.name.startsWith('sample bad') && v.name !== 'sample unknown-pt-250').map((v) => v.bytes);
    fc.assert(
      fc.property(fc.constantFrom(...decodable), fc.integer({ min: 0, max: 27 }), fc.uint8Array({ maxLength: 120 }), (b, np, tail) => {
        const hdrLen = decodeMessage(b).header.length;
        const x = Buffer.concat([b.subarray(0, hdrLen), tail]);
        x[2] = np;
        judge(new Uint8Array(x));
      }),
      { numRuns: RUNS.headerKept },
    );
  });

  it(`${RUNS.inner} inputs: mutated IBAKE/ESK inner chains`, () => {
    const chains = [
      encodeInnerChain([idr(1, ALICE), { kind: 'ECCPT', curve: 8, point: p256Point(), kv: { type: 0 } }, idr(2, BOB), { kind: 'ECCPT', curve: 8, point: p256Point(), kv: { type: 1, spi: Uint8Array.of(1) } }]),
      encodeInnerChain([idr(1, ALICE), { kind: 'SK', skType: 1, key: filler(32), kv: { type: 2, from: new Uint8Array(6), to: new Uint8Array(6) } }] as InnerPayload[]),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...chains), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), (c, edits, cut) => {
        const x = c.slice(0, c.length - (cut % 4 === 0 ? cut % c.length : 0));
        for (const [pos, val] of edits) if (x.length) x[pos % x.length] = val;
        judgeInner(x);
      }),
      { numRuns: RUNS.inner },
    );
  });

  it('generated at least 100 000 mutated inputs in total, and both outcomes occurred', () => {
    expect(Object.values(RUNS).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(100_000);
    expect(stats.rejected).toBeGreaterThan(1000);
    expect(stats.valid).toBeGreaterThan(100);
  });
});

/** Offsets (relative to the payload) and widths of each payload's length field. */
function lengthFields(kind: string): { at: number; bits: number; shift?: number }[] {
  switch (kind) {
    case 'KEMAC': return [{ at: 2, bits: 16 }];
    case 'PKE': return [{ at: 1, bits: 14 }];
    case 'SIGN': return [{ at: 0, bits: 12 }];
    case 'ID': case 'CERT': case 'EXT': return [{ at: 2, bits: 16 }];
    case 'IDR': case 'SP': case 'SAKKE': return [{ at: 3, bits: 16 }];
    case 'RAND': return [{ at: 1, bits: 8 }];
    case 'RANDR': return [{ at: 2, bits: 8 }];
    case 'IBAKE': case 'ESK': return [{ at: 1, bits: 16 }];
    default: return [];
  }
}

describe('length fields set to 0, 1, max and off by one', () => {
  it('every length field of every fixture and sample', () => {
    let cases = 0;
    let lastRejected = 0;
    for (const v of valid) {
      let m;
      try {
        m = decodeMessage(v.bytes);
      } catch {
        continue;
      }
      const fields = [{ abs: 8, bits: 8 }]; // HDR #CS
      for (const p of m.payloads) for (const f of lengthFields(p.kind)) fields.push({ abs: p.offset + f.at, bits: f.bits });
      for (const f of fields) {
        const wide = f.bits > 8;
        const mask = (1 << f.bits) - 1;
        const read = (b: Uint8Array): number => (wide ? ((b[f.abs]! << 8) | b[f.abs + 1]!) & mask : b[f.abs]!);
        const write = (b: Uint8Array, val: number): void => {
          if (wide) {
            const keep = ((b[f.abs]! << 8) | b[f.abs + 1]!) & ~mask & 0xffff;
            const w = keep | (val & mask);
            b[f.abs] = w >> 8;
            b[f.abs + 1] = w & 0xff;
          } else b[f.abs] = val & 0xff;
        };
        const actual = read(v.bytes);
        for (const val of [0, 1, mask, actual - 1, actual + 1]) {
          if (val < 0 || val > mask || val === actual) continue;
          const x = v.bytes.slice();
          write(x, val);
          const r = judge(x);
          cases++;
          // the last payload's length off by one can never be valid: truncation or a trailing byte
          const last = m.payloads[m.payloads.length - 1]!;
          if ((val === actual + 1 || val === actual - 1) && f.abs >= last.offset && last.kind !== 'KEMAC') {
            expect(r, `${v.name} last payload ${last.kind} length ${val}`).toBe('rejected');
            lastRejected++;
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(500);
    expect(lastRejected).toBeGreaterThan(20);
  });
});

describe('long chains and overflowing counts', () => {
  const hdr = (dt: number, next: number): number[] => [1, dt, next, 0, 1, 2, 3, 4, 0, 0];
  const ext = (next: number): number[] => [next, 0, 0, 1, 0xab];

  it('255 chained payloads: MIKEY_LIMIT by default (cap 64), a valid decode when the cap is raised; 10 000 stay linear', () => {
    const chain = (n: number): Uint8Array => {
      const bytes: number[] = hdr(14, 21);
      for (let i = 0; i < n; i++) bytes.push(...ext(i === n - 1 ? 0 : 21));
      return Uint8Array.from(bytes);
    };
    expect(decodeMessage(chain(64)).payloads).toHaveLength(64);
    try {
      decodeMessage(chain(65));
      expect.unreachable();
    } catch (e) {
      expect((e as MikeyError).code).toBe('MIKEY_LIMIT');
      expect((e as MikeyError).offset).toBe(10 + 5 * 63); // the Next payload field announcing the 65th
    }
    expect(() => decodeMessage(chain(255))).toThrow(/more than 64 payloads/);
    for (const n of [255, 10_000]) {
      const m = decodeMessage(chain(n), { maxPayloads: n });
      expect(m.payloads).toHaveLength(n);
      expect(m.payloads[n - 1]!.offset).toBe(10 + 5 * (n - 1));
    }
    // 255 chained payloads in an I_MESSAGE_1 (General Extensions are allowed anywhere)
    const b = [...hdr(22, 5), 21, 0, 0xe8, 0xf5, 0xa1, 0xb2, 0, 0, 0, 0];
    for (let i = 0; i < 254; i++) b.push(...ext(i === 253 ? 0 : 21));
    expect(() => decodeMessage(Uint8Array.from(b))).toThrow(MikeyError);
    expect(decodeMessage(Uint8Array.from(b), { maxPayloads: 255 }).payloads).toHaveLength(255);
    // inner chains are capped at 16 sub-payloads
    const inner: number[] = [];
    for (let i = 0; i < 17; i++) inner.push(i === 16 ? 0 : 14, 1, 1, 0, 1, 0x61);
    expect(() => decodeInnerChain(Uint8Array.from(inner))).toThrow(/more than 16 payloads/);
    expect(decodeInnerChain(Uint8Array.from(inner), { maxPayloads: 17 })).toHaveLength(17);
    // messages over 64 KiB are refused before parsing
    expect(() => decodeMessage(new Uint8Array(65537))).toThrow(/at most 65536/);
    // 255 chained T payloads: a typed duplicate error, not a crash
    const t: number[] = hdr(22, 5);
    for (let i = 0; i < 255; i++) t.push(i === 254 ? 0 : 5, 0, 1, 2, 3, 4, 5, 6, 7, 8);
    expect(() => decodeMessage(Uint8Array.from(t), { maxPayloads: 255 })).toThrow(/more than one T/);
  });

  it('#CS = 255 with a short map, GENERIC-ID entries claiming 64 KiB, 12/14-bit lengths at max', () => {
    const cases: number[][] = [
      [1, 22, 0, 0x80, 1, 2, 3, 4, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [1, 22, 0, 0x80, 1, 2, 3, 4, 255, 2, 1, 0, 0x7f],
      [1, 22, 0, 0x80, 1, 2, 3, 4, 255, 2, 1, 0, 0x00, 0xff, 0xff, 0],
      [...hdr(14, 4), 0xff, 0xff, 1, 2, 3],
      [...hdr(14, 2), 0, 0x3f, 0xff, 1, 2, 3],
      [...hdr(14, 21), 0, 0, 0xff, 0xff],
    ];
    for (const c of cases) {
      const e = (() => {
        try {
          decodeMessage(Uint8Array.from(c));
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e).toBeInstanceOf(MikeyError);
      expect((e as MikeyError).code).toBe('MIKEY_TRUNCATED');
    }
  });

  it('non-Uint8Array input is a typed error', () => {
    for (const x of [undefined, null, 'AQAF', [1, 2], new ArrayBuffer(4)]) {
      expect(() => decodeMessage(x as unknown as Uint8Array)).toThrow(MikeyError);
    }
  });
});
