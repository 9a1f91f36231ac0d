// RFC 4567 a=key-mgmt handling (src/srtp/sdp.ts). Independent checks: the two MIKEY messages
// printed in RFC 4567 §5.1 (their decoded bytes are in the spec's vector file) parse to exactly
// those bytes and re-format byte-identically; the RFC's example SDP round-trips unchanged;
// session/media-level override, CS ID numbering, and strict rejection of malformed input; and
// Wireshark's SDP/MIKEY dissectors (shared oracle `mikey-tshark --sdp`) accept an SDP we produced.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  csIdAssignments,
  csIdsForMedia,
  decodeBase64Strict,
  effectiveMikey,
  extractMikey,
  formatKeyMgmtLine,
  insertMikey,
  parseKeyMgmtLine,
  parseKeyMgmtValue,
  sessionCoveredMedia,
} from '../src/srtp/sdp.js';
import { SrtpError } from '../src/srtp/errors.js';
import { VECTORS } from './helpers/repo.js';
import { haveTshark, tsharkSdp } from './helpers/tshark.js';

const ex = JSON.parse(readFileSync(join(VECTORS, 'rfc4567-mikey-sdp-examples.json'), 'utf8'));
const offer = ex.vectors[0];
const answer = ex.vectors[1];
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

const rfcSdp = [
  'v=0',
  'o=alice 2891092738 2891092738 IN IP4 w-land.example.com',
  's=Cool stuff',
  'e=alice@w-land.example.com',
  't=0 0',
  'c=IN IP4 w-land.example.com',
  offer.sdp_attribute_as_published,
  'm=audio 49000 RTP/SAVP 98',
  'a=rtpmap:98 AMR/8000',
  'm=video 52230 RTP/SAVP 31',
  'a=rtpmap:31 H261/90000',
].join('\r\n') + '\r\n';

const code = (c: string) => expect.objectContaining({ code: c });

describe('RFC 4567 §5.1 attribute lines', () => {
  for (const v of [offer, answer]) {
    it(`${v.id}: parses to the printed message and re-formats byte-identically`, () => {
      const line: string = v.sdp_attribute_as_published;
      const a = parseKeyMgmtLine(line);
      expect(a.prtclId).toBe('mikey');
      expect(a.data.length).toBe(v.decoded_length);
      expect(hex(a.data)).toBe(v.decoded_hex);
      expect(formatKeyMgmtLine(a.data)).toBe(line);
      // the wrapped pieces of the printed RFC, concatenated, are the same base64
      expect(`a=key-mgmt:mikey ${(v.base64_wrapped_lines_as_printed as string[]).join('')}`).toBe(line);
      // MIKEY version 1, data type 0 (offer) / 1 (answer), CSB ID cd177e50
      expect(a.data[0]).toBe(1);
      expect(hex(a.data.subarray(4, 8))).toBe('cd177e50');
    });
  }

  it('accepts the optional leading SP of key-mgmt-att-value', () => {
    const a = parseKeyMgmtValue(` mikey ${answer.sdp_attribute_as_published.split(' ')[1]}`);
    expect(hex(a.data)).toBe(answer.decoded_hex);
  });

  it('format/parse round trip for any message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (m) => {
        expect(parseKeyMgmtLine(formatKeyMgmtLine(m)).data).toEqual(m);
      }),
      { numRuns: 100 },
    );
  });
});

describe('strict parsing', () => {
  const b64 = answer.sdp_attribute_as_published.split(' ')[1] as string;
  it('rejects malformed attribute lines', () => {
    expect(() => parseKeyMgmtLine('a=key-mgmt:mikey')).toThrow(code('SDP_SYNTAX'));
    expect(() => parseKeyMgmtLine('a=key-mgmt: ')).toThrow(code('SDP_SYNTAX'));
    expect(() => parseKeyMgmtLine(`a=key-mgmt:mi-key ${b64}`)).toThrow(code('SDP_SYNTAX'));
    expect(() => parseKeyMgmtLine(`a=key-mgmt:  mikey ${b64}`)).toThrow(code('SDP_SYNTAX'));
    expect(() => parseKeyMgmtLine(`a=keymgmt:mikey ${b64}`)).toThrow(code('SDP_SYNTAX'));
  });
  it('rejects non-canonical base64', () => {
    expect(() => parseKeyMgmtLine('a=key-mgmt:mikey ')).toThrow(code('SDP_BASE64'));
    expect(() => parseKeyMgmtLine(`a=key-mgmt:mikey ${b64.replace(/=$/, '')}`)).toThrow(code('SDP_BASE64')); // missing padding
    expect(() => parseKeyMgmtLine(`a=key-mgmt:mikey ${b64} `)).toThrow(code('SDP_BASE64')); // trailing space
    expect(() => parseKeyMgmtLine(`a=key-mgmt:mikey ${b64.slice(0, 20)} ${b64.slice(20)}`)).toThrow(code('SDP_BASE64'));
    expect(() => parseKeyMgmtLine('a=key-mgmt:mikey AQ-_')).toThrow(code('SDP_BASE64')); // url-safe alphabet
    expect(() => decodeBase64Strict('AR==')).toThrow(code('SDP_BASE64')); // non-zero pad bits
    expect(decodeBase64Strict('AQ==')).toEqual(new Uint8Array([1]));
    expect(() => decodeBase64Strict('A===')).toThrow(code('SDP_BASE64'));
  });
  it('rejects bad SDP bodies', () => {
    expect(() => extractMikey('')).toThrow(code('SDP_SYNTAX'));
    expect(() => extractMikey('v=1\r\n')).toThrow(code('SDP_SYNTAX'));
    expect(() => extractMikey('v=0\r\ns=x\nt=0 0\r\n')).toThrow(code('SDP_SYNTAX'));
    expect(() => extractMikey('v=0\r\nbogus line\r\n')).toThrow(code('SDP_SYNTAX'));
    expect(() => extractMikey(`v=0\r\n${answer.sdp_attribute_as_published}\r\n${answer.sdp_attribute_as_published}\r\n`)).toThrow(code('SDP_DUPLICATE'));
    expect(() => extractMikey('v=0\r\na=key-mgmt:mikey AR==\r\n')).toThrow(SrtpError);
  });
});

describe('session and media level', () => {
  it('extracts the session-level message of the RFC example; it covers both m-lines', () => {
    const km = extractMikey(rfcSdp);
    expect(hex(km.session!)).toBe(offer.decoded_hex);
    expect(km.media).toEqual([null, null]);
    expect(km.sessionProtocols).toEqual(['mikey']);
    expect(effectiveMikey(km, 1).level).toBe('session');
    expect(sessionCoveredMedia(km)).toEqual([0, 1]);
    // RFC 4567 §7.1: CS IDs 1,2 for the first m-line and 3,4 for the second
    expect(csIdAssignments(km)).toEqual([
      { mediaIndex: 0, message: 'session', initiator: 1, responder: 2 },
      { mediaIndex: 1, message: 'session', initiator: 3, responder: 4 },
    ]);
  });

  it('re-inserting the same message leaves the SDP byte-identical (CRLF kept)', () => {
    const km = extractMikey(rfcSdp);
    expect(insertMikey(rfcSdp, { session: km.session })).toBe(rfcSdp);
    expect(insertMikey(rfcSdp, {})).toBe(rfcSdp);
  });

  it('moving MIKEY to media level: media overrides session, numbering restarts per message', () => {
    const m = new Uint8Array([1, 25, 9, 0, 1, 2, 3, 4]);
    const withoutSession = insertMikey(rfcSdp, { session: null });
    expect(withoutSession).not.toContain('key-mgmt');
    const sdp = insertMikey(rfcSdp, { media: new Map([[1, m]]) });
    const lines = sdp.split('\r\n');
    expect(lines[lines.length - 2]).toBe(formatKeyMgmtLine(m)); // appended at the end of the video section
    const km = extractMikey(sdp);
    expect(km.media[1]).toEqual(m);
    expect(effectiveMikey(km, 1)).toEqual({ level: 'media', data: m });
    expect(effectiveMikey(km, 0).level).toBe('session');
    expect(csIdAssignments(km)).toEqual([
      { mediaIndex: 0, message: 'session', initiator: 1, responder: 2 },
      { mediaIndex: 1, message: 1, initiator: 1, responder: 2 },
    ]);
    // and back
    expect(insertMikey(sdp, { media: new Map([[1, null]]) })).toBe(rfcSdp);
  });

  it('a media-level attribute of another protocol also overrides the session-level MIKEY', () => {
    const sdp = rfcSdp.replace('a=rtpmap:98 AMR/8000', 'a=rtpmap:98 AMR/8000\r\na=key-mgmt:keyp1 AQID');
    const km = extractMikey(sdp);
    expect(km.mediaProtocols).toEqual([['keyp1'], []]);
    expect(effectiveMikey(km, 0)).toEqual({ level: 'none', data: null });
    expect(csIdAssignments(km)).toEqual([{ mediaIndex: 1, message: 'session', initiator: 1, responder: 2 }]);
  });

  it('inserts a session-level line before the first m= in an LF-only SDP without final EOL', () => {
    const sdp = 'v=0\no=- 1 1 IN IP4 h\ns=-\nt=0 0\nm=audio 1 RTP/SAVP 0';
    const out = insertMikey(sdp, { session: new Uint8Array([1]) });
    expect(out).toBe('v=0\no=- 1 1 IN IP4 h\ns=-\nt=0 0\na=key-mgmt:mikey AQ==\nm=audio 1 RTP/SAVP 0');
    expect(() => insertMikey(sdp, { media: new Map([[3, new Uint8Array([1])]]) })).toThrow(code('SRTP_INPUT'));
  });

  it('CS ID numbering and its limits', () => {
    expect(csIdsForMedia(0)).toEqual({ initiator: 1, responder: 2 });
    expect(csIdsForMedia(126)).toEqual({ initiator: 253, responder: 254 });
    expect(() => csIdsForMedia(127)).toThrow(SrtpError);
    expect(() => formatKeyMgmtLine(new Uint8Array(0))).toThrow(SrtpError);
    expect(() => formatKeyMgmtLine(new Uint8Array(1), 'bad id')).toThrow(SrtpError);
  });
});

describe('oracle: tshark reads the key-mgmt lines insertMikey writes', () => {
  it.runIf(haveTshark())('session-level offer + media-level answer decode to the same bytes', () => {
    const ans = parseKeyMgmtLine(answer.sdp_attribute_as_published).data;
    const sdp = insertMikey(insertMikey(rfcSdp, { session: null }), {
      session: parseKeyMgmtLine(offer.sdp_attribute_as_published).data,
      media: new Map([[1, ans]]),
    });
    const r = tsharkSdp<{ ok: boolean; messages: { ok: boolean; level: string; message_bytes: number; sip_sdp: { decoded_equals_input: boolean } }[] }>(sdp, { timeoutMs: 50_000 });
    expect(r.ok).toBe(true);
    expect(r.messages.map((m) => [m.level, m.message_bytes, m.ok, m.sip_sdp.decoded_equals_input])).toEqual([
      ['session', offer.decoded_length, true, true],
      ['media', answer.decoded_length, true, true],
    ]);
  }, 60_000);
});
