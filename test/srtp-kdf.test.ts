// SRTP key derivation (src/srtp/kdf.ts). Independent checks: RFC 3711 B.3 published vectors, B.2
// AES-CM keystream blocks as the PRF itself, and for key_derivation_rate > 0 (no published vectors)
// an independent reference written here from RFC 3711 §4.3 with AES-ECB blocks and bigint arithmetic.
// SRTCP values are the spec's derived (not published) numbers, used as a regression.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { deriveSrtcpSessionKeys, deriveSrtpSessionKeys, isValidKdr, kdfR, rekeyDue, srtpKdf, SrtpLabel } from '../src/srtp/kdf.js';
import { SrtpError } from '../src/srtp/errors.js';
import { VECTORS } from './helpers/repo.js';

const vec = JSON.parse(readFileSync(join(VECTORS, 'rfc3711-srtp.json'), 'utf8'));
const b3 = vec.vectors.find((v: { id: string }) => v.id === 'rfc3711-B.3');
const b2 = vec.vectors.find((v: { id: string }) => v.id === 'rfc3711-B.2');
const h = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const HEX = (u: Uint8Array) => Buffer.from(u).toString('hex').toUpperCase();

/** Reference: x = (label·2^48 + r) XOR salt as a 112-bit integer; block j = AES(k, (x·2^16 + j) mod 2^128). */
function refKdf(mk: Uint8Array, salt14: Uint8Array, label: number, index: bigint, kdr: bigint, n: number): Uint8Array {
  const r = kdr === 0n ? 0n : index / kdr;
  const saltInt = BigInt('0x' + Buffer.from(salt14).toString('hex'));
  const x = ((BigInt(label) << 48n) | r) ^ saltInt;
  const ecb = createCipheriv(`aes-${mk.length * 8}-ecb`, mk, null).setAutoPadding(false);
  const out: Buffer[] = [];
  for (let j = 0n; out.length * 16 < n; j++) {
    const ctr = ((x << 16n) + j) & ((1n << 128n) - 1n);
    out.push(ecb.update(Buffer.from(ctr.toString(16).padStart(32, '0'), 'hex')));
  }
  return new Uint8Array(Buffer.concat(out).subarray(0, n));
}

describe('RFC 3711 B.3 (published)', () => {
  const mk = h(b3.input.master_key);
  const ms = h(b3.input.master_salt);
  it('session encryption key, salt and 94-octet auth key', () => {
    expect(HEX(srtpKdf(mk, ms, SrtpLabel.RTP_ENCRYPTION, 0, 0, 16))).toBe(b3.output.cipher_key);
    expect(HEX(srtpKdf(mk, ms, SrtpLabel.RTP_SALT, 0, 0, 14))).toBe(b3.output.cipher_salt);
    expect(HEX(srtpKdf(mk, ms, SrtpLabel.RTP_AUTH, 0, 0, 94))).toBe(b3.output.auth_key_94_octets);
  });
  it('deriveSrtpSessionKeys gives the default-length set', () => {
    const k = deriveSrtpSessionKeys(mk, ms);
    expect(HEX(k.encKey)).toBe(b3.output.cipher_key);
    expect(HEX(k.salt)).toBe(b3.output.cipher_salt);
    expect(HEX(k.authKey)).toBe(b3.output.auth_key_94_octets.slice(0, 40));
  });
  it('SRTCP labels 3-5 (derived, not published: regression)', () => {
    const c = deriveSrtcpSessionKeys(mk, ms);
    expect(Buffer.from(c.encKey).toString('hex')).toBe('4c1aa45a81f73d61c800bbb00fbb1eaa');
    expect(Buffer.from(c.authKey).toString('hex')).toBe('8d54534feb49ae8e7993a6bd0b844fc323a93dfd');
    expect(Buffer.from(c.salt).toString('hex')).toBe('9581c7ad87b3e530bf3e4454a8b3');
  });
});

describe('AES-CM PRF = RFC 3711 B.2 keystream', () => {
  it('first keystream blocks for key 2B7E..., counter F0F1...FD0000', () => {
    // With label 0, index 0 the PRF input x is the salt itself, so the PRF output is the B.2 keystream.
    const key = h(b2.input.session_key);
    const salt = h(b2.input.session_salt_already_shifted.slice(0, 28));
    const blocks = b2.output.keystream_blocks as { keystream: string }[];
    const n = Math.min(blocks.length, 3);
    const ks = srtpKdf(key, salt, 0, 0, 0, 16 * n);
    expect(HEX(ks)).toBe(blocks.slice(0, n).map((b) => b.keystream).join(''));
  });
});

describe('key_derivation_rate > 0', () => {
  const mk = h('E1F97A0D3E018BE0D64FA32C06DE4139');
  const ms = h('0EC675AD498AFEEBB6960B3AABE6');

  it('matches the independent reference for random kdr, index, label, lengths', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 24 }),
        fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(16, 32),
        (log, index, label, n, klen) => {
          const key = new Uint8Array(klen).fill(0x5a);
          const kdr = 1 << log;
          expect(HEX(srtpKdf(key, ms, label, index, kdr, n))).toBe(HEX(refKdf(key, ms, label, index, BigInt(kdr), n)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keys are constant inside a kdr block and change at its boundary', () => {
    const kdr = 1 << 16;
    const a = deriveSrtpSessionKeys(mk, ms, { index: 0, kdr });
    const b = deriveSrtpSessionKeys(mk, ms, { index: kdr - 1, kdr });
    const c = deriveSrtpSessionKeys(mk, ms, { index: kdr, kdr });
    expect(b).toEqual(a);
    expect(c.encKey).not.toEqual(a.encKey);
    // index < kdr behaves like kdr = 0 (r = 0): the B.3 values
    expect(HEX(a.encKey)).toBe(b3.output.cipher_key);
    expect(rekeyDue(kdr, kdr)).toBe(true);
    expect(rekeyDue(kdr + 1, kdr)).toBe(false);
    expect(rekeyDue(5, 0)).toBe(false);
    expect(kdfR(0xffffffffffffn, 1)).toBe(0xffffffffffffn);
    expect(kdfR(1000, 0)).toBe(0n);
  });

  it('kdr = 1 with index i equals kdr = 0 with r folded into the salt (RFC 3711 x = key_id XOR salt)', () => {
    const i = 0x0123456789abn;
    const salt2 = Buffer.from(ms);
    for (let k = 0; k < 6; k++) salt2[13 - k]! ^= Number((i >> BigInt(8 * k)) & 0xffn);
    expect(srtpKdf(mk, ms, 0, i, 1, 16)).toEqual(srtpKdf(mk, new Uint8Array(salt2), 0, 0, 0, 16));
  });

  it('SRTCP uses the 31-bit index', () => {
    const a = deriveSrtcpSessionKeys(mk, ms, { index: 0x7fffffff, kdr: 1 });
    expect(HEX(a.encKey)).toBe(HEX(refKdf(mk, ms, 3, 0x7fffffffn, 1n, 16)));
    expect(() => deriveSrtcpSessionKeys(mk, ms, { index: 0x80000000 })).toThrow(SrtpError);
  });
});

describe('input validation', () => {
  const mk = new Uint8Array(16);
  const ms = new Uint8Array(14);
  it('rejects bad kdr, index, lengths with SrtpError', () => {
    for (const kdr of [3, -1, 1.5, 2 ** 25]) expect(() => srtpKdf(mk, ms, 0, 0, kdr, 16), `kdr ${kdr}`).toThrow(SrtpError);
    expect(isValidKdr(2 ** 24)).toBe(true);
    expect(() => srtpKdf(mk, ms, 0, 2n ** 48n, 0, 16)).toThrow(SrtpError);
    expect(() => srtpKdf(mk, ms, 0, -1, 0, 16)).toThrow(SrtpError);
    expect(() => srtpKdf(new Uint8Array(15), ms, 0, 0, 0, 16)).toThrow(SrtpError);
    expect(() => srtpKdf(mk, new Uint8Array(13), 0, 0, 0, 16)).toThrow(SrtpError);
    expect(() => srtpKdf(mk, ms, 256, 0, 0, 16)).toThrow(SrtpError);
    expect(() => srtpKdf(mk, ms, 0, 0, 0, 0)).toThrow(expect.objectContaining({ code: 'SRTP_INPUT' }));
  });
  it('a 12-octet (RFC 7714) salt is zero-padded to 112 bits', () => {
    const s12 = h('000102030405060708090a0b');
    expect(srtpKdf(mk, s12, 2, 0, 0, 12)).toEqual(srtpKdf(mk, h('000102030405060708090a0b0000'), 2, 0, 0, 12));
    const gcm = deriveSrtpSessionKeys(mk, s12, { lengths: { encKey: 16, authKey: 0, salt: 12 } });
    expect(gcm.authKey.length).toBe(0);
    expect(gcm.salt.length).toBe(12);
  });
});
