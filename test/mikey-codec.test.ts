// MIKEY codec: round trips (encode(decode(x)) = x on every fixture and on random valid messages),
// span bookkeeping, inner chains and the ECCPT layout, the builders' shapes and V-flag rules, the
// MAC-slot helpers, text input, and strictness: each malformed case gives the expected MikeyError
// code at the expected byte offset; invalid models give MIKEY_ENCODE, never an untyped throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MikeyError, buildErrorMessage, buildIMessage1, buildIMessage2, buildRMessage1, buildRMessage2,
  buildRequestKeyPke, buildRequestKeyPsk, buildRequestKeyResp, buildUpdateIMessage1, buildUpdateRMessage1, decodeInnerChain, decodeMessage,
  encodeInnerChain, encodeMessage, encodeMessageDetailed, encodeWithMacSlot, macInput, ntpTime, ntpToDate,
  parseMessageText, keyMgmtLine, idr, type InnerPayload, type MikeyMessage, type Payload,
} from '../src/mikey/index.js';
import { ALICE, BOB, CS_MAP, SRTP_POLICY, T0, filler, fixtures, p256Point } from './mikey-fixtures.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** Strips decoder-only fields so a decoded message can be compared with the model it came from. */
function strip<T>(x: T): T {
  if (Array.isArray(x)) return x.map(strip) as T;
  if (x instanceof Uint8Array || typeof x !== 'object' || x === null) return x;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) {
    if (k === 'offset' || k === 'length' || k === 'plain' || k === 'version' || v === undefined) continue;
    if ((k === 'reserved' || k === 'authAlg' || k === 'tgkLen') && v === 0) continue; // defaults the decoder fills in
    o[k] = strip(v);
  }
  return o as T;
}

function rejects(bytes: Uint8Array, code: string, offset?: number): MikeyError {
  let err: unknown;
  try {
    decodeMessage(bytes);
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toBeInstanceOf(MikeyError);
  const me = err as MikeyError;
  expect(me.code, me.message).toBe(code);
  if (offset !== undefined) expect(me.offset, me.message).toBe(offset);
  return me;
}

function encodeRejects(fn: () => unknown, pattern?: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(MikeyError);
  expect((err as MikeyError).code).toBe('MIKEY_ENCODE');
  if (pattern) expect((err as MikeyError).message).toMatch(pattern);
}

// HDR for data type dt, SRTP-ID map with no CS; `next` = first payload type
const hdr = (dt: number, next: number, v = 0): string => `01 ${dt.toString(16).padStart(2, '0')} ${next.toString(16).padStart(2, '0')} ${v ? '80' : '00'} 01020304 00 00`;
const T = (next: number): string => `${next.toString(16).padStart(2, '0')} 00 e8f5a1b200000000`;
const RAND = (next: number): string => `${next.toString(16).padStart(2, '0')} 10 ${'a5'.repeat(16)}`;
const IDR = (next: number, role: number, s = 'a'): string =>
  `${next.toString(16).padStart(2, '0')} ${role.toString(16).padStart(2, '0')} 01 ${s.length.toString(16).padStart(4, '0')} ${Buffer.from(s).toString('hex')}`;
const IBAKE = (next: number): string => `${next.toString(16).padStart(2, '0')} 0003 c0c1c2`;
const V = (): string => `00 01 ${'11'.repeat(20)}`;

describe('round trips', () => {
  const all = fixtures();
  for (const f of all) {
    it(`${f.name}: decode(encode(m)) = m, encode(decode(x)) = x, spans agree`, () => {
      const enc = encodeMessageDetailed(f.msg);
      const dec = decodeMessage(enc.bytes);
      expect(strip(dec.header)).toEqual(strip(f.msg.header));
      expect(strip(dec.payloads)).toEqual(strip(f.msg.payloads));
      expect(hex(encodeMessage(dec))).toBe(hex(enc.bytes));
      expect(dec.header.length).toBe(enc.headerLength);
      expect(dec.payloads.map((p) => ({ offset: p.offset, length: p.length }))).toEqual(enc.spans);
      expect(dec.mac).toEqual(enc.mac);
      expect(hex(dec.bytes)).toBe(hex(enc.bytes));
    });
  }

  it('the decoded message does not alias the input buffer', () => {
    const bytes = encodeMessage(all[0]!.msg);
    const m = decodeMessage(bytes);
    const before = hex(encodeMessage(m));
    bytes.fill(0xee);
    expect(hex(encodeMessage(m))).toBe(before);
  });

  // random valid messages of a data type without a fixed grammar (TRANSFER_INIT, 14)
  const bytesArb = (max: number, min = 0) => fc.uint8Array({ minLength: min, maxLength: max });
  const kvArb = fc.oneof(
    fc.constant({ type: 0 as const }),
    bytesArb(8).map((spi) => ({ type: 1 as const, spi })),
    fc.tuple(bytesArb(6), bytesArb(6)).map(([from, to]) => ({ type: 2 as const, from, to })),
  );
  const payloadArb: fc.Arbitrary<Payload> = fc.oneof(
    fc.record({ kind: fc.constant('ID' as const), idType: fc.integer({ min: 0, max: 2 }), data: bytesArb(40) }),
    fc.record({ kind: fc.constant('IDR' as const), role: fc.integer({ min: 1, max: 7 }), idType: fc.integer({ min: 0, max: 2 }), data: bytesArb(40) }),
    fc.record({ kind: fc.constant('CERT' as const), certType: fc.integer({ min: 0, max: 255 }), data: bytesArb(60) }),
    fc.record({ kind: fc.constant('CHASH' as const), hashFunc: fc.constant(2), hash: bytesArb(32, 32) }),
    fc.record({ kind: fc.constant('ERR' as const), errNo: fc.integer({ min: 0, max: 255 }), reserved: fc.integer({ min: 0, max: 0xffff }) }),
    fc.record({ kind: fc.constant('EXT' as const), extType: fc.integer({ min: 0, max: 255 }), data: bytesArb(30) }),
    fc.record({ kind: fc.constant('PKE' as const), c: fc.integer({ min: 0, max: 3 }), data: bytesArb(80) }),
    fc.record({ kind: fc.constant('DH' as const), group: fc.constant(1), value: bytesArb(96, 96), reserved: fc.integer({ min: 0, max: 15 }), kv: kvArb }),
    fc.record({ kind: fc.constant('TR' as const), role: fc.integer({ min: 1, max: 4 }), tsType: fc.constant(2), value: fc.bigInt({ min: 0n, max: 0xffffffffn }) }),
    fc.record({ kind: fc.constant('RANDR' as const), role: fc.integer({ min: 1, max: 3 }), rand: bytesArb(32, 16) }),
    fc.record({ kind: fc.constant('IBAKE' as const), encrData: bytesArb(200) }),
    fc.record({ kind: fc.constant('ESK' as const), encrData: bytesArb(100) }),
    fc.record({ kind: fc.constant('SAKKE' as const), params: fc.integer({ min: 0, max: 255 }), idScheme: fc.integer({ min: 0, max: 255 }), data: bytesArb(100) }),
    fc.record({ kind: fc.constant('KEMAC' as const), encrAlg: fc.integer({ min: 0, max: 3 }), encrData: bytesArb(100), macAlg: fc.constant(2), mac: bytesArb(32, 32) }),
  );
  const msgArb = fc
    .record({
      csbId: fc.integer({ min: 0, max: 0xffffffff }),
      prf: fc.integer({ min: 0, max: 127 }),
      v: fc.boolean(),
      entries: fc.array(fc.record({ policyNo: fc.integer({ min: 0, max: 255 }), ssrc: fc.integer({ min: 0, max: 0xffffffff }), roc: fc.integer({ min: 0, max: 0xffffffff }) }), { maxLength: 4 }),
      t: fc.option(fc.record({ kind: fc.constant('T' as const), tsType: fc.constantFrom(0, 1), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) })),
      rand: fc.option(bytesArb(32, 16)),
      sp: fc.array(fc.record({ type: fc.integer({ min: 0, max: 255 }), value: bytesArb(4, 1) }), { maxLength: 5 }),
      middle: fc.array(payloadArb, { maxLength: 8 }),
      last: fc.option(
        fc.oneof(
          fc.record({ kind: fc.constant('V' as const), authAlg: fc.constant(1), mac: bytesArb(20, 20) }),
          fc.record({ kind: fc.constant('SIGN' as const), sType: fc.integer({ min: 0, max: 15 }), signature: bytesArb(140) }),
        ),
      ),
    })
    .map((r): MikeyMessage => {
      const params = r.sp.filter((q, i, a) => a.findIndex((x) => x.type === q.type) === i);
      const payloads: Payload[] = [];
      if (r.t) payloads.push(r.t);
      if (r.rand) payloads.push({ kind: 'RAND', rand: r.rand });
      payloads.push({ kind: 'SP', policyNo: 0, protType: 0, params }, ...r.middle.filter((p, i, a) => p.kind !== 'IBAKE' || a.findIndex((x) => x.kind === 'IBAKE') === i));
      if (r.last) payloads.push(r.last as Payload);
      const entries = r.entries.filter((e, i, a) => e.ssrc === 0 || a.findIndex((x) => x.ssrc === e.ssrc) === i);
      return { header: { dataType: 14, v: r.v, prf: r.prf, csbId: r.csbId, csMap: { type: 0, entries } }, payloads };
    });

  it('random valid messages (every payload family, KV types, GENERIC cases) survive encode → decode → encode', () => {
    fc.assert(
      fc.property(msgArb, (m) => {
        const b = encodeMessage(m);
        const d = decodeMessage(b);
        expect(strip(d.payloads)).toEqual(strip(m.payloads));
        expect(hex(encodeMessage(d))).toBe(hex(b));
      }),
      { numRuns: 300 },
    );
  });

  it('GENERIC-ID and Empty maps round-trip', () => {
    for (const csMap of [
      { type: 2 as const, entries: [{ csId: 1, protType: 0, s: true, policies: [0, 3], sessionData: filler(10, 1), spi: Uint8Array.of(9) }, { csId: 2, protType: 0, s: false, policies: [], sessionData: filler(4, 2), spi: new Uint8Array(0) }] },
      { type: 1 as const, count: 3 },
    ]) {
      const m: MikeyMessage = { header: { dataType: 22, v: true, prf: 1, csbId: 7, csMap }, payloads: [{ kind: 'T', tsType: 0, value: T0 }] };
      const b = encodeMessage(m);
      expect(strip(decodeMessage(b).header)).toEqual(strip(m.header));
      expect(hex(encodeMessage(decodeMessage(b)))).toBe(hex(b));
    }
  });
});

describe('inner chains (IBAKE / ESK / KEMAC plaintexts)', () => {
  it('IDRi ‖ ECCPTi ‖ IDRr: implicit first type, last next = 0, P-256 ECCPT is 72 octets', () => {
    const point = p256Point();
    const chain: InnerPayload[] = [idr(1, ALICE), { kind: 'ECCPT', curve: 8, point, kv: { type: 0 } }, idr(2, BOB)];
    const b = encodeInnerChain(chain);
    const idri = 5 + ALICE.length;
    expect(b[0]).toBe(25); // IDRi's next payload: ECCPT
    expect(b[idri]).toBe(14); // ECCPT's next payload: IDR
    expect(hex(b.subarray(idri + 2, idri + 67))).toBe(hex(point));
    expect(hex(b.subarray(idri + 67, idri + 72))).toBe('0000000000'); // 1 pad + auth alg + TGK len + reserved/KV
    expect(b[idri + 72]).toBe(0); // IDRr is last
    const d = decodeInnerChain(b);
    expect(d.map((p) => [p.kind, p.offset, p.length])).toEqual([['IDR', 0, idri], ['ECCPT', idri, 72], ['IDR', idri + 72, 5 + BOB.length]]);
    expect(strip(d)).toEqual(strip(chain.map((p) => (p.kind === 'ECCPT' ? { ...p, authAlg: 0, tgkLen: 0, reserved: 0 } : p))));
    expect(hex(encodeInnerChain(d))).toBe(hex(b));
  });

  it('ECCPT length from curve + SEC1 prefix, padded to 32 bits from the sub-payload start', () => {
    const cases: [number, number, number][] = [
      [8, 0x02, 40], // P-256 compressed: 2 + 33 + 1 + 4
      [11, 0x04, 104], // P-384 uncompressed: 2 + 97 + 1 + 4
      [14, 0x04, 140], // P-521 uncompressed: 2 + 133 + 1 + 4
      [5, 0x03, 36], // P-224 compressed: 2 + 29 + 1 + 4
      [1, 0x04, 56], // P-192 uncompressed: 2 + 49 + 1 + 4
    ];
    for (const [curve, prefix, total] of cases) {
      const fb = { 8: 32, 11: 48, 14: 66, 5: 28, 1: 24 }[curve]!;
      const point = new Uint8Array(prefix === 4 ? 1 + 2 * fb : 1 + fb).fill(0x5a);
      point[0] = prefix;
      const e: InnerPayload = { kind: 'ECCPT', curve, point, kv: { type: 1, spi: Uint8Array.of(1, 2) } };
      const b = encodeInnerChain([e], { first: 'ECCPT' });
      expect(b.length, `curve ${curve}`).toBe(total + 3);
      expect((2 + point.length + ((4 - ((2 + point.length) % 4)) % 4)) % 4).toBe(0);
      const [d] = decodeInnerChain(b, { first: 'ECCPT' });
      expect(d!.kind === 'ECCPT' && hex(d.point)).toBe(hex(point));
    }
  });

  it('ECCPT defects are typed errors: unknown curve, bad SEC1 prefix, non-zero padding, truncation', () => {
    const good = encodeInnerChain([{ kind: 'ECCPT', curve: 8, point: p256Point(), kv: { type: 0 } }], { first: 'ECCPT' });
    const bad = (mut: (b: Uint8Array) => void, code: string, at: number): void => {
      const b = good.slice();
      mut(b);
      let err: unknown;
      try {
        decodeInnerChain(b, { first: 'ECCPT' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MikeyError);
      expect((err as MikeyError).code).toBe(code);
      expect((err as MikeyError).offset).toBe(at);
    };
    bad((b) => (b[1] = 240), 'MIKEY_BAD_VALUE', 1);
    bad((b) => (b[2] = 0x05), 'MIKEY_BAD_VALUE', 2);
    bad((b) => (b[67] = 1), 'MIKEY_BAD_VALUE', 67);
    bad((b) => (b[71] = 3), 'MIKEY_BAD_VALUE', 71); // KV type 3
    let err: unknown;
    try {
      decodeInnerChain(good.subarray(0, 60), { first: 'ECCPT' });
    } catch (e) {
      err = e;
    }
    expect((err as MikeyError).code).toBe('MIKEY_TRUNCATED');
    encodeRejects(() => encodeInnerChain([{ kind: 'ECCPT', curve: 8, point: new Uint8Array(64).fill(4), kv: { type: 0 } }], { first: 'ECCPT' }), /65 octets/);
  });

  it('ESK plaintext ID ‖ SK, KEMAC plaintext of Key data; first kind enforced both ways', () => {
    const sk: InnerPayload[] = [idr(1, ALICE), { kind: 'SK', skType: 1, key: filler(32, 3), kv: { type: 0 } }];
    const b = encodeInnerChain(sk);
    expect(strip(decodeInnerChain(b))).toEqual(strip(sk));
    encodeRejects(() => encodeInnerChain([{ kind: 'SK', skType: 1, key: filler(16), kv: { type: 0 } }]), /first sub-payload must be IDR/);
    const keys: InnerPayload[] = [{ kind: 'KEY', keyType: 7, key: filler(96, 4), kv: { type: 2, from: new Uint8Array(4), to: Uint8Array.of(1, 2, 3, 4) } }];
    const kb = encodeInnerChain(keys, { first: 'KEY' });
    expect(strip(decodeInnerChain(kb, { first: 'KEY' }))).toEqual(strip(keys));
    // top-level payloads are not sub-payloads
    expect(() => decodeInnerChain(unhex('0b 04 01020304'), { first: 'KEY' })).toThrow(MikeyError);
    expect(decodeInnerChain(new Uint8Array(0))).toEqual([]);
    // a sub-payload kind outside `allowed` is rejected with its offset
    try {
      decodeInnerChain(b, { allowed: ['IDR'] });
      expect.unreachable();
    } catch (e) {
      expect((e as MikeyError).code).toBe('MIKEY_UNKNOWN_PAYLOAD');
      expect((e as MikeyError).offset).toBe(0);
    }
  });
});

describe('builders', () => {
  const rand = filler(16, 1);
  const i1 = buildIMessage1({ csbId: 0x01020304, csMap: CS_MAP, t: T0, rand, idri: ALICE, idrr: BOB, sp: [SRTP_POLICY], ibake: filler(150, 2) });

  it('I_MESSAGE_1 = HDR(22, V=1), T, RAND, IDRi, IDRr, {SP}, IBAKE — bytes checked by hand', () => {
    const b = encodeMessage(i1);
    expect(hex(b.subarray(0, 10))).toBe('01160580' + '01020304' + '02' + '00');
    expect(decodeMessage(b).payloads.map((p) => (p.kind === 'IDR' ? `IDR${p.role}` : p.kind))).toEqual(['T', 'RAND', 'IDR1', 'IDR2', 'SP', 'IBAKE']);
    const m = decodeMessage(b);
    const ib = m.payloads[5]!;
    expect(hex(b.subarray(ib.offset, ib.offset + 3))).toBe('000096'); // last, 150 octets
  });

  it('V flags and copied header fields per RFC 6267', () => {
    const r1 = buildRMessage1({ request: i1.header, t: T0, idri: ALICE, idrr: 'sip:other@example.org', ibake: filler(200, 3) });
    const i2 = buildIMessage2({ request: r1.header, t: T0 + 1n, rand, idri: ALICE, idrr: 'sip:other@example.org', ibake: filler(120, 4), esk: filler(90, 5) });
    const r2 = buildRMessage2({ request: i2.header, t: T0 + 1n, idri: ALICE, idrr: 'sip:other@example.org' });
    const req = buildRequestKeyPsk({ csbId: 9, t: T0, rand, identities: [{ role: 1, id: ALICE }], kms: 'kms.example.org' });
    const pke = buildRequestKeyPke({ csbId: 10, t: T0, rand, identities: [{ role: 2, id: BOB }], kms: 'kms', pke: { kind: 'PKE', c: 0, data: filler(64) }, sign: { sType: 0, signature: filler(64) } });
    const resp = buildRequestKeyResp({ request: req.header, t: T0, kemac: { kind: 'KEMAC', encrAlg: 1, encrData: filler(40), macAlg: 0, mac: new Uint8Array(0) } });
    const err = buildErrorMessage({ request: i1.header, t: T0 + 2n, errors: [0] });
    const table: [MikeyMessage, number, boolean][] = [[i1, 22, true], [r1, 23, true], [i2, 24, true], [r2, 25, false], [req, 19, true], [pke, 20, true], [resp, 21, false], [err, 6, false]];
    for (const [m, dt, v] of table) {
      const d = decodeMessage(encodeMessage(m));
      expect(d.header.dataType).toBe(dt);
      expect(d.header.v, `V in data type ${dt}`).toBe(v);
    }
    for (const m of [r1, i2, r2, err]) {
      expect(m.header.csbId).toBe(i1.header.csbId);
      expect(m.header.prf).toBe(i1.header.prf);
    }
    expect(req.header.csMap).toEqual({ type: 1, count: 0 });
    expect(resp.header.csMap).toEqual({ type: 1, count: 0 });
    expect(resp.header.csbId).toBe(9);
    expect(decodeMessage(encodeMessage(i2)).payloads.map((p) => p.kind)).toEqual(['T', 'RAND', 'IDR', 'IDR', 'IBAKE', 'ESK']);
    expect(decodeMessage(encodeMessage(r2)).payloads.map((p) => p.kind)).toEqual(['T', 'IDR', 'IDR', 'V']);
  });

  it('CSB update round trip (RFC 6267 §5.3): no RAND, same CSB ID, R-initiated identity order, V in the answer', () => {
    const u1 = buildUpdateIMessage1({ original: i1.header, t: T0 + 100n, idri: ALICE, idrr: BOB, ibake: filler(90, 6) });
    const d1 = decodeMessage(encodeMessage(u1));
    expect(d1.header).toMatchObject({ dataType: 22, v: true, csbId: i1.header.csbId });
    expect(d1.payloads.map((p) => (p.kind === 'IDR' ? `IDR${p.role}` : p.kind))).toEqual(['T', 'IDR1', 'IDR2', 'IBAKE']);
    const ur = buildUpdateIMessage1({ original: i1.header, t: T0 + 101n, idri: ALICE, idrr: BOB, responderInitiated: true });
    expect(decodeMessage(encodeMessage(ur)).payloads.map((p) => (p.kind === 'IDR' ? `IDR${p.role}` : p.kind))).toEqual(['T', 'IDR2', 'IDR1']);
    const a1 = buildUpdateRMessage1({ request: u1.header, t: T0 + 100n, idri: ALICE, idrr: BOB, ibake: filler(90, 7) });
    const e = encodeWithMacSlot(a1);
    const da = decodeMessage(e.fill(filler(20, 8)));
    expect(da.header).toMatchObject({ dataType: 23, v: false, csbId: i1.header.csbId });
    expect(da.payloads.map((p) => p.kind)).toEqual(['T', 'IDR', 'IDR', 'IBAKE', 'V']);
    expect(buildUpdateIMessage1({ original: i1.header, t: T0 }).payloads.map((p) => p.kind)).toEqual(['T']);
  });

  it('responses copy T exactly (type and value)', () => {
    const tCounter = { kind: 'T' as const, tsType: 2, value: 99n };
    const r1 = buildRMessage1({ request: i1.header, t: tCounter, idri: ALICE, idrr: BOB, ibake: filler(8) });
    expect(r1.payloads[0]).toEqual(tCounter);
  });

  it('NTP time helpers: 2026-11-28T06:00:00.250Z', () => {
    expect(ntpTime(new Date('1970-01-01T00:00:00Z'))).toBe(2208988800n << 32n);
    expect(ntpToDate(T0).toISOString()).toBe('2026-11-28T06:00:00.250Z');
    expect(T0 >> 32n).toBe(BigInt(Date.parse('2026-11-28T06:00:00Z') / 1000) + 2208988800n);
  });

  it('builders validate their inputs with MIKEY_ENCODE', () => {
    encodeRejects(() => encodeMessage(buildIMessage1({ csbId: -1, t: T0, rand, idri: ALICE, idrr: BOB, ibake: filler(8) })), /CSB ID/);
    encodeRejects(() => encodeMessage(buildIMessage1({ csbId: 1, t: T0, rand: new Uint8Array(0), idri: ALICE, idrr: BOB, ibake: filler(8) })), /RAND/);
    encodeRejects(() => encodeMessage(buildRMessage2({ request: i1.header, t: T0, mac: filler(19) })), /MAC/);
    encodeRejects(() => encodeMessage(buildIMessage1({ csbId: 1, t: T0, rand, idri: ALICE, idrr: BOB, ibake: new Uint8Array(70000) })), /IBAKE/);
    encodeRejects(() => buildErrorMessage({ request: i1.header, t: T0, errors: [] }), /at least one/);
  });
});

describe('MAC slot helpers', () => {
  it('encodeWithMacSlot zero-fills the MAC, reports its offset, fill() writes it in place', () => {
    const r2 = buildRMessage2({ request: { dataType: 24, v: true, prf: 0, csbId: 5, csMap: CS_MAP }, t: T0, idri: ALICE, idrr: BOB, mac: filler(20, 9) });
    const e = encodeWithMacSlot(r2);
    expect(e.mac).toEqual({ offset: e.bytes.length - 20, length: 20 });
    expect(hex(e.bytes.subarray(e.mac.offset))).toBe('00'.repeat(20));
    expect(e.bytes[e.mac.offset - 1]).toBe(1); // auth alg
    const mac = filler(20, 77);
    const out = e.fill(mac);
    const d = decodeMessage(out);
    const v = d.payloads[d.payloads.length - 1]!;
    expect(v.kind === 'V' && hex(v.mac)).toBe(hex(mac));
    expect(hex(macInput(out))).toBe(hex(out.subarray(0, out.length - 20)));
    encodeRejects(() => e.fill(filler(19)), /20 octets/);
    encodeRejects(() => encodeWithMacSlot(buildIMessage1({ csbId: 1, t: T0, rand: filler(16), idri: ALICE, idrr: BOB, ibake: filler(8) })), /last payload is V or KEMAC/);
  });

  it('HMAC-SHA-256-256 slot is 32 octets; PSK-mode KEMAC MAC slot too', () => {
    const r2 = buildRMessage2({ request: { dataType: 24, v: true, prf: 1, csbId: 5, csMap: CS_MAP }, t: T0, authAlg: 2 });
    expect(encodeWithMacSlot(r2).mac.length).toBe(32);
    const psk = fixtures().find((f) => f.name === 'psk-init')!.msg;
    const e = encodeWithMacSlot(psk);
    expect(e.mac).toEqual({ offset: e.bytes.length - 20, length: 20 });
  });

  it('macInput leaves out every ESK payload (RFC 6267 §9.3)', () => {
    const m: MikeyMessage = {
      header: { dataType: 14, v: false, prf: 0, csbId: 1, csMap: { type: 0, entries: [] } },
      payloads: [{ kind: 'T', tsType: 0, value: T0 }, { kind: 'ESK', encrData: filler(30) }, idr(1, ALICE), { kind: 'ESK', encrData: filler(12) }, { kind: 'V', authAlg: 1, mac: filler(20) }],
    };
    const b = encodeMessage(m);
    const d = decodeMessage(b);
    const [, e1, id, e2, v] = d.payloads;
    const want = Buffer.concat([b.subarray(0, e1!.offset), b.subarray(id!.offset, e2!.offset), b.subarray(v!.offset, v!.offset + 2)]);
    expect(hex(macInput(b))).toBe(want.toString('hex'));
    expect(hex(macInput(b, { excludeEsk: false }))).toBe(hex(b.subarray(0, b.length - 20)));
  });
});

describe('text input', () => {
  const b = encodeMessage(fixtures()[0]!.msg);
  it('base64, hex (with spaces/colons), a=key-mgmt line, SDP body', () => {
    expect(parseMessageText(Buffer.from(b).toString('base64'))).toEqual({ bytes: b, format: 'base64' });
    expect(parseMessageText(hex(b).replace(/(..)/g, '$1 ')).bytes).toEqual(b);
    expect(parseMessageText(hex(b).toUpperCase().replace(/(..)(?!$)/g, '$1:')).bytes).toEqual(b);
    expect(parseMessageText(keyMgmtLine(b))).toEqual({ bytes: b, format: 'key-mgmt' });
    expect(parseMessageText(`key-mgmt: mikey ${Buffer.from(b).toString('base64')}`).bytes).toEqual(b);
    const sdp = `v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n${keyMgmtLine(b)}\r\nm=audio 4000 RTP/SAVP 0\r\n`;
    expect(parseMessageText(sdp).bytes).toEqual(b);
  });
  it('bad text gives MIKEY_INPUT', () => {
    for (const s of ['', '   ', 'AQAFgM0', 'a=key-mgmt:kerberos AAAA', '!!!!', `${keyMgmtLine(b)}\n${keyMgmtLine(b)}`, 'abc']) {
      try {
        parseMessageText(s);
        expect.unreachable(s);
      } catch (e) {
        expect(e, s).toBeInstanceOf(MikeyError);
        expect((e as MikeyError).code).toBe('MIKEY_INPUT');
      }
    }
  });
});

describe('strictness', () => {
  it('a minimal valid I_MESSAGE_1 update decodes (the hand-built base for the cases below)', () => {
    const m = decodeMessage(unhex(hdr(22, 5, 1) + T(11) + RAND(14) + IDR(14, 1) + IDR(22, 2, 'b') + IBAKE(0)));
    expect(m.payloads.map((p) => p.kind)).toEqual(['T', 'RAND', 'IDR', 'IDR', 'IBAKE']);
  });
  it('version, data type, map type', () => {
    rejects(unhex('02' + hdr(22, 0).slice(2)), 'MIKEY_VERSION', 0);
    rejects(unhex('00' + hdr(22, 0).slice(2)), 'MIKEY_VERSION', 0);
    rejects(unhex(hdr(27, 0)), 'MIKEY_UNKNOWN_DATA_TYPE', 1);
    rejects(unhex('01 16 00 80 01020304 00 03'), 'MIKEY_BAD_VALUE', 9);
    rejects(unhex('01 16 00 80 01020304 02 00 00000000'), 'MIKEY_TRUNCATED', 10);
    rejects(unhex('01 16'), 'MIKEY_TRUNCATED', 2);
    rejects(new Uint8Array(0), 'MIKEY_TRUNCATED', 0);
  });
  it('unknown / unsupported / sub-payload-only types at the top level', () => {
    for (const t of [18, 19, 27, 250, 16, 17, 20, 24, 25]) {
      rejects(unhex(hdr(22, 5) + T(t) + '00 00 00 00'), 'MIKEY_UNKNOWN_PAYLOAD', 10);
    }
    rejects(unhex(hdr(22, 99)), 'MIKEY_UNKNOWN_PAYLOAD', 2);
  });
  it('chain end: trailing bytes, early end, truncation', () => {
    rejects(unhex(hdr(22, 5) + T(0) + '00'), 'MIKEY_TRAILING', 20);
    rejects(unhex(hdr(22, 0) + T(0)), 'MIKEY_TRAILING', 10);
    rejects(unhex(hdr(22, 5) + T(0).slice(0, -2)), 'MIKEY_TRUNCATED', 12);
  });
  it('order, duplicates and missing payloads per data type', () => {
    rejects(unhex(hdr(22, 5) + T(5) + T(0)), 'MIKEY_DUPLICATE', 20);
    rejects(unhex(hdr(22, 11) + RAND(5) + T(0)), 'MIKEY_MISSING', 10); // T must come first
    rejects(unhex(hdr(22, 5) + T(14) + IDR(11, 1) + RAND(0)), 'MIKEY_ORDER', 26);
    rejects(unhex(hdr(22, 5) + T(14) + IDR(14, 1) + IDR(0, 1)), 'MIKEY_DUPLICATE', 26); // two IDRi
    rejects(unhex(hdr(22, 5) + T(14) + IDR(14, 1) + IDR(14, 2) + IDR(0, 2)), 'MIKEY_DUPLICATE', 32);
    rejects(unhex(hdr(22, 5) + T(23) + `16 0001 aa` + IBAKE(0)), 'MIKEY_ORDER', 24); // ESK before IBAKE
    rejects(unhex(hdr(22, 5) + T(22) + IBAKE(22) + IBAKE(0)), 'MIKEY_DUPLICATE', 26);
    rejects(unhex(hdr(22, 5) + T(9) + V()), 'MIKEY_UNKNOWN_PAYLOAD', 20); // no V in I_MESSAGE_1
    rejects(unhex(hdr(24, 5) + T(14) + IDR(14, 1) + IDR(22, 2) + IBAKE(0)), 'MIKEY_MISSING', 20); // I_MESSAGE_2 needs RAND
    rejects(unhex(hdr(25, 5) + T(0)), 'MIKEY_MISSING', 20); // R_MESSAGE_2 needs V
    rejects(unhex(hdr(19, 5) + T(11) + RAND(14) + IDR(14, 3) + IDR(9, 1) + V()), 'MIKEY_MISSING', 38); // IDRkms before the user's IDR
    rejects(unhex(hdr(14, 5) + T(9) + `09 01 ${'11'.repeat(20)}` + V()), 'MIKEY_ORDER', 42); // V must be last (generic rule)
  });
  it('SP rules: Empty map forbids SP, policy numbers and parameter types are unique, TLVs fill the length', () => {
    const sp = (next: number, no: number, tlv: string): string =>
      `${next.toString(16).padStart(2, '0')} ${no.toString(16).padStart(2, '0')} 00 ${(tlv.replace(/\s/g, '').length / 2).toString(16).padStart(4, '0')} ${tlv}`;
    expect(decodeMessage(unhex(hdr(22, 5) + T(10) + sp(10, 0, '00 01 01') + sp(0, 1, ''))).payloads.length).toBe(3);
    rejects(unhex('01 16 05 80 01020304 00 01' + T(10) + sp(0, 0, '')), 'MIKEY_UNKNOWN_PAYLOAD', 20);
    rejects(unhex(hdr(22, 5) + T(10) + sp(10, 0, '') + sp(0, 0, '')), 'MIKEY_DUPLICATE', 25);
    rejects(unhex(hdr(22, 5) + T(10) + sp(0, 0, '00 01 01 00 01 02')), 'MIKEY_DUPLICATE', 28);
    rejects(unhex(hdr(22, 5) + T(10) + '00 00 00 0003 00 05 01'), 'MIKEY_TRUNCATED', 27);
  });
  it('field values that size a field, or that we define, are checked', () => {
    rejects(unhex(hdr(22, 5) + '00 07 e8f5a1b200000000'), 'MIKEY_BAD_VALUE', 11); // TS type 7
    rejects(unhex(hdr(25, 5) + T(9) + `00 03 ${'11'.repeat(20)}`), 'MIKEY_BAD_VALUE', 21); // auth alg 3
    rejects(unhex(hdr(22, 5) + T(11) + '00 00'), 'MIKEY_BAD_LENGTH', 21); // RAND len 0
    rejects(unhex(hdr(22, 5) + T(11) + '00 0f' + '00'.repeat(15)), 'MIKEY_BAD_LENGTH', 21); // RAND < 128 bits
    rejects(unhex(hdr(22, 5) + T(10) + '00 00 00 0002 00 00'), 'MIKEY_BAD_LENGTH', 26); // empty SRTP parameter
    rejects(unhex('01 16 05 80 01020304 03 00 00 00000005 00000000 00 00000000 00000000 00 00000005 00000000' + T(0)), 'MIKEY_DUPLICATE', 29); // same SSRC twice
    expect(decodeMessage(unhex('01 16 05 80 01020304 02 00 00 00000000 00000000 00 00000000 00000000' + T(0))).header.csMap).toMatchObject({ type: 0 }); // SSRC 0 twice is fine
    rejects(unhex(hdr(22, 5) + T(14) + '00 00 01 0001 61'), 'MIKEY_BAD_VALUE', 21); // IDR role 0
    rejects(unhex(hdr(22, 5) + T(14) + '00 01 09 0001 61'), 'MIKEY_BAD_VALUE', 22); // ID type 9
    rejects(unhex(hdr(14, 5) + T(8) + '00 07' + '00'.repeat(20)), 'MIKEY_BAD_VALUE', 21); // hash func 7
    rejects(unhex(hdr(14, 5) + T(3) + '00 05' + '00'.repeat(20)), 'MIKEY_BAD_VALUE', 21); // DH group 5
    rejects(unhex(hdr(14, 5) + T(1) + '00 09 0000 00'), 'MIKEY_BAD_VALUE', 21); // KEMAC encr alg 9
  });
  it('a NULL-encrypted PSK KEMAC must hold a valid Key data chain; its errors point into the message', () => {
    const psk = fixtures().find((f) => f.name === 'psk-init-gst')!;
    const b = encodeMessage(psk.msg);
    const k = decodeMessage(b).payloads.find((p) => p.kind === 'KEMAC')!;
    const bad = b.slice();
    bad[k.offset + 4 + 1] = 0x90; // Key data type 9
    const e = rejects(bad, 'MIKEY_BAD_VALUE', k.offset + 4 + 1);
    expect(e.message).toMatch(/KEMAC plaintext/);
  });
  it('the encoder refuses what the decoder would refuse', () => {
    const base = fixtures()[0]!.msg;
    encodeRejects(() => encodeMessage({ ...base, payloads: [...base.payloads, { kind: 'T', tsType: 0, value: 1n }] }), /more than one T/);
    encodeRejects(() => encodeMessage({ ...base, payloads: [{ kind: 'SIGN', sType: 0, signature: filler(4) }, ...base.payloads] }));
    encodeRejects(() => encodeMessage({ ...base, payloads: [...base.payloads, { kind: 'NOPE' } as unknown as Payload] }));
    encodeRejects(() => encodeMessage({ ...base, payloads: [{ kind: 'KEY', keyType: 0, key: filler(4), kv: { type: 0 } } as unknown as Payload] }), /not allowed/);
    encodeRejects(() => encodeMessage({ header: { ...base.header, dataType: 40 }, payloads: [] }), /data type/);
    encodeRejects(() => encodeMessage({ header: { ...base.header, csMap: { type: 0, entries: new Array(256).fill({ policyNo: 0, ssrc: 0, roc: 0 }) } }, payloads: base.payloads }), /#CS/);
    encodeRejects(() => encodeMessage({ header: base.header, payloads: [{ kind: 'T', tsType: 2, value: 1n << 40n }] }), /32-bit/);
    encodeRejects(() => encodeMessage(null as unknown as MikeyMessage));
    encodeRejects(() => encodeMessage({ header: base.header, payloads: [null as unknown as Payload] }));
    encodeRejects(() => encodeMessage({ header: null as unknown as MikeyMessage['header'], payloads: [] }));
    encodeRejects(() => encodeMessage({ header: { ...base.header, csMap: { type: 0, entries: [{ policyNo: 0, ssrc: 5, roc: 0 }, { policyNo: 0, ssrc: 5, roc: 0 }] } }, payloads: base.payloads }), /SSRC/);
  });
  it('junk models given to the encoder give MIKEY_ENCODE, never an untyped throw', () => {
    const base = fixtures()[0]!.msg;
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.anything(), fc.record({ kind: fc.constantFrom('T', 'IDR', 'SP', 'KEMAC', 'ECCPT', 'V', 'DH', 'SIGN'), x: fc.anything() })), { maxLength: 4 }), fc.anything(), (payloads, hdr) => {
        for (const m of [{ header: base.header, payloads }, { header: hdr, payloads: base.payloads }]) {
          try {
            encodeMessage(m as MikeyMessage);
          } catch (e) {
            if (!(e instanceof MikeyError) || e.code !== 'MIKEY_ENCODE') throw e;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
  it('decodeMessage with shapes: false skips only the grammar', () => {
    const b = unhex(hdr(25, 5) + T(0));
    expect(decodeMessage(b, { shapes: false }).payloads.length).toBe(1);
    expect(() => decodeMessage(unhex(hdr(25, 5) + T(0) + '00'), { shapes: false })).toThrow(MikeyError);
  });
});
