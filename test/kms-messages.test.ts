// The KMS exchange on the wire, checked against things independent of src/kms:
// * the V MAC of REQUEST_KEY_PSK / REQUEST_KEY_RESP recomputed here with node:crypto HMAC-SHA-1
//   and the auth key of spec/vectors/derived-mikey-kdf.json (derived-2: same PSK, RAND, CSB ID);
// * the response KEMAC decrypted here with node:crypto AES-128-CTR, the vector's encr/salt keys
//   and the RFC 3830 §4.2.3 IV built by hand;
// * round trips with tampering (any flipped byte or a wrong PSK is rejected);
// * Wireshark (oracles/mikey-tshark --allow-unknown) accepts every emitted message.
import { createDecipheriv, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeErrorMessage, decodeKeyRequest, decodeKeyResponse, encodeErrorMessage, encodeKeyRequest, encodeKeyResponse,
  verifyKeyRequest, type KeyRequestSpec,
} from '../src/kms/messages.js';
import fc from 'fast-check';
import { KmsError } from '../src/kms/errors.js';
import { decodeMessage } from '../src/mikey/index.js';
import { haveTshark, tsharkJudge } from './helpers/tshark.js';
import { VECTORS } from './helpers/repo.js';

const vec = (JSON.parse(readFileSync(join(VECTORS, 'derived-mikey-kdf.json'), 'utf8')) as {
  cases: { id: string; input: Record<string, string>; output: Record<string, string> }[];
}).cases.find((c) => c.id.startsWith('derived-2'))!;
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const PSK = hex(vec.input.inkey!);
const RAND = hex(vec.input.RAND!);
const CSB = parseInt(vec.input.csb_id!, 16);
const AUTH_KEY = Buffer.from(vec.output.auth_key_160!, 'hex');
const ENCR_KEY = Buffer.from(vec.output.encr_key_128!, 'hex');
const SALT_KEY = Buffer.from(vec.output.salt_key_112!, 'hex');
const T = 0xed0c5e8a12345678n;
const ALICE = 'sip:alice@example.org';
const KMS = 'kms:example.org';

const spec: KeyRequestSpec = { csbId: CSB, tNtp: T, rand: RAND, identities: [ALICE], kmsId: KMS };

function independentMac(bytes: Uint8Array, ids: string[]): Buffer {
  return createHmac('sha1', AUTH_KEY).update(bytes.subarray(0, bytes.length - 20)).update(Buffer.from(ids.join(''))).digest();
}

const oracleIt = it.runIf(haveTshark());

describe('REQUEST_KEY_PSK', () => {
  it('has the RFC 6267 shape and a V MAC that an independent HMAC reproduces', () => {
    const bytes = encodeKeyRequest(spec, PSK);
    const m = decodeMessage(bytes);
    expect(m.header).toMatchObject({ dataType: 19, v: true, prf: 0, csbId: CSB, csMap: { type: 1, count: 0 } });
    expect(m.payloads.map((p) => (p.kind === 'IDR' ? `IDR${p.role}` : p.kind))).toEqual(['T', 'RAND', 'IDR1', 'IDR3', 'V']);
    expect(Buffer.from(bytes.subarray(bytes.length - 20))).toEqual(independentMac(bytes, [ALICE, KMS]));
  });

  it('verifies with the right PSK only, and not after any byte is changed', () => {
    const bytes = encodeKeyRequest(spec, PSK);
    const req = decodeKeyRequest(bytes);
    expect(req).toMatchObject({ csbId: CSB, prf: 0, tNtp: T, identities: [ALICE], kmsId: KMS, pskName: ALICE, authAlg: 1 });
    expect(verifyKeyRequest(req, PSK)).toBe(true);
    const wrong = PSK.slice();
    wrong[0]! ^= 1;
    expect(verifyKeyRequest(req, wrong)).toBe(false);
    let rejected = 0;
    for (let i = 0; i < bytes.length; i++) {
      const t = bytes.slice();
      t[i]! ^= 0x01;
      try {
        if (!verifyKeyRequest(decodeKeyRequest(t), PSK)) rejected++;
      } catch {
        rejected++;
      }
    }
    expect(rejected).toBe(bytes.length);
  });

  it('carries IDRpsk, several identities and a wanted-period KEMAC (empty K_PR, interval)', () => {
    const s2: KeyRequestSpec = {
      ...spec, authAlg: 2, prf: 1, identities: [ALICE, 'sip:desk@example.org'], pskName: 'sip:team@example.org',
      wanted: [{ identity: ALICE, fromNtp: 100n << 32n, toNtp: 200n << 32n }],
    };
    const bytes = encodeKeyRequest(s2, PSK);
    const m = decodeMessage(bytes);
    expect(m.payloads.map((p) => (p.kind === 'IDR' ? `IDR${p.role}` : p.kind))).toEqual(['T', 'RAND', 'IDR1', 'IDR1', 'IDR3', 'IDR4', 'KEMAC', 'V']);
    const req = decodeKeyRequest(bytes);
    expect(req.pskName).toBe('sip:team@example.org');
    expect(req.wanted).toEqual([{ identity: ALICE, fromNtp: 100n << 32n, toNtp: 200n << 32n }]);
    expect(verifyKeyRequest(req, PSK)).toBe(true);
  });

  it('maps malformed requests to typed errors with the ERR number to answer', () => {
    const bytes = encodeKeyRequest(spec, PSK);
    expect(() => decodeKeyRequest(bytes.subarray(0, 20))).toThrow(expect.objectContaining({ code: 'KMS_BAD_REQUEST', mikeyError: 13 }));
    const pke = bytes.slice();
    pke[1] = 20;
    expect(() => decodeKeyRequest(pke)).toThrow(expect.objectContaining({ mikeyError: expect.any(Number) }));
    const other = bytes.slice();
    other[1] = 22; // I_MESSAGE_1
    expect(() => decodeKeyRequest(other)).toThrow(expect.objectContaining({ code: 'KMS_BAD_REQUEST' }));
    const prf = bytes.slice();
    prf[3] = 0x80 | 5;
    expect(() => decodeKeyRequest(prf)).toThrow(expect.objectContaining({ code: 'KMS_UNSUPPORTED', mikeyError: 2 }));
  });

});

describe('REQUEST_KEY_RESP', () => {
  const key = new Uint8Array(96).map((_, i) => (i * 7 + 3) & 0xff);
  const issued = [{ identity: ALICE, fromNtp: 1000n << 32n, toNtp: 2000n << 32n, key }];

  it('encrypts (ID || K_PR) so that independent AES-128-CTR with the vector keys reads it back', () => {
    const req = decodeKeyRequest(encodeKeyRequest(spec, PSK));
    const bytes = encodeKeyResponse(req, issued, PSK);
    const m = decodeMessage(bytes);
    expect(m.header).toMatchObject({ dataType: 21, v: false, prf: 0, csbId: CSB, csMap: { type: 1, count: 0 } });
    expect(m.payloads.map((p) => (p.kind === 'IDR' ? `IDR${p.role}` : p.kind))).toEqual(['T', 'IDR1', 'IDR3', 'KEMAC', 'V']);
    expect(m.payloads[0]).toMatchObject({ kind: 'T', value: T });
    expect(Buffer.from(bytes.subarray(bytes.length - 20))).toEqual(independentMac(bytes, [ALICE, KMS]));
    const kemac = m.payloads.find((p) => p.kind === 'KEMAC')!;
    if (kemac.kind !== 'KEMAC') throw new Error('no KEMAC');
    expect(kemac.encrAlg).toBe(1);
    expect(kemac.macAlg).toBe(0);
    // IV = (salt XOR (0x0000 || CSB_ID || T)) || 0x0000
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(CSB, 2);
    iv.writeBigUInt64BE(T, 6);
    for (let i = 0; i < 14; i++) iv[i]! ^= SALT_KEY[i]!;
    const d = createDecipheriv('aes-128-ctr', ENCR_KEY, iv);
    const plain = Buffer.concat([d.update(kemac.encrData), d.final()]);
    // IDR(next=KEY 20, role 1, type 1, len, ALICE) then KEY(next 0, type 7 | KV 2, len 96, key, 8, from, 8, to)
    const idr = Buffer.concat([Buffer.from([20, 1, 1, 0, ALICE.length]), Buffer.from(ALICE)]);
    const from = Buffer.alloc(8);
    from.writeBigUInt64BE(1000n << 32n);
    const to = Buffer.alloc(8);
    to.writeBigUInt64BE(2000n << 32n);
    const keyData = Buffer.concat([Buffer.from([0, 0x72, 0, 96]), key, Buffer.from([8]), from, Buffer.from([8]), to]);
    expect(plain).toEqual(Buffer.concat([idr, keyData]));
  });

  it('round-trips through decodeKeyResponse, and rejects a wrong PSK or any changed byte', () => {
    const req = decodeKeyRequest(encodeKeyRequest(spec, PSK));
    const bytes = encodeKeyResponse(req, issued, PSK);
    const exp = { csbId: CSB, prf: 0, authAlg: 1, tNtp: T, rand: RAND, identities: [ALICE], kmsId: KMS };
    const got = decodeKeyResponse(bytes, exp, PSK);
    expect(got).toEqual(issued);
    const wrong = PSK.slice();
    wrong[5]! ^= 0x80;
    expect(() => decodeKeyResponse(bytes, exp, wrong)).toThrow(expect.objectContaining({ code: 'KMS_BAD_RESPONSE' }));
    expect(() => decodeKeyResponse(bytes, { ...exp, tNtp: T + 1n }, PSK)).toThrow(expect.objectContaining({ code: 'KMS_BAD_RESPONSE' }));
    expect(() => decodeKeyResponse(bytes, { ...exp, csbId: CSB + 1 }, PSK)).toThrow(expect.objectContaining({ code: 'KMS_BAD_RESPONSE' }));
    for (let i = 0; i < bytes.length; i++) {
      const t = bytes.slice();
      t[i]! ^= 0x04;
      expect(() => decodeKeyResponse(t, exp, PSK)).toThrow(expect.objectContaining({ code: 'KMS_BAD_RESPONSE' }));
    }
  });

});

describe('Error message', () => {
  it('copies PRF and CSB ID, carries a fresh T and the ERR number', () => {
    const req = decodeKeyRequest(encodeKeyRequest({ ...spec, prf: 1 }, PSK));
    const bytes = encodeErrorMessage(0, 42n << 32n, req.message.header);
    const m = decodeMessage(bytes);
    expect(m.header).toMatchObject({ dataType: 6, v: false, prf: 1, csbId: CSB });
    expect(m.payloads.map((p) => p.kind)).toEqual(['T', 'ERR']);
    expect(decodeErrorMessage(bytes)).toEqual([0]);
    expect(decodeErrorMessage(encodeErrorMessage(13, 1n))).toEqual([13]);
    expect(decodeErrorMessage(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });
});

describe('hostile input', () => {
  it('mutated requests and responses only ever produce typed KmsErrors (fast-check)', () => {
    const req = encodeKeyRequest({ ...spec, wanted: [{ identity: ALICE, fromNtp: 1n << 32n, toNtp: 2n << 32n }] }, PSK);
    const resp = encodeKeyResponse(decodeKeyRequest(req), [{ identity: ALICE, fromNtp: 1n << 32n, toNtp: 2n << 32n, key: new Uint8Array(96).fill(1) }], PSK);
    const exp = { csbId: CSB, prf: 0, authAlg: 1, tNtp: T, rand: RAND, identities: [ALICE], kmsId: KMS };
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('grow' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    );
    const apply = (b: Uint8Array, ms: { kind: string; at?: number; bit?: number; v?: number; extra?: Uint8Array }[]) => {
      let x = b.slice();
      for (const m of ms) {
        if (m.kind === 'flip') x[m.at! % x.length]! ^= 1 << m.bit!;
        else if (m.kind === 'set') x[m.at! % x.length] = m.v!;
        else if (m.kind === 'cut') x = x.subarray(0, m.at! % x.length);
        else x = new Uint8Array([...x, ...m.extra!]);
        if (x.length === 0) break;
      }
      return x;
    };
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
        for (const [base, run] of [
          [req, (b: Uint8Array) => { const r = decodeKeyRequest(b); verifyKeyRequest(r, PSK); }],
          [resp, (b: Uint8Array) => decodeKeyResponse(b, exp, PSK)],
        ] as const) {
          const b = apply(base, ms);
          try {
            run(b);
          } catch (e) {
            if (!(e instanceof KmsError)) throw e;
          }
        }
      }),
      { numRuns: 3000, seed: 6267 },
    );
  });
});

describe('documented bytes (docs/kms.md §2)', () => {
  it('the request and error examples in the docs are what the encoder produces', () => {
    const docSpec: KeyRequestSpec = {
      csbId: 0x01020304, tNtp: 0xeeb4ec6000000000n, rand: RAND, identities: [ALICE], kmsId: 'urn:ibaked:kms:local',
      wanted: [{ identity: ALICE, fromNtp: 0xee90ff8000000000n, toNtp: 0xeeb88c8000000000n }],
    };
    const req = encodeKeyRequest(docSpec, PSK);
    const id = (s: string) => Buffer.from(s).toString('hex');
    expect(Buffer.from(req).toString('hex')).toBe([
      '01130580010203040001', '0b00eeb4ec6000000000', '0e10101112131415161718191a1b1c1d1e1f',
      '0e01010015' + id(ALICE), '0103010014' + id('urn:ibaked:kms:local'),
      '0900003014010100' + '15' + id(ALICE) + '0072000008ee90ff800000000008eeb88c800000000000',
      '0001e89be2116fa1017f0ad6128b2ff24d7b60e9203c',
    ].join(''));
    expect(Buffer.from(req.subarray(req.length - 20))).toEqual(independentMac(req, [ALICE, 'urn:ibaked:kms:local']));
    expect(Date.UTC(2026, 10, 28, 6) / 1000 + 2208988800).toBe(0xeeb4ec60);
    expect(Date.UTC(2026, 10, 1) / 1000 + 2208988800).toBe(0xee90ff80);
    expect(Date.UTC(2026, 11, 1) / 1000 + 2208988800).toBe(0xeeb88c80);
    const resp = encodeKeyResponse(decodeKeyRequest(req), [{ ...docSpec.wanted![0]!, key: new Uint8Array(96).fill(0xaa) }], PSK);
    expect(resp.length).toBe(242);
    expect(Buffer.from(encodeErrorMessage(0, 0xeeb4ec6100000000n, decodeKeyRequest(req).message.header)).toString('hex')).toBe(
      '01060500010203040001' + '0c00eeb4ec6100000000' + '00000000',
    );
  });
});

describe('Wireshark oracle', () => {
  oracleIt('accepts every message shape the KMS exchange emits, decoded to the end', () => {
    const key = new Uint8Array(96).fill(0x5a);
    const variants = [
      encodeKeyRequest(spec, PSK),
      encodeKeyRequest({ ...spec, pskName: 'sip:team@example.org', wanted: [{ identity: ALICE, fromNtp: 1n << 32n, toNtp: 2n << 32n }] }, PSK),
      encodeKeyRequest({ ...spec, identities: [ALICE, 'sip:desk@example.org'] }, PSK),
      encodeKeyResponse(decodeKeyRequest(encodeKeyRequest(spec, PSK)), [{ identity: ALICE, fromNtp: 1000n << 32n, toNtp: 2000n << 32n, key }], PSK),
      encodeErrorMessage(0, 0xed0c5e8a00000000n),
      encodeErrorMessage(13, 0xed0c5e8a00000000n, decodeKeyRequest(encodeKeyRequest(spec, PSK)).message.header),
    ];
    const verdicts = tsharkJudge(variants).messages;
    expect(verdicts).toHaveLength(variants.length);
    verdicts.forEach((v, i) => {
      expect(v.ok, `variant ${i}: ${JSON.stringify(v.problems)}`).toBe(true);
      expect(v.complete, `variant ${i}`).toBe(true);
    });
  });
});
