// Realistic MIKEY messages for the codec tests: every RFC 6267 message shape (data types 19–25,
// built with the public builders) and standard-only RFC 3830 / RFC 6509 messages (PSK, PK, DH,
// Error, SAKKE, with KEMAC/SP/T/RAND/ID/CERT/CHASH/PKE/SIGN/EXT). Filler bytes stand in for
// ciphertexts, MACs and signatures: the codec is wire format only. Also reads the hand-built
// samples of test/oracles/mikey-sample.mjs.
import { execFileSync } from 'node:child_process';
import { createECDH } from 'node:crypto';
import { oracle } from './helpers/repo.js';
import {
  buildErrorMessage, buildIMessage1, buildIMessage2, buildRMessage1, buildRMessage2, buildRequestKeyPke,
  buildRequestKeyPsk, buildRequestKeyResp, buildUpdateIMessage1, buildUpdateRMessage1, encodeInnerChain, idr, ntpTime,
  type CsMap, type InnerPayload, type MikeyHeader, type MikeyMessage, type SpPayload,
} from '../src/mikey/index.js';

/** Deterministic filler bytes (xorshift), so fixtures are reproducible. */
export function filler(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const te = new TextEncoder();
export const ALICE = 'sip:alice@example.org';
export const BOB = 'sip:bob@example.org';
export const BOB_PHONE = 'sip:bob-phone-2@example.org';
export const KMS = 'kms.example.org';
export const T0 = ntpTime(new Date('2026-11-28T06:00:00.250Z'));

export const SRTP_POLICY: SpPayload = {
  kind: 'SP',
  policyNo: 0,
  protType: 0,
  params: [
    [0, 1], [1, 16], [2, 1], [3, 20], [4, 14], [5, 0], [6, 0], [7, 1], [8, 1], [10, 1], [11, 10],
  ].map(([type, v]) => ({ type: type!, value: Uint8Array.of(v!) })),
};

export const CS_MAP: CsMap = {
  type: 0,
  entries: [
    { policyNo: 0, ssrc: 0x1a2b3c4d, roc: 0 },
    { policyNo: 0, ssrc: 0, roc: 0 },
  ],
};

/** A throw-away self-signed P-256 certificate (public data only), so tshark's X.509 decoder runs. */
export const CERT_DER = new Uint8Array(
  Buffer.from(
    'MIIBjTCCATOgAwIBAgIUCVpC9t9ecBQ7LVBhxuXfLVuRlSAwCgYIKoZIzj0EAwIwHDEaMBgGA1UEAwwRYWxpY2UuZXhhbXBsZS5vcmcwHhcNMjYxMTI4MDU0NjAwWhcNMzYxMTI1MDU0NjAwWjAcMRowGAYDVQQDDBFhbGljZS5leGFtcGxlLm9yZzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABP1fspvOjOWoAI0DYKTTskHIoOhWqa6itZUd4fMW2b+ASY9yDKH5ZuRfc/FarTM9aqqYh1+dMICVHkC7YThXjXSjUzBRMB0GA1UdDgQWBBRhesmeyndD+7IriVnut6+qCwL/QTAfBgNVHSMEGDAWgBRhesmeyndD+7IriVnut6+qCwL/QTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCTcS3k6ysQ5cALsG+NFyimr/eaI+moX8cVVd48XDC2CgIgWE6YcbKLOgTVhkRQ5oAa4nu7NVqeNnVCXYewPyoLgDo=',
    'base64',
  ),
);

export function p256Point(): Uint8Array {
  const e = createECDH('prime256v1');
  return new Uint8Array(e.generateKeys());
}

/** An IBAKE "ciphertext" of realistic size around a real inner chain (DER-like prefix + bytes). */
export function fakeCiphertext(inner: InnerPayload[], seed: number): Uint8Array {
  const plain = encodeInnerChain(inner);
  // BFCiphertextBlock-sized: U (97 octets G1 point in an OCTET STRING), v (32), w (= plaintext)
  const body = new Uint8Array(4 + 99 + 34 + 4 + plain.length);
  body.set(filler(body.length, seed));
  body[0] = 0x30;
  return body;
}

export interface Fixture {
  name: string;
  msg: MikeyMessage;
  /** only RFC 3830 / 6043 / 6509 payloads and data types tshark knows payloads of */
  standard: boolean;
  /** GStreamer's parser understands every payload (HDR, T, RAND, SP, KEMAC, PKE only) */
  gst?: boolean;
}

export function fixtures(): Fixture[] {
  const out: Fixture[] = [];
  const pi = p256Point();
  const pr = p256Point();
  const i1Inner: InnerPayload[] = [idr(1, ALICE), { kind: 'ECCPT', curve: 8, point: pi, kv: { type: 0 } }, idr(2, BOB)];
  const r1Inner: InnerPayload[] = [...i1Inner, idr(2, BOB_PHONE), { kind: 'ECCPT', curve: 8, point: pr, kv: { type: 0 } }];
  const rand = filler(16, 7);
  const i1 = buildIMessage1({ csbId: 0x5eed1234, csMap: CS_MAP, t: T0, rand, idri: ALICE, idrr: BOB, sp: [SRTP_POLICY], ibake: fakeCiphertext(i1Inner, 2) });
  out.push({ name: 'i-message-1', msg: i1, standard: false });
  const skInner: InnerPayload[] = [idr(1, ALICE), { kind: 'SK', skType: 1, key: filler(32, 9), kv: { type: 0 } }];
  out.push({
    name: 'i-message-1-esk',
    msg: buildIMessage1({ csbId: 0x5eed1235, t: T0 + 1n, rand, idri: ALICE, idrr: BOB, ibake: fakeCiphertext(i1Inner, 3), esk: fakeCiphertext(skInner, 4) }),
    standard: false,
  });
  const r1 = buildRMessage1({
    request: i1.header,
    t: T0,
    idri: ALICE,
    idrr: BOB_PHONE,
    ibake: fakeCiphertext(r1Inner, 5),
    csMap: { type: 0, entries: [{ policyNo: 0, ssrc: 0x1a2b3c4d, roc: 0 }, { policyNo: 0, ssrc: 0x99887766, roc: 0 }] },
  });
  out.push({ name: 'r-message-1', msg: r1, standard: false });
  const i2 = buildIMessage2({ request: r1.header, t: T0 + 5n, rand, idri: ALICE, idrr: BOB_PHONE, ibake: fakeCiphertext([idr(1, ALICE), idr(2, BOB_PHONE), r1Inner[4]!], 6) });
  out.push({ name: 'i-message-2', msg: i2, standard: false });
  out.push({
    name: 'i-message-2-deferred',
    msg: buildIMessage2({ request: r1.header, t: T0 + 6n, rand, idri: ALICE, idrr: 'sip:voicemail@example.org', ibake: fakeCiphertext(r1Inner, 8), esk: fakeCiphertext(skInner, 10) }),
    standard: false,
  });
  out.push({ name: 'r-message-2', msg: buildRMessage2({ request: i2.header, t: T0 + 5n, idri: ALICE, idrr: BOB_PHONE, mac: filler(20, 11) }), standard: false });
  out.push({
    name: 'r-message-2-ibake-kemac',
    msg: buildRMessage2({
      request: i2.header,
      t: T0 + 5n,
      idri: ALICE,
      idrr: BOB_PHONE,
      ibake: fakeCiphertext([idr(1, ALICE), i1Inner[1]!], 12),
      kemac: { kind: 'KEMAC', encrAlg: 1, encrData: filler(2 * 34, 13), macAlg: 0, mac: new Uint8Array(0) },
      mac: filler(20, 14),
    }),
    standard: false,
  });
  out.push({
    name: 'r-message-2-sha256',
    msg: buildRMessage2({ request: i2.header, t: T0 + 5n, idri: ALICE, idrr: BOB_PHONE, authAlg: 2, mac: filler(32, 15) }),
    standard: false,
  });
  const upd = buildUpdateIMessage1({ original: i1.header, t: T0 + 600n, idri: ALICE, idrr: BOB_PHONE, ibake: fakeCiphertext(i1Inner, 30), responderInitiated: true });
  out.push({ name: 'update-i-message-1', msg: upd, standard: false });
  out.push({ name: 'update-r-message-1', msg: buildUpdateRMessage1({ request: upd.header, t: T0 + 600n, idri: ALICE, idrr: BOB_PHONE, ibake: fakeCiphertext(r1Inner, 31), mac: filler(20, 32) }), standard: false });
  const req = buildRequestKeyPsk({ csbId: 0xabcdef01, t: T0, rand: filler(16, 16), identities: [{ role: 1, id: ALICE }], kms: KMS, psk: 'psk-2026-11', mac: filler(20, 17) });
  out.push({ name: 'request-key-psk', msg: req, standard: false });
  out.push({
    name: 'request-key-pke',
    msg: buildRequestKeyPke({
      csbId: 0xabcdef02,
      t: T0,
      rand: filler(16, 18),
      identities: [{ role: 1, id: ALICE }, { role: 2, id: 'tel:+15551234567' }],
      certs: [{ kind: 'CERT', certType: 0, data: CERT_DER }],
      kms: KMS,
      chash: { kind: 'CHASH', hashFunc: 0, hash: filler(20, 20) },
      pke: { kind: 'PKE', c: 0, data: filler(128, 21) },
      sign: { sType: 0, signature: filler(128, 22) },
    }),
    standard: false,
  });
  out.push({
    name: 'request-key-resp',
    msg: buildRequestKeyResp({
      request: req.header,
      t: T0,
      identities: [{ role: 1, id: ALICE }],
      kms: KMS,
      kemac: { kind: 'KEMAC', encrAlg: 1, encrData: filler(4 + 25 + 4 + 96, 23), macAlg: 0, mac: new Uint8Array(0) },
      mac: filler(20, 24),
    }),
    standard: false,
  });
  // RFC 3830 Error in answer to an I_MESSAGE_1 (standard payloads only)
  out.push({ name: 'error', msg: buildErrorMessage({ request: i1.header, t: T0 + 9n, errors: [11] }), standard: true });
  out.push({
    name: 'error-sp-v',
    msg: buildErrorMessage({ request: i1.header, t: T0 + 9n, errors: [9, 10], sp: [SRTP_POLICY], v: { authAlg: 1, mac: filler(20, 25) } }),
    standard: true,
  });
  const stdHeader = (dataType: number, v: boolean, csMap: CsMap = { type: 0, entries: [{ policyNo: 0, ssrc: 0x0badcafe, roc: 0 }] }): MikeyHeader => ({
    dataType, v, prf: 0, csbId: 0x01020304, csMap,
  });
  const keyChain = encodeInnerChain(
    [
      { kind: 'KEY', keyType: 1, key: filler(16, 26), salt: filler(14, 27), kv: { type: 1, spi: Uint8Array.of(1) } },
      { kind: 'KEY', keyType: 0, key: filler(16, 28), kv: { type: 2, from: new Uint8Array(6), to: Uint8Array.of(0, 0, 0xff, 0xff, 0xff, 0xff) } },
    ],
    { first: 'KEY' },
  );
  out.push({
    name: 'psk-init',
    msg: {
      header: stdHeader(0, true),
      payloads: [
        { kind: 'T', tsType: 0, value: T0 },
        { kind: 'RAND', rand: filler(16, 29) },
        { kind: 'ID', idType: 1, data: te.encode(ALICE) },
        { kind: 'ID', idType: 1, data: te.encode(BOB) },
        SRTP_POLICY,
        { kind: 'KEMAC', encrAlg: 0, encrData: keyChain, macAlg: 1, mac: filler(20, 30) },
      ],
    },
    standard: true,
  });
  out.push({
    name: 'psk-init-gst',
    msg: {
      header: stdHeader(0, true),
      payloads: [
        { kind: 'T', tsType: 1, value: T0 },
        { kind: 'RAND', rand: filler(32, 31) },
        SRTP_POLICY,
        { kind: 'KEMAC', encrAlg: 0, encrData: encodeInnerChain([{ kind: 'KEY', keyType: 2, key: filler(16, 32), kv: { type: 0 } }], { first: 'KEY' }), macAlg: 1, mac: filler(20, 33) },
      ],
    },
    standard: true,
    gst: true,
  });
  out.push({
    name: 'psk-init-gst-2',
    msg: {
      header: { dataType: 0, v: false, prf: 0, csbId: 0xfeedf00d, csMap: { type: 0, entries: [{ policyNo: 1, ssrc: 0x11111111, roc: 3 }, { policyNo: 2, ssrc: 0x22222222, roc: 0 }] } },
      payloads: [
        { kind: 'T', tsType: 2, value: 4242n },
        { kind: 'RAND', rand: filler(20, 50) },
        { ...SRTP_POLICY, policyNo: 1 },
        { kind: 'SP', policyNo: 2, protType: 0, params: [{ type: 0, value: Uint8Array.of(2) }, { type: 6, value: Uint8Array.of(0, 0, 1, 0) }] },
        {
          kind: 'KEMAC',
          encrAlg: 0,
          encrData: encodeInnerChain([{ kind: 'KEY', keyType: 3, key: filler(16, 51), salt: filler(14, 52), kv: { type: 1, spi: Uint8Array.of(0, 7) } }], { first: 'KEY' }),
          macAlg: 1,
          mac: filler(20, 53),
        },
      ],
    },
    standard: true,
    gst: true,
  });
  out.push({
    name: 'psk-verify',
    msg: {
      header: stdHeader(1, false),
      payloads: [
        { kind: 'T', tsType: 0, value: T0 },
        { kind: 'ID', idType: 0, data: te.encode('alice@example.org') },
        { kind: 'ID', idType: 0, data: te.encode('bob@example.org') },
        { kind: 'EXT', extType: 1, data: te.encode('mikey') },
        { kind: 'V', authAlg: 1, mac: filler(20, 34) },
      ],
    },
    standard: true,
  });
  out.push({
    name: 'pk-init',
    msg: {
      header: stdHeader(2, true),
      payloads: [
        { kind: 'T', tsType: 2, value: 77n },
        { kind: 'RAND', rand: filler(16, 35) },
        { kind: 'CERT', certType: 0, data: CERT_DER },
        { kind: 'ID', idType: 1, data: te.encode(BOB) },
        SRTP_POLICY,
        { kind: 'KEMAC', encrAlg: 1, encrData: filler(40, 36), macAlg: 1, mac: filler(20, 37) },
        { kind: 'PKE', c: 1, data: filler(128, 39) },
        { kind: 'SIGN', sType: 1, signature: filler(128, 40) },
      ],
    },
    standard: true,
  });
  out.push({
    name: 'dh-init',
    msg: {
      header: stdHeader(4, true),
      payloads: [
        { kind: 'T', tsType: 0, value: T0 },
        { kind: 'RAND', rand: filler(16, 41) },
        { kind: 'ID', idType: 1, data: te.encode(ALICE) },
        SRTP_POLICY,
        { kind: 'DH', group: 1, value: filler(96, 42), kv: { type: 0 } },
        { kind: 'SIGN', sType: 0, signature: filler(128, 43) },
      ],
    },
    standard: true,
  });
  out.push({
    name: 'dh-resp',
    msg: {
      header: stdHeader(5, false),
      payloads: [
        { kind: 'T', tsType: 0, value: T0 },
        { kind: 'ID', idType: 1, data: te.encode(BOB) },
        { kind: 'DH', group: 1, value: filler(96, 44), kv: { type: 0 } },
        { kind: 'DH', group: 1, value: filler(96, 42), kv: { type: 0 } },
        { kind: 'SIGN', sType: 0, signature: filler(64, 45) },
      ],
    },
    standard: true,
  });
  out.push({
    name: 'sakke',
    msg: {
      header: stdHeader(26, true, { type: 1, count: 0 }),
      payloads: [
        { kind: 'T', tsType: 0, value: T0 },
        { kind: 'RAND', rand: filler(16, 46) },
        idr(1, 'tel:+447700900123'),
        idr(2, 'tel:+447700900456'),
        idr(6, 'kms.example.org'),
        { kind: 'SAKKE', params: 1, idScheme: 1, data: Uint8Array.of(4, ...filler(272, 47)) },
        { kind: 'SIGN', sType: 2, signature: filler(129, 48) },
      ],
    },
    standard: true,
  });
  return out;
}

/** True when tshark is usable here (see helpers/oracle-gate.ts). */
export { haveTshark } from './helpers/tshark.js';

/** The hand-built samples of test/oracles/mikey-sample.mjs (independent of src/mikey): name -> bytes. */
export function oracleSamples(): Map<string, Uint8Array> {
  const txt = execFileSync(process.execPath, [oracle('mikey-sample.mjs'), '--all', '--hex'], { encoding: 'utf8' });
  const m = new Map<string, Uint8Array>();
  for (const line of txt.trim().split('\n')) {
    const [name, hex] = line.trim().split(/\s+/);
    m.set(name!, new Uint8Array(Buffer.from(hex!, 'hex')));
  }
  return m;
}
