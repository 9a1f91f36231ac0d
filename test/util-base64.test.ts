// Strict base64 (src/util/base64.ts), shared by MIKEY text input, SDP key-mgmt and the CLI:
// checked against Node's own base64 codec (round trips are canonical; any other byte string
// that decodes is accepted only when it is well-formed padded base64), and by hand on the
// edge cases RFC 4648 §3–§4 names (padding, alphabet, pad bits, whitespace).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeStrictBase64, encodeBase64 } from '../src/util/base64.js';
import { formatKeyMgmtAttribute, KMPID_RE } from '../src/util/key-mgmt.js';

describe('strict base64', () => {
  it('round trips every byte string canonically (Node codec as reference)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (b) => {
        const s = encodeBase64(b);
        expect(s).toBe(Buffer.from(b).toString('base64'));
        expect(decodeStrictBase64(s)).toEqual({ bytes: b, canonical: true });
      }),
    );
  });

  it('accepts only padded standard-alphabet text; a change in the unused pad bits is non-canonical', () => {
    expect(decodeStrictBase64('AQ==')).toEqual({ bytes: new Uint8Array([1]), canonical: true });
    expect(decodeStrictBase64('AR==')).toMatchObject({ bytes: new Uint8Array([1]), canonical: false });
    expect(decodeStrictBase64('AQI=')).toEqual({ bytes: new Uint8Array([1, 2]), canonical: true });
    expect(decodeStrictBase64('AQJ=')!.canonical).toBe(false);
    for (const bad of ['', 'AQ', 'AQ=', 'A===', '====', 'AQ-_', 'AQ==AQ==', ' AQ==', 'AQ==\n', 'AQ I=', 'AQ=A', 42, undefined]) {
      expect(decodeStrictBase64(bad), String(bad)).toBeNull();
    }
  });

  it('whatever it accepts decodes as Node decodes it, in whole 4-character quanta', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'AQI+/=z9 -_'.split('')), maxLength: 12 }), (s) => {
        const r = decodeStrictBase64(s);
        if (r) expect(Buffer.from(s, 'base64').equals(Buffer.from(r.bytes))).toBe(true);
        if (r) expect(s.length % 4).toBe(0);
      }),
    );
  });
});

describe('key-mgmt attribute syntax', () => {
  it('formats a=key-mgmt:<prtcl-id> <base64> and knows the prtcl-id charset', () => {
    expect(formatKeyMgmtAttribute('mikey', new Uint8Array([1, 2, 3]))).toBe('a=key-mgmt:mikey AQID');
    const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
    expect(formatKeyMgmtAttribute('mikey', view)).toBe('a=key-mgmt:mikey AQID');
    expect(KMPID_RE.test('mikey')).toBe(true);
    for (const bad of ['', 'mi-key', 'mi key', 'mikey\n']) expect(KMPID_RE.test(bad), bad).toBe(false);
  });
});
