// The KMS issues the Cha–Cheon signing key with the decryption key (deferred delivery v2,
// docs/kms.md §2.5), over real HTTP on 127.0.0.1:
// * `signing: true` → one REQUEST_KEY exchange, same PSK, both keys pass their pairing checks,
//   the signing key equals a direct extraction and signs what ibs.verify accepts;
// * without `signing` the request and the response carry exactly one (IDR URI, K_PR) pair, as
//   before (old clients see no change);
// * a KMS that returns a wrong signing key (another identity's, the decryption key) →
//   KMS_KEY_INVALID and no key returned; a response without the signing key → KMS_BAD_RESPONSE;
// * the PSK's identity rules cover signing keys too (another user's → 403);
// * the KEMAC entry codec: IDR type 2 "URI ‖ 0x00 ‖ sign" round trip, malformed IDRs refused;
// * the audit log names the use and never the key.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.js';
import { extract, extractSigningKey, identityFor, sign, verify, type IbeParams } from '../src/ibe/index.js';
import { requestPrivateKey, startKmsServer, type KmsLogEvent, type KmsServer } from '../src/kms/index.js';
import { decodeKeyRequest, decodeKeyResponse, encodeKeyRequest, encodeKeyResponse } from '../src/kms/messages.js';
import { postMikey } from '../src/kms/http-client.js';
import { msToNtp64 } from '../src/kms/ntp.js';
import { periodNtp, periodWindow } from '../src/kms/period.js';
import { kmsDomain } from './kms-fixtures.js';

const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
const ALICE_PSK = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
const BOB_PSK = 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0';
const KMS_ID = 'urn:ibaked:kms:sign-test';
const te = new TextEncoder();

let engine: Engine;
let master: Uint8Array;
let params: IbeParams;
let server: KmsServer;
const events: KmsLogEvent[] = [];
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  ({ engine, master, params } = await kmsDomain(KMS_ID));
  server = await startKmsServer({
    master,
    params,
    users: { [ALICE]: ALICE_PSK, [BOB]: BOB_PSK },
    port: 0,
    engine,
    log: (e) => events.push(e),
    rateLimit: { perUser: { burst: 100, perSecond: 100 }, perAddress: { burst: 100, perSecond: 100 } },
  });
});
afterAll(async () => {
  await server.close();
  for (const c of closers) await c();
});

/** A proxy that rewrites each REQUEST_KEY_RESP through `edit` (re-sealed with the PSK). */
async function rewritingKms(psk: string, edit: (keys: ReturnType<typeof decodeKeyResponse>) => ReturnType<typeof decodeKeyResponse>): Promise<string> {
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const r = await postMikey(server.url, body);
      const parsed = decodeKeyRequest(body);
      const pskBytes = new Uint8Array(Buffer.from(psk, 'hex'));
      const keys = decodeKeyResponse(
        r.body,
        { csbId: parsed.csbId, prf: parsed.prf, authAlg: parsed.authAlg, tNtp: parsed.tNtp, rand: parsed.rand, identities: parsed.identities, kmsId: parsed.kmsId },
        pskBytes,
      );
      const out = encodeKeyResponse(parsed, edit(keys), pskBytes);
      res.writeHead(200, { 'content-type': 'application/mikey' });
      res.end(Buffer.from(out));
    });
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  closers.push(() => new Promise((ok) => srv.close(() => ok())));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}/mikey`;
}

describe('KMS signing keys', () => {
  it('signing: true → both keys in one exchange, both verified; the signing key signs', async () => {
    const before = events.length;
    const got = await requestPrivateKey({ url: server.url, identity: ALICE, psk: ALICE_PSK, params, engine, signing: true });
    expect(got.signingKey).toBeInstanceOf(Uint8Array);
    const id = identityFor(ALICE, got.window.startMs, params.period).bytes;
    expect(Buffer.from(got.key).equals(Buffer.from(await extract(master, params, id, engine)))).toBe(true);
    expect(Buffer.from(got.signingKey!).equals(Buffer.from(await extractSigningKey(master, params, id, engine)))).toBe(true);
    expect(Buffer.from(got.signingKey!).equals(Buffer.from(got.key))).toBe(false);
    const m = te.encode('bundle');
    const sig = await sign(params, id, got.signingKey!, m, engine);
    expect(await verify(params, id, m, sig, engine)).toBe(true);
    const issues = events.slice(before).filter((e) => e.event === 'issue');
    expect(issues.map((e) => (e as { use?: string }).use ?? 'decrypt')).toEqual(['decrypt', 'sign']);
    const text = JSON.stringify(events);
    expect(text).not.toContain(Buffer.from(got.signingKey!).toString('hex'));
    expect(text).not.toContain(Buffer.from(got.signingKey!).toString('base64'));
  });

  it('without signing: one (URI, K_PR) entry each way, no signing key', async () => {
    const got = await requestPrivateKey({ url: server.url, identity: BOB, psk: BOB_PSK, params, engine });
    expect(got.signingKey).toBeUndefined();
    const w = periodNtp(periodWindow(Date.now(), params.period));
    const rand = new Uint8Array(16).fill(7);
    const body = encodeKeyRequest({ csbId: 9, tNtp: msToNtp64(Date.now()), rand, identities: [BOB], kmsId: KMS_ID, wanted: [{ identity: BOB, ...w }] }, Buffer.from(BOB_PSK, 'hex'));
    const req = decodeKeyRequest(body);
    expect(req.wanted).toEqual([{ identity: BOB, ...w }]);
    const r = await postMikey(server.url, body);
    expect(r.status).toBe(200);
    const keys = decodeKeyResponse(r.body, { csbId: 9, prf: 0, authAlg: 1, tNtp: req.tNtp, rand, identities: [BOB], kmsId: KMS_ID }, new Uint8Array(Buffer.from(BOB_PSK, 'hex')));
    expect(keys.map((k) => k.use ?? 'decrypt')).toEqual(['decrypt']);
    expect(Object.keys(keys[0]!).sort()).toEqual(['fromNtp', 'identity', 'key', 'toNtp']);
  });

  it('the request entry: IDR type 2 = URI ‖ 0x00 ‖ "sign"; other byte strings are refused', () => {
    const w = periodNtp(periodWindow(Date.now(), params.period));
    const psk = Buffer.from(ALICE_PSK, 'hex');
    const spec = { csbId: 1, tNtp: msToNtp64(Date.now()), rand: new Uint8Array(16), identities: [ALICE], kmsId: KMS_ID };
    const body = encodeKeyRequest({ ...spec, wanted: [{ identity: ALICE, use: 'sign', ...w }] }, psk);
    const needle = Buffer.concat([Buffer.from([2]), Buffer.from([0, ALICE.length + 5]), Buffer.from(`${ALICE}\u0000sign`, 'latin1')]);
    expect(Buffer.from(body).includes(needle)).toBe(true);
    expect(decodeKeyRequest(body).wanted).toEqual([{ identity: ALICE, use: 'sign', ...w }]);
    // the same bytes with "sigm": refused
    const bad = Buffer.from(body);
    bad[bad.indexOf(needle) + needle.length - 1] = 0x6d;
    expect(() => decodeKeyRequest(new Uint8Array(bad))).toThrow(/URI ‖ 0x00 ‖ "sign"/);
  });

  it('a signing key for another user’s identity is refused (403)', async () => {
    const w = periodNtp(periodWindow(Date.now(), params.period));
    const body = encodeKeyRequest(
      { csbId: 2, tNtp: msToNtp64(Date.now()), rand: new Uint8Array(16).fill(3), identities: [ALICE, BOB], kmsId: KMS_ID, wanted: [{ identity: BOB, use: 'sign', ...w }] },
      Buffer.from(ALICE_PSK, 'hex'),
    );
    expect((await postMikey(server.url, body)).status).toBe(403);
  });

  it('a wrong signing key → KMS_KEY_INVALID; a missing one → KMS_BAD_RESPONSE', async () => {
    const bobId = identityFor(BOB, Date.now(), params.period).bytes;
    const bobSig = await extractSigningKey(master, params, bobId, engine);
    const swapped = await rewritingKms(ALICE_PSK, (ks) => ks.map((k) => (k.use === 'sign' ? { ...k, key: bobSig } : k)));
    await expect(requestPrivateKey({ url: swapped, identity: ALICE, psk: ALICE_PSK, params, engine, signing: true })).rejects.toMatchObject({
      code: 'KMS_KEY_INVALID',
      message: expect.stringContaining('signing key'),
    });
    const decKey = await rewritingKms(ALICE_PSK, (ks) => ks.map((k) => (k.use === 'sign' ? { ...k, key: ks.find((x) => x.use !== 'sign')!.key } : k)));
    await expect(requestPrivateKey({ url: decKey, identity: ALICE, psk: ALICE_PSK, params, engine, signing: true })).rejects.toMatchObject({ code: 'KMS_KEY_INVALID' });
    const missing = await rewritingKms(ALICE_PSK, (ks) => ks.filter((k) => k.use !== 'sign'));
    await expect(requestPrivateKey({ url: missing, identity: ALICE, psk: ALICE_PSK, params, engine, signing: true })).rejects.toMatchObject({ code: 'KMS_BAD_RESPONSE' });
    // the same proxy serves a client that did not ask for a signing key
    expect((await requestPrivateKey({ url: missing, identity: ALICE, psk: ALICE_PSK, params, engine })).signingKey).toBeUndefined();
  });
});
