// Profile v2's two hashes (src/ibake/binding.ts, docs/profile.md §3.1 and §5) against a fixed
// vector computed outside this code base: Python's hashlib/hmac, from the profile's text, with
// an RFC 3830 PRF written there (script in the comment below), for P = [7]G on P-256 (noble),
// IDRi sip:alice@example.org, IDRr sip:bob-dev1@example.org, N_c = 00 01 … 1f, RAND = a5 × 16,
// CSB ID 01020304, T ecdf0a1b80000000. Plus: every input changes the output, and the lengths.
//   python3: k = sha256(b"MIKEY-IBAKE-V02 K_SESSION" + P + len16(i) + i + len16(r) + r + nc)
//            mpk/tgk = PRF(k, const ‖ ff ‖ ffffffff ‖ RAND, 256) with P(s,l,m) per RFC 3830 §4.1.2
//            B = sha256(b"MIKEY-IBAKE-V02 CLEAR" + csb(4) + T(8) + RAND)
import { describe, expect, it } from 'vitest';
import { bindKSession, clearBinding, NC_LEN } from '../src/ibake/binding.js';
import { deriveMpk, deriveTgk } from '../src/mikey/keys.js';

const h = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const P = h('048e533b6fa0bf7b4625bb30667c01fb607ef9f8b8a80fef5b300628703187b2a373eb1dbde03318366d069f83a6f5900053c73633cb041b21c55e1a86c1f400b4');
const NC = Uint8Array.from({ length: 32 }, (_, i) => i);
const RAND = new Uint8Array(16).fill(0xa5);
const V = {
  K: 'b0f3c846d26c661497465d24cdae8d8f8a62ecef3e3009d1d798e72093aad5e8',
  MPK: 'e3136814fa403e66a41aca37474d7cdf51bd951c61256ad134f80762ba60f52e',
  TGK: '71fa999caf096abe41f0ca7eece1617a2ed7a69ab2782b75072e1cbe6808e0ae',
  B: 'bd1d20f293b31c7e2b98e5d4da1ac771c33634d371afff0cb4a56568a1f3be9b',
};
const b = { idi: 'sip:alice@example.org', idr: 'sip:bob-dev1@example.org', nc: NC };

describe('profile v2 hashes', () => {
  it('K_SESSION, MPK, TGK and the clear-field binding equal the independent vector', () => {
    const k = bindKSession(P, b);
    expect(hex(k)).toBe(V.K);
    expect(hex(deriveMpk(1, k, RAND, 32, 'v2'))).toBe(V.MPK);
    expect(hex(deriveTgk(1, k, RAND, 32, 'v2'))).toBe(V.TGK);
    expect(hex(clearBinding(0x01020304, h('ecdf0a1b80000000'), RAND))).toBe(V.B);
  });

  it('every input is bound: point, either identity (also a moved boundary), N_c; CSB ID, T, RAND', () => {
    const flip = (x: Uint8Array, i: number) => Uint8Array.from(x, (v, j) => (j === i ? v ^ 1 : v));
    const seen = new Set([V.K]);
    for (const k of [
      bindKSession(flip(P, 40), b),
      bindKSession(P, { ...b, idi: 'sip:alice@example.orh' }),
      bindKSession(P, { ...b, idr: 'sip:bob-dev2@example.org' }),
      bindKSession(P, { ...b, idi: 'sip:alice@example.orgs', idr: 'ip:bob-dev1@example.org' }), // len16 keeps them apart
      bindKSession(P, { ...b, nc: flip(NC, 31) }),
    ]) seen.add(hex(k));
    expect(seen.size).toBe(6);
    const bs = new Set([V.B, hex(clearBinding(0x01020305, h('ecdf0a1b80000000'), RAND)), hex(clearBinding(0x01020304, h('ecdf0a1b80000001'), RAND)), hex(clearBinding(0x01020304, h('ecdf0a1b80000000'), flip(RAND, 0)))]);
    expect(bs.size).toBe(4);
  });

  it('refuses an N_c that is not 32 octets; the v2 KDF form takes exactly 32 octets', () => {
    expect(NC_LEN).toBe(32);
    expect(() => bindKSession(P, { ...b, nc: new Uint8Array(31) })).toThrow(expect.objectContaining({ code: 'IBAKE_BAD_INPUT' }));
    expect(() => deriveMpk(1, P, RAND, 32, 'v2')).toThrow();
    expect(() => deriveMpk(1, h(V.K), RAND, 32)).toThrow(); // a 32-octet key is not a SEC1 point
  });
});
