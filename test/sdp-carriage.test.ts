// MIKEY-IBAKE in SDP/SIP (src/srtp/sdp-body.ts, `ibake sdp`, exchange.* keyMgmt / sdp params):
// a complete call whose four messages travel only as SDP bodies inside SIP INVITE / 200 / UPDATE /
// 200 text, written by the CLI and read back by the daemon; the key entries' SRTP-stack forms
// agree on both sides; findMikey's refusals; the CLI's round trips and usage errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { testDaemonConfig } from './helpers/daemon-config.js';
import { startIbaked, type Ibaked } from '../src/daemon/daemon.js';
import { buildSdpBody, findMikey, sipBody } from '../src/srtp/sdp-body.js';
import { formatKeyMgmtLine } from '../src/srtp/sdp.js';
import { runCli } from './helpers/cli.js';

const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
const dir = mkdtempSync(join(tmpdir(), 'ibaked-sdp-'));

let d: Ibaked;
let c: IbakedClient;

beforeAll(async () => {
  d = await startIbaked(
    testDaemonConfig(join(dir, 'ibaked.sock'), join(dir, 'var'), { engine: 'native', maxInFlight: 16 }),
    () => {},
  );
  c = await IbakedClient.connect(d.socketPath);
  await Promise.all([c.request('identity.add', { uri: ALICE }), c.request('identity.add', { uri: BOB })]);
});
afterAll(async () => {
  c?.close();
  await d?.close();
});

/** A SIP request or response around an SDP body (CRLF, Content-Length in octets). */
function sip(start: string, body: string): string {
  return [start, 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1', 'Call-ID: t1@127.0.0.1', 'CSeq: 1 INVITE', 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}

async function cliSdp(kind: 'offer' | 'answer', message: Uint8Array, extra: string[] = []): Promise<string> {
  const r = await runCli(['sdp', kind, Buffer.from(message).toString('base64'), ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

interface Key { csId: number; ssrc: number; roc: number; masterKey: Uint8Array; masterSalt: Uint8Array; keySalt: Uint8Array; inline: string; sender: string; gst: Record<string, unknown>; libsrtp: Record<string, unknown> }
interface Recv { reply?: Uint8Array; replyName?: string; replyKeyMgmt?: string; csMap: Array<{ csId: number; ssrc: number; roc: number }>; established?: { keys: Key[] } }

describe('a call carried in SIP/SDP text through the CLI and the daemon', () => {
  it('INVITE / 200 / UPDATE / 200 bodies from `ibake sdp`, parsed by exchange.receive {sdp}', async () => {
    const init = await c.request<{ csbId: number; message: Uint8Array; keyMgmt: string }>('exchange.initiate', { from: ALICE, to: BOB, ssrcs: [0x11223344, 0] });
    expect(init.keyMgmt).toBe(formatKeyMgmtLine(init.message));
    const offer = await cliSdp('offer', init.message, ['--port', '40000']);
    expect(offer).toMatch(/^v=0\r\n.*\r\na=key-mgmt:mikey [A-Za-z0-9+/=]+\r\nm=audio 40000 RTP\/SAVP 96\r\na=rtpmap:96 L16\/8000\r\n$/s);
    expect(offer).toContain(init.keyMgmt + '\r\n');

    // Bob gets the whole INVITE
    const r1 = await c.request<Recv>('exchange.receive', { identity: BOB, sdp: sip('INVITE sip:bob@127.0.0.1 SIP/2.0', offer) });
    expect(r1.replyName).toBe('R_MESSAGE_1');
    expect(r1.replyKeyMgmt).toBe(formatKeyMgmtLine(r1.reply!));
    expect(r1.csMap).toEqual([{ csId: 1, ssrc: 0x11223344, roc: 0 }, { csId: 2, ssrc: 0, roc: 0 }]);
    const offerFile = join(dir, 'offer.sdp');
    writeFileSync(offerFile, offer);
    const answer = await cliSdp('answer', r1.reply!, ['--offer', offerFile, '--port', '40002']);
    expect(answer).toContain('m=audio 40002 RTP/SAVP 96\r\na=rtpmap:96 L16/8000\r\n');

    // Alice gets the 200 OK: R_MESSAGE_1 tells her the SSRC Bob chose for csId 2
    const i2 = await c.request<Recv>('exchange.receive', { identity: ALICE, sdp: sip('SIP/2.0 200 OK', answer) });
    expect(i2.replyName).toBe('I_MESSAGE_2');
    expect(i2.csMap[0]).toEqual({ csId: 1, ssrc: 0x11223344, roc: 0 });
    const bobSsrc = i2.csMap[1]!.ssrc;
    expect(bobSsrc).toBeGreaterThan(0);

    // UPDATE carries I_MESSAGE_2 in an SDP body that already exists (the offer): --sdp replaces the line
    const update = await runCli(['sdp', 'offer', i2.replyKeyMgmt!, '--sdp', offerFile]);
    expect(update.code).toBe(0);
    expect(update.stdout.split('a=key-mgmt').length).toBe(2); // replaced, not added
    const r2 = await c.request<Recv>('exchange.receive', { identity: BOB, sdp: sip('UPDATE sip:bob@127.0.0.1 SIP/2.0', update.stdout) });
    expect(r2.replyName).toBe('R_MESSAGE_2');
    // a bare a=key-mgmt line is accepted as well
    const fin = await c.request<Recv>('exchange.receive', { identity: ALICE, sdp: r2.replyKeyMgmt });
    expect(fin.reply).toBeUndefined();

    const a = fin.established!.keys;
    const b = r2.established!.keys;
    expect(a.map((k) => k.ssrc)).toEqual([0x11223344, bobSsrc]);
    for (const [i, k] of a.entries()) {
      const o = b[i]!;
      expect(Buffer.from(k.keySalt)).toEqual(Buffer.concat([k.masterKey, k.masterSalt]));
      expect(Buffer.from(k.keySalt)).toEqual(Buffer.from(o.keySalt));
      expect(k.inline).toBe(Buffer.from(k.keySalt).toString('base64'));
      expect(k.gst).toEqual({ ...o.gst, 'srtp-key': k.gst['srtp-key'] });
      expect(Buffer.from(k.gst['srtp-key'] as Uint8Array)).toEqual(Buffer.from(k.keySalt));
      expect(k.gst).toMatchObject({ ssrc: k.ssrc, roc: 0, 'srtp-cipher': 'aes-128-icm', 'srtp-auth': 'hmac-sha1-80', 'srtcp-cipher': 'aes-128-icm', 'srtcp-auth': 'hmac-sha1-80' });
      expect(k.sender).toBe(i === 0 ? 'initiator' : 'responder');
      expect(k.libsrtp).toEqual({ profile: 'srtp_profile_aes128_cm_sha1_80', rtp: 'srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80', rtcp: 'srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80' });
    }

    // the CSB update's messages carry key-mgmt lines too
    const up = await c.request<{ keyMgmt: string; message: Uint8Array }>('exchange.rekey', { identity: ALICE, csbId: init.csbId, peer: BOB });
    expect(up.keyMgmt).toBe(formatKeyMgmtLine(up.message));
  });

  it('exchange.receive refuses both/neither message and sdp, and SDP without MIKEY, with typed errors', async () => {
    const m = (await c.request<{ message: Uint8Array }>('exchange.initiate', { from: ALICE, to: BOB })).message;
    await expect(c.request('exchange.receive', { identity: BOB, message: m, sdp: formatKeyMgmtLine(m) })).rejects.toMatchObject({ code: 'BAD_PARAMS' });
    await expect(c.request('exchange.receive', { identity: BOB })).rejects.toMatchObject({ code: 'BAD_PARAMS' });
    await expect(c.request('exchange.receive', { identity: BOB, sdp: 42 })).rejects.toMatchObject({ code: 'BAD_PARAMS' });
    await expect(c.request('exchange.receive', { identity: BOB, sdp: 'v=0\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n' })).rejects.toMatchObject({ code: 'SDP_NO_MIKEY' });
    await expect(c.request('exchange.receive', { identity: BOB, sdp: 'hello' })).rejects.toMatchObject({ code: 'SDP_SYNTAX' });
  });
});

describe('findMikey', () => {
  const msg = new Uint8Array([1, 22, 0, 0, 1, 2, 3, 4]);
  const body = buildSdpBody(msg);
  it('finds the message in a line, a body (LF too) and a SIP message; honours Content-Length', () => {
    expect(findMikey(formatKeyMgmtLine(msg))).toEqual({ message: msg, carrier: 'key-mgmt' });
    expect(findMikey(formatKeyMgmtLine(msg) + '\r\n').carrier).toBe('key-mgmt');
    expect(findMikey(body)).toEqual({ message: msg, carrier: 'sdp' });
    expect(findMikey(body.replace(/\r\n/g, '\n')).message).toEqual(msg);
    expect(findMikey(sip('SIP/2.0 183 Session Progress', body))).toEqual({ message: msg, carrier: 'sip' });
    // bytes after Content-Length are not part of the body
    expect(findMikey(sip('INVITE sip:b@h SIP/2.0', body) + 'garbage').message).toEqual(msg);
    // compact header forms
    expect(sipBody(`INVITE sip:b@h SIP/2.0\r\nc: application/sdp\r\nl: ${body.length}\r\n\r\n${body}`)).toBe(body);
    // media-level line, same message at both levels
    expect(findMikey(body + formatKeyMgmtLine(msg) + '\r\n').message).toEqual(msg);
    // a body without a message (the 200 OK to the last message of an exchange)
    expect(buildSdpBody(null)).not.toContain('key-mgmt');
    expect(() => findMikey(buildSdpBody(null))).toThrow(expect.objectContaining({ code: 'SDP_NO_MIKEY' }));
  });

  it('refuses missing, ambiguous and malformed carriage', () => {
    const other = new Uint8Array([1, 22, 0, 0, 9, 9, 9, 9]);
    const cases: Array<[string, string]> = [
      [body.replace(/a=key-mgmt.*\r\n/, ''), 'SDP_NO_MIKEY'],
      [body + formatKeyMgmtLine(other) + '\r\n', 'SDP_DUPLICATE'],
      ['a=key-mgmt:foo ' + Buffer.from(msg).toString('base64'), 'SDP_NO_MIKEY'],
      [formatKeyMgmtLine(msg) + '\r\nv=0\r\n', 'SDP_SYNTAX'],
      [formatKeyMgmtLine(msg).slice(0, -1), 'SDP_BASE64'],
      ['INVITE sip:b@h SIP/2.0\r\nContent-Type: text/plain\r\n\r\n' + body, 'SDP_SYNTAX'],
      ['INVITE sip:b@h SIP/2.0\r\n\r\n' + body, 'SDP_SYNTAX'],
      ['INVITE sip:b@h SIP/2.0\r\nContent-Type: application/sdp\r\nContent-Length: 9999\r\n\r\n' + body, 'SDP_SYNTAX'],
      ['INVITE sip:b@h SIP/2.0\r\nContent-Type: application/sdp', 'SDP_SYNTAX'],
      ['', 'SDP_SYNTAX'],
      ['x'.repeat(70000), 'SDP_SYNTAX'],
    ];
    for (const [text, code] of cases) expect(() => findMikey(text), text.slice(0, 40)).toThrow(expect.objectContaining({ code }));
  });
});

describe('ibake sdp', () => {
  const msgB64 = async () => {
    const m = (await c.request<{ message: Uint8Array }>('exchange.initiate', { from: ALICE, to: BOB })).message;
    return Buffer.from(m).toString('base64');
  };
  it('offer -> extract gives the message back; IPv6, video and payload options', async () => {
    const b64 = await msgB64();
    const o = await runCli(['sdp', 'offer', '--addr', '::1', '--media', 'video', '--pt', '100', '--encoding', 'H264/90000'], b64);
    expect(o.code).toBe(0);
    expect(o.stdout).toContain('c=IN IP6 ::1\r\n');
    expect(o.stdout).toContain('m=video 49170 RTP/SAVP 100\r\na=rtpmap:100 H264/90000\r\n');
    const x = await runCli(['sdp', 'extract', '--json'], o.stdout);
    expect(JSON.parse(x.stdout)).toEqual({ message: b64, carrier: 'sdp' });
    const y = await runCli(['sdp', 'extract', '-'], sip('INVITE sip:b@h SIP/2.0', o.stdout));
    expect(y.stdout).toBe(b64 + '\n');
  });

  it('usage and input errors', async () => {
    const b64 = await msgB64();
    expect((await runCli(['sdp', 'offer', b64, '--port', '70000'])).code).toBe(2);
    expect((await runCli(['sdp', 'offer', b64, '--media', 'text'])).code).toBe(2);
    expect((await runCli(['sdp', 'offer', b64, '--sdp', '/nonexistent'])).code).toBe(2);
    expect((await runCli(['sdp', 'offer', b64, '--sdp', '/dev/null', '--port', '1'])).code).toBe(2);
    expect((await runCli(['sdp', 'offer', b64, '--bogus'])).code).toBe(2);
    // a bad flag value is usage (exit 2) whichever flag it is, as --help says
    const bad = await runCli(['sdp', 'offer', b64, '--addr', 'example.org']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/addr must be an IPv4 or IPv6 address/);
    const enc = await runCli(['sdp', 'answer', b64, '--encoding', 'L16']);
    expect(enc.code).toBe(2);
    expect(enc.stderr).toMatch(/encoding must look like NAME\/RATE/);
    const notMikey = await runCli(['sdp', 'offer', 'AAAA']);
    expect(notMikey.code).toBe(1);
    expect(notMikey.stderr).toMatch(/MIKEY_/);
    const none = await runCli(['sdp', 'extract'], 'v=0\r\ns=-\r\n');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/SDP_NO_MIKEY/);
    expect((await runCli(['sdp', 'answer', '--help'])).stdout).toMatch(/--offer FILE/);
  });
});
