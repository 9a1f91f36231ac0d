// The two complete MIKEY messages printed in RFC 4567 §5.1 (test/vectors/rfc4567-mikey-sdp-examples.json)
// decode from their published a=key-mgmt lines, every field equals the values listed with the
// vector, and re-encoding gives back the published bytes.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, parseMessageText, type DecodedMessage } from '../src/mikey/index.js';
import { VECTORS } from './helpers/repo.js';

interface Vec {
  id: string;
  sdp_attribute_as_published: string;
  base64_wrapped_lines_as_printed: string[];
  decoded_hex: string;
  decoded_length: number;
  parsed_DERIVED_not_published: Record<string, unknown>[];
}
const file = resolve(VECTORS, 'rfc4567-mikey-sdp-examples.json');
const vectors = (JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vec[] }).vectors;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const KIND: Record<number, string> = { 5: 'T', 11: 'RAND', 6: 'ID', 10: 'SP', 1: 'KEMAC', 9: 'V', 0: 'LAST' };

function checkAgainstSpec(m: DecodedMessage, spec: Record<string, unknown>[]): void {
  const [h, ...ps] = spec;
  expect(h!.payload).toBe('HDR');
  expect(m.header.version).toBe(h!.version);
  expect(m.header.dataType).toBe(h!.data_type);
  expect(m.header.v).toBe(h!.V === 1);
  expect(m.header.prf).toBe(h!.PRF_func);
  expect(m.header.csbId.toString(16).padStart(8, '0')).toBe(h!.CSB_ID);
  expect(m.header.csMap.type).toBe(h!.CS_ID_map_type);
  const map = h!.cs_id_map_info as { cs_id: number; policy_no: number; SSRC: string; ROC: string }[];
  expect(h!['#CS']).toBe(map.length);
  if (m.header.csMap.type !== 0) throw new Error('expected SRTP-ID map');
  expect(m.header.csMap.entries.map((e, i) => ({ cs_id: i + 1, policy_no: e.policyNo, SSRC: e.ssrc.toString(16).padStart(8, '0'), ROC: e.roc.toString(16).padStart(8, '0') }))).toEqual(map);
  expect(KIND[h!.next_payload as number]).toBe(m.payloads[0]!.kind);
  expect(m.payloads.map((p) => p.kind)).toEqual(ps.map((p) => p.payload));
  ps.forEach((s, i) => {
    const p = m.payloads[i]!;
    const next = m.payloads[i + 1]?.kind ?? 'LAST';
    expect(KIND[s.next_payload as number], `${p.kind} next payload`).toBe(next);
    switch (p.kind) {
      case 'T':
        expect(p.tsType).toBe(s.TS_type);
        expect(p.value.toString(16).padStart(16, '0')).toBe(s.TS_value);
        break;
      case 'RAND':
        expect(p.rand.length).toBe(s.RAND_len);
        expect(hex(p.rand)).toBe(s.RAND);
        break;
      case 'ID':
        expect(p.idType).toBe(s.ID_type);
        expect(p.data.length).toBe(s.ID_len);
        expect(new TextDecoder().decode(p.data)).toBe(s.ID_data_ascii);
        break;
      case 'SP':
        expect(p.policyNo).toBe(s.policy_no);
        expect(p.protType).toBe(s.prot_type);
        expect(p.params.length).toBe(0);
        expect(s.policy_param_len).toBe(0);
        break;
      case 'KEMAC':
        expect(p.encrAlg).toBe(s.encr_alg);
        expect(p.encrData.length).toBe(s.encr_data_len);
        expect(hex(p.encrData)).toBe(s.encr_data);
        expect(p.macAlg).toBe(s.mac_alg);
        expect(hex(p.mac)).toBe(s.mac);
        expect(p.plain).toBeUndefined(); // AES-CM encrypted: opaque
        break;
      case 'V':
        expect(p.authAlg).toBe(s.auth_alg);
        expect(hex(p.mac)).toBe(s.ver_data);
        break;
      default:
        throw new Error(`unexpected payload ${p.kind}`);
    }
  });
}

describe('RFC 4567 §5.1 example messages', () => {
  it('has both vectors', () => expect(vectors.map((v) => v.id)).toEqual(['rfc4567-5.1-offer', 'rfc4567-5.1-answer']));
  for (const v of vectors) {
    describe(v.id, () => {
      it('the published a=key-mgmt line decodes to the published bytes', () => {
        const { bytes, format } = parseMessageText(v.sdp_attribute_as_published);
        expect(format).toBe('key-mgmt');
        expect(hex(bytes)).toBe(v.decoded_hex);
        expect(bytes.length).toBe(v.decoded_length);
        // the wrapped lines as printed in the RFC, joined, are the same base64
        expect(parseMessageText(v.base64_wrapped_lines_as_printed.join('')).bytes).toEqual(bytes);
      });
      it('every field matches the spec values', () => {
        const m = decodeMessage(new Uint8Array(Buffer.from(v.decoded_hex, 'hex')));
        checkAgainstSpec(m, v.parsed_DERIVED_not_published);
        // offsets are contiguous and cover the message exactly
        let at = m.header.length;
        for (const p of m.payloads) {
          expect(p.offset).toBe(at);
          at += p.length;
        }
        expect(at).toBe(v.decoded_length);
        // the MAC slot is the last 20 octets (KEMAC in the offer, V in the answer)
        expect(m.mac).toEqual({ offset: v.decoded_length - 20, length: 20 });
      });
      it('re-encodes to the identical bytes', () => {
        const bytes = new Uint8Array(Buffer.from(v.decoded_hex, 'hex'));
        expect(hex(encodeMessage(decodeMessage(bytes)))).toBe(v.decoded_hex);
      });
    });
  }
});
