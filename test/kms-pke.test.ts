// REQUEST_KEY_PKE (RFC 6267 §4.1.2, our profile in docs/kms.md §2.4): envelope key under the
// KMS's RSA key (OAEP-SHA-256), message signed with the user's pinned RSA key (PKCS#1 v1.5 or
// PSS, SHA-256). Checked independently: the signature verifies with node:crypto directly over
// the message minus the signature value; the KMS's private key opens the envelope and the
// response keys derive from it; a wrong signer, a tampered message, an envelope for another KMS
// and a KMS without PKE are all refused; the issued key passes the pairing check; Wireshark
// decodes the PKE request and its response to the end.
import { constants, createPrivateKey, generateKeyPairSync, privateDecrypt, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.js';
import { extract, identityFor, verifyPrivateKey, type IbeParams } from '../src/ibe/index.js';
import { requestPrivateKey, startKmsServer, type KmsServer, type KmsServerOptions } from '../src/kms/index.js';
import { postMikey } from '../src/kms/http-client.js';
import { decodeKeyRequest, decodeKeyResponse, encodeKeyRequestPke, verifyKeyRequestSignature } from '../src/kms/messages.js';
import { msToNtp64 } from '../src/kms/ntp.js';
import { publicKeyOf } from '../src/kms/pke.js';
import { decodeMessage } from '../src/mikey/index.js';
import { kmsDomain, selfSignedCert } from './kms-fixtures.js';
import { haveTshark, tsharkJudge } from './helpers/tshark.js';

const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
const KMS_ID = 'urn:ibaked:kms:pke-test';
const pem = (k: { export: (o: object) => string | Buffer }, type: 'spki' | 'pkcs8') => k.export({ type, format: 'pem' }).toString();

let engine: Engine;
let master: Uint8Array;
let params: IbeParams;
const kmsKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKms = generateKeyPairSync('rsa', { modulusLength: 2048 });
const alice = selfSignedCert('rsa'); // Alice's signing key + certificate
const mallory = generateKeyPairSync('rsa', { modulusLength: 2048 });
const servers: KmsServer[] = [];

beforeAll(async () => {
  ({ engine, master, params } = await kmsDomain(KMS_ID));
});
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function kms(extra: Partial<KmsServerOptions> = {}): Promise<KmsServer> {
  const s = await startKmsServer({
    master, params, engine, port: 0, log: () => {},
    users: { [ALICE]: { sign: alice.cert }, [BOB]: '00112233445566778899aabbccddeeff' },
    pke: { key: pem(kmsKeys.privateKey, 'pkcs8') },
    ...extra,
  });
  servers.push(s);
  return s;
}

describe('REQUEST_KEY_PKE', () => {
  it('is signed over the message up to the signature, with the envelope key under OAEP-SHA-256', () => {
    const { bytes, envKey } = encodeKeyRequestPke(
      { csbId: 42, tNtp: msToNtp64(Date.now()), rand: new Uint8Array(16).fill(1), identities: [ALICE], kmsId: KMS_ID },
      { kmsPublic: kmsKeys.publicKey, signKey: createPrivateKey(alice.key), certDer: new Uint8Array(Buffer.from(alice.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64')) },
    );
    const m = decodeMessage(bytes);
    expect(m.header).toMatchObject({ dataType: 20, v: true, csMap: { type: 1, count: 0 } });
    expect(m.payloads.map((p) => p.kind)).toEqual(['T', 'RAND', 'IDR', 'CERT', 'IDR', 'PKE', 'SIGN']);
    const sign = m.payloads[6]!;
    const pke = m.payloads[5]!;
    if (sign.kind !== 'SIGN' || pke.kind !== 'PKE') throw new Error('shape');
    expect(sign.sType).toBe(0);
    expect(sign.signature.length).toBe(256);
    // independent checks with node:crypto
    expect(verify('sha256', bytes.subarray(0, bytes.length - 256), { key: publicKeyOf(alice.cert, 'c'), padding: constants.RSA_PKCS1_PADDING }, sign.signature)).toBe(true);
    const opened = privateDecrypt({ key: kmsKeys.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, pke.data);
    expect(Buffer.from(opened)).toEqual(Buffer.from(envKey));
    expect(pke.c).toBe(0);
    const req = decodeKeyRequest(bytes);
    expect(req.auth.kind).toBe('pke');
    expect(verifyKeyRequestSignature(req, publicKeyOf(alice.cert, 'c'))).toBe(true);
    expect(verifyKeyRequestSignature(req, mallory.publicKey)).toBe(false);
    const t = bytes.slice();
    t[12]! ^= 1;
    expect(verifyKeyRequestSignature(decodeKeyRequest(t), publicKeyOf(alice.cert, 'c'))).toBe(false);
  });

  it('issues a verified key to a signed request (PKCS#1 v1.5 and PSS, with and without CERT)', async () => {
    const s = await kms();
    expect(s.pkePublicKey).toContain('BEGIN PUBLIC KEY');
    for (const variant of [{ sType: 0 as const }, { sType: 1 as const, cert: alice.cert }]) {
      const got = await requestPrivateKey({ url: s.url, identity: ALICE, params, engine, pke: { kmsPublicKey: s.pkePublicKey!, signKey: alice.key, ...variant } });
      const id = identityFor(ALICE, Date.now(), 'month');
      expect(await verifyPrivateKey(params, id.bytes, got.key, engine)).toBe(true);
      expect(Buffer.from(got.key)).toEqual(Buffer.from(await extract(master, params, id.bytes, engine)));
    }
  });

  it('refuses a wrong signer, a user without a pinned key, an envelope for another KMS, and a KMS without PKE', async () => {
    const s = await kms();
    const pkeOpts = (signKey: string, kmsPublicKey = s.pkePublicKey!) => ({ kmsPublicKey, signKey });
    await expect(requestPrivateKey({ url: s.url, identity: ALICE, params, engine, pke: pkeOpts(pem(mallory.privateKey, 'pkcs8')) })).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED', httpStatus: 403, mikeyError: 0 });
    await expect(requestPrivateKey({ url: s.url, identity: BOB, params, engine, pke: pkeOpts(alice.key) })).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED' });
    await expect(requestPrivateKey({ url: s.url, identity: ALICE, params, engine, pke: pkeOpts(alice.key, pem(otherKms.publicKey, 'spki')) })).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED' });
    const plain = await kms({ pke: undefined });
    await expect(requestPrivateKey({ url: plain.url, identity: ALICE, params, engine, pke: pkeOpts(alice.key, s.pkePublicKey!) })).rejects.toMatchObject({ code: 'KMS_UNSUPPORTED', httpStatus: 400, mikeyError: 11 });
    // the PSK path still works next to PKE
    expect((await requestPrivateKey({ url: s.url, identity: BOB, psk: '00112233445566778899aabbccddeeff', params, engine })).key.length).toBe(96);
  });

  it('answers a replayed PKE request with 409', async () => {
    const s = await kms();
    const { bytes, envKey } = encodeKeyRequestPke(
      { csbId: 7, tNtp: msToNtp64(Date.now()), rand: new Uint8Array(16).fill(8), identities: [ALICE], kmsId: KMS_ID },
      { kmsPublic: kmsKeys.publicKey, signKey: createPrivateKey(alice.key) },
    );
    const first = await postMikey(s.url, bytes);
    expect(first.status).toBe(200);
    const keys = decodeKeyResponse(first.body, { csbId: 7, prf: 0, authAlg: 1, tNtp: decodeKeyRequest(bytes).tNtp, rand: new Uint8Array(16).fill(8), identities: [ALICE], kmsId: KMS_ID }, envKey);
    expect(keys).toHaveLength(1);
    expect((await postMikey(s.url, bytes)).status).toBe(409);
  });

  it.runIf(haveTshark())('passes the tshark oracle (request with CERT, and its response)', async () => {
    const s = await kms();
    const rand = new Uint8Array(16).fill(4);
    const tNtp = msToNtp64(Date.now());
    const { bytes } = encodeKeyRequestPke(
      { csbId: 9, tNtp, rand, identities: [ALICE], kmsId: KMS_ID },
      { kmsPublic: kmsKeys.publicKey, signKey: createPrivateKey(alice.key), certDer: new Uint8Array(Buffer.from(alice.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64')) },
    );
    const r = await postMikey(s.url, bytes);
    expect(r.status).toBe(200);
    const verdicts = tsharkJudge([bytes, r.body]).messages;
    verdicts.forEach((v, i) => {
      expect(v.ok, `message ${i}: ${JSON.stringify(v.problems)}`).toBe(true);
      expect(v.complete).toBe(true);
    });
  });
});
