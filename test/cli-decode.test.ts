// `ibake decode`: the text tree names every field (IBAKE/ESK with ciphertext lengths, SP
// parameters, KEMAC sub-payloads), JSON has the documented shape with exact offsets, input as
// base64 / hex / a=key-mgmt line / SDP on stdin, malformed input exits 1 with a typed error
// (one stderr line, or {"error":{code,offset,message}} with --json), never a stack trace.
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { decodeMessage, encodeMessage, keyMgmtLine } from '../src/mikey/index.js';
import { fixtures } from './mikey-fixtures.js';

const fx = fixtures();
const bytesOf = (name: string): Uint8Array => encodeMessage(fx.find((f) => f.name === name)!.msg);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

describe('ibake decode', () => {
  it('text tree of an I_MESSAGE_1 names every field', async () => {
    const b = bytesOf('i-message-1');
    const r = await runCli(['decode', b64(b)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const m = decodeMessage(b);
    for (const line of [
      `MIKEY message, ${b.length} bytes (from base64): I_MESSAGE_1 (22)`,
      'Common Header (HDR) [offset 0, 28 bytes]',
      'Data type: I_MESSAGE_1 (22)',
      'V: 1 (response expected)',
      'PRF func: MIKEY-1 (0)',
      'CSB ID: 0x5eed1234',
      '#CS: 2',
      'CS ID map type: SRTP-ID (0)',
      'CS #1: Policy_no 0, SSRC 0x1a2b3c4d, ROC 0',
      'TS type: NTP-UTC (0)',
      'TS value: 0x',
      '(2026-11-28T06:00:00.250Z)',
      'ID role: Initiator (IDRi) (1)',
      'ID role: Responder (IDRr) (2)',
      'ID: sip:alice@example.org',
      'Encryption algorithm (0): AES-CM [01]',
      'Session salt key length (4): 14 [0e]',
      'Next payload: IBAKE (22)',
      `IBAKE [offset ${m.payloads[5]!.offset}, ${m.payloads[5]!.length} bytes]`,
      `Encr data len: ${m.payloads[5]!.length - 3}`,
      'IBE ciphertext)',
      'Next payload: Last payload (0)',
    ]) {
      expect(r.stdout, line).toContain(line);
    }
  });

  it('JSON has the documented shape with exact offsets and every payload', async () => {
    const b = bytesOf('i-message-2-deferred');
    const r = await runCli(['decode', '--json', b64(b)]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const m = decodeMessage(b);
    expect(j.version).toBe(1);
    expect(j.dataType).toEqual({ value: 24, name: 'I_MESSAGE_2' });
    expect(j.csbId).toBe('0x5eed1234');
    expect(j.prf).toEqual({ value: 0, name: 'MIKEY-1' });
    expect(j.v).toBe(true);
    expect(j.cs).toEqual([
      { csId: 1, policyNo: 0, ssrc: '0x1a2b3c4d', roc: 0 },
      { csId: 2, policyNo: 0, ssrc: '0x99887766', roc: 0 },
    ]);
    expect(j.payloads.map((p: { type: number; name: string; offset: number; length: number }) => [p.type, p.name, p.offset, p.length])).toEqual(
      m.payloads.map((p) => [{ T: 5, RAND: 11, IDR: 14, IBAKE: 22, ESK: 23 }[p.kind as 'T'], p.kind, p.offset, p.length]),
    );
    const esk = j.payloads.find((p: { name: string }) => p.name === 'ESK');
    expect(esk.encrDataLength).toBe(m.payloads[5]!.length - 3);
    expect(esk.encrData).toHaveLength(2 * esk.encrDataLength);
    expect(j.payloads[2]).toMatchObject({ role: { value: 1, name: 'Initiator (IDRi)' }, idType: { value: 1, name: 'URI' }, id: 'sip:alice@example.org' });
    expect(j.inputFormat).toBe('base64');
  });

  it('KEMAC with Key data sub-payloads, SP parameters, V, ERR in JSON', async () => {
    const psk = JSON.parse((await runCli(['decode', '--json', b64(bytesOf('psk-init'))])).stdout);
    const kemac = psk.payloads.find((p: { name: string }) => p.name === 'KEMAC');
    expect(kemac.encrAlg).toEqual({ value: 0, name: 'NULL' });
    expect(kemac.macAlg).toEqual({ value: 1, name: 'HMAC-SHA-1-160' });
    expect(kemac.subPayloads.map((s: { keyType: { name: string }; kv: { name: string } }) => [s.keyType.name, s.kv.name])).toEqual([['TGK+SALT', 'SPI/MKI'], ['TGK', 'Interval']]);
    const sp = psk.payloads.find((p: { name: string }) => p.name === 'SP');
    expect(sp.params[0]).toEqual({ type: { value: 0, name: 'Encryption algorithm' }, value: '01', meaning: 'AES-CM' });
    const err = JSON.parse((await runCli(['decode', '--json', b64(bytesOf('error-sp-v'))])).stdout);
    expect(err.payloads.filter((p: { name: string }) => p.name === 'ERR').map((p: { errNo: { name: string } }) => p.errNo.name)).toEqual(['Invalid SP', 'Invalid SPpar']);
    expect(err.mac).toEqual({ offset: bytesOf('error-sp-v').length - 20, length: 20 });
  });

  it('reads hex, an a=key-mgmt line, and an SDP body on stdin (also with "-")', async () => {
    const b = bytesOf('r-message-1');
    const hex = Buffer.from(b).toString('hex');
    const viaHex = await runCli(['decode', '--json', hex]);
    expect(JSON.parse(viaHex.stdout).inputFormat).toBe('hex');
    const viaLine = await runCli(['decode', keyMgmtLine(b)]);
    expect(viaLine.code).toBe(0);
    expect(viaLine.stdout).toContain('(from key-mgmt): R_MESSAGE_1 (23)');
    const sdp = `v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n${keyMgmtLine(b)}\r\nm=audio 49170 RTP/SAVP 0\r\n`;
    for (const args of [['decode'], ['decode', '-']]) {
      const r = await runCli(args, sdp);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('R_MESSAGE_1 (23)');
      expect(r.stdout).toContain('ID: sip:bob-phone-2@example.org');
    }
  });

  it('malformed input: exit 1, one stderr line with code and offset; JSON error object', async () => {
    const b = bytesOf('i-message-1');
    const cut = b.subarray(0, b.length - 5);
    const r = await runCli(['decode', b64(cut)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ibake decode: MIKEY_TRUNCATED at byte \d+: IBAKE encr data needs \d+ byte\(s\) but only \d+ remain\n$/);
    const j = await runCli(['decode', '--json', b64(cut)]);
    expect(j.code).toBe(1);
    const e = JSON.parse(j.stdout).error;
    expect(e.code).toBe('MIKEY_TRUNCATED');
    expect(e.offset).toBe(decodeMessage(b).payloads[5]!.offset + 3);
    expect(e.message).toMatch(/IBAKE encr data/);
    // trailing bytes, bad version, bad text
    const trailing = await runCli(['decode', '--json', b64(Buffer.concat([b, Buffer.from([0])]))]);
    expect(JSON.parse(trailing.stdout).error).toEqual({ code: 'MIKEY_TRAILING', offset: b.length, message: '1 byte(s) after the last payload at the top level' });
    const v2 = b.slice();
    v2[0] = 2;
    expect((await runCli(['decode', b64(v2)])).stderr).toMatch(/MIKEY_VERSION at byte 0/);
    const text = await runCli(['decode', '--json', 'not base64!']);
    expect(text.code).toBe(1);
    expect(JSON.parse(text.stdout).error).toMatchObject({ code: 'MIKEY_INPUT', offset: 10 }); // the '!' (whitespace in base64 is skipped)
    const other = await runCli(['decode', 'a=key-mgmt:kerberos AAAA']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^ibake decode: MIKEY_INPUT at character 11: key management protocol is "kerberos"/);
    for (const x of [r, j, trailing, text, other]) expect(x.stderr + x.stdout).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('every error has an integer offset, in JSON and text: empty input is offset 0', async () => {
    const cases: [string, number][] = [
      ['', 0],
      ['   \n', 0],
      ['AAA', 3], // base64 of a wrong length: the end
      ['  AA!A', 4], // the character outside the alphabet, counted in the text as given
      ['AA=A', 3], // data after padding
      [`a=key-mgmt:mikey ${b64(bytesOf('i-message-1'))}\r\na=key-mgmt:mikey AAAA`, 0], // two mikey lines: the second one
      ['v=0\r\na=key-mgmt:mikey AA#A\r\n', 24],
    ];
    cases[5]![1] = cases[5]![0].indexOf('\r\n') + 2;
    for (const [input, offset] of cases) {
      for (const viaStdin of [false, true]) {
        const args = viaStdin ? [] : [input];
        const j = await runCli(['decode', '--json', ...args], viaStdin ? input : '');
        expect(j.code, JSON.stringify(input)).toBe(1);
        const e = JSON.parse(j.stdout).error;
        expect(Number.isInteger(e.offset), JSON.stringify(e)).toBe(true);
        expect(e, JSON.stringify(input)).toMatchObject({ code: 'MIKEY_INPUT', offset });
        const t = await runCli(['decode', ...args], viaStdin ? input : '');
        expect(t.code).toBe(1);
        expect(t.stderr).toMatch(new RegExp(`^ibake decode: MIKEY_INPUT at character ${offset}: `));
      }
    }
    // and a decode error counts bytes of the message
    const b = bytesOf('i-message-1');
    const cut = await runCli(['decode', b64(b.subarray(0, 3))]);
    expect(cut.stderr).toMatch(/^ibake decode: MIKEY_TRUNCATED at byte \d+: /);
  });

  it('usage errors exit 2; --help exits 0', async () => {
    expect((await runCli(['decode', '--bogus', 'AAAA'])).code).toBe(2);
    expect((await runCli(['decode', 'AAAA', 'BBBB'])).code).toBe(2);
    const h = await runCli(['decode', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('usage: ibake decode [--json] [MESSAGE|-]');
  });
});
