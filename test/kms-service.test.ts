// The KMS over real HTTP on 127.0.0.1 (ephemeral ports), checked end to end:
// * a client obtains a key that passes the pairing check, equals a direct ibe.extract for the
//   same identity/period, and decrypts IBE ciphertexts encrypted to that identity;
// * wrong PSK / unknown user -> KMS_AUTH_FAILED (403, ERR 0) and no key; replayed request ->
//   409; stale or future T -> KMS_INVALID_TS; period too far ahead -> KMS_PERIOD; per-user and
//   per-address rate limits -> 429; oversize body -> 413; REQUEST_KEY_PKE -> unsupported;
// * HTTPS with a self-signed certificate made in the test;
// * renewal through a real KMS with an injected clock fetches the next period before the end;
// * canary: recognisable PSK / key / master bytes never appear in captured log lines;
// * every REQUEST_KEY_* / Error message on the wire passes oracles/mikey-tshark --allow-unknown.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.js';
import { decrypt, encrypt, extract, identityFor, verifyPrivateKey, type IbeParams } from '../src/ibe/index.js';
import {
  createKeyRenewer, jsonLineLogger, requestPrivateKey, startKmsServer, type KmsLogEvent, type KmsServer, type KmsServerOptions,
} from '../src/kms/index.js';
import { postMikey } from '../src/kms/http-client.js';
import { decodeErrorMessage, decodeKeyResponse, encodeKeyRequest } from '../src/kms/messages.js';
import { msToNtp64 } from '../src/kms/ntp.js';
import { periodWindow } from '../src/kms/period.js';
import { kmsDomain, selfSignedCert } from './kms-fixtures.js';
import { haveTshark, tsharkJudge } from './helpers/tshark.js';

const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
// Canary PSK: a pattern that is easy to grep for in logs.
const ALICE_PSK = 'c0ffeec0ffeec0ffeec0ffeec0ffee01';
const BOB_PSK = '0123456789abcdef0123456789abcdef';
const KMS_ID = 'urn:ibaked:kms:test';

let engine: Engine;
let master: Uint8Array;
let params: IbeParams;
const servers: KmsServer[] = [];
const lines: string[] = [];
const events: KmsLogEvent[] = [];

beforeAll(async () => {
  ({ engine, master, params } = await kmsDomain(KMS_ID));
});
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function kms(extra: Partial<KmsServerOptions> = {}): Promise<KmsServer> {
  const write = jsonLineLogger((l) => lines.push(l));
  const s = await startKmsServer({
    master,
    params,
    users: { [ALICE]: ALICE_PSK, [BOB]: BOB_PSK },
    port: 0,
    engine,
    log: (e) => {
      events.push(e);
      write(e);
    },
    rateLimit: { perUser: { burst: 100, perSecond: 100 }, perAddress: { burst: 100, perSecond: 100 } },
    ...extra,
  });
  servers.push(s);
  return s;
}

// --- capture proxy: records every MIKEY body both ways, for the tshark oracle ------------------
const wire: Uint8Array[] = [];
async function capturingProxy(target: string): Promise<string> {
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      wire.push(body);
      postMikey(target, body).then((r) => {
        wire.push(r.body);
        res.writeHead(r.status, { 'Content-Type': r.contentType ?? 'application/mikey' });
        res.end(Buffer.from(r.body));
      }, () => res.destroy());
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  servers.push({ url: '', port: 0, kmsId: '', close: () => new Promise<void>((r) => { srv.close(() => r()); srv.closeAllConnections(); }) });
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}/mikey`;
}

describe('KMS service over HTTP', () => {
  it('issues a key that passes the pairing check, matches extract, and decrypts IBE ciphertexts', async () => {
    const s = await kms();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mikey$/);
    const got = await requestPrivateKey({ url: s.url, identity: ALICE, psk: ALICE_PSK, params, engine });
    const now = Date.now();
    expect(got.period).toBe(periodWindow(now, 'month').label);
    const id = identityFor(ALICE, now, 'month');
    expect(Buffer.from(got.identity.bytes)).toEqual(Buffer.from(id.bytes));
    expect(await verifyPrivateKey(params, id.bytes, got.key, engine)).toBe(true);
    expect(Buffer.from(got.key)).toEqual(Buffer.from(await extract(master, params, id.bytes, engine)));
    const msg = new TextEncoder().encode('only alice can read this');
    const ct = await encrypt(params, id.bytes, msg, engine);
    expect(Buffer.from(await decrypt(params, id.bytes, got.key, ct, engine))).toEqual(Buffer.from(msg));
    // and it is not Bob's key
    expect(await verifyPrivateKey(params, identityFor(BOB, now, 'month').bytes, got.key, engine)).toBe(false);
    const issue = events.filter((e) => e.event === 'issue');
    expect(issue.at(-1)).toMatchObject({ event: 'issue', identity: ALICE, period: got.period, client: '127.0.0.1', user: ALICE });
  });

  it('issues the next period early, refuses periods further ahead', async () => {
    const s = await kms();
    const cur = periodWindow(Date.now(), 'month');
    const next = await requestPrivateKey({ url: s.url, identity: BOB, psk: BOB_PSK, params, engine, date: cur.endMs });
    expect(next.period).toBe(periodWindow(cur.endMs, 'month').label);
    expect(await verifyPrivateKey(params, identityFor(BOB, cur.endMs, 'month').bytes, next.key, engine)).toBe(true);
    const far = periodWindow(cur.endMs, 'month').endMs;
    await expect(requestPrivateKey({ url: s.url, identity: BOB, psk: BOB_PSK, params, engine, date: far })).rejects.toMatchObject({ code: 'KMS_PERIOD', httpStatus: 422 });
    await expect(requestPrivateKey({ url: s.url, identity: BOB, psk: BOB_PSK, params, engine, date: cur.startMs - 86400_000 * 40 })).rejects.toMatchObject({ code: 'KMS_PERIOD' });
  });

  it('rejects a wrong PSK, an unknown user and a foreign identity with KMS_AUTH_FAILED and no key', async () => {
    const s = await kms();
    const before = events.filter((e) => e.event === 'issue').length;
    await expect(requestPrivateKey({ url: s.url, identity: ALICE, psk: BOB_PSK, params, engine })).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED', httpStatus: 403, mikeyError: 0 });
    await expect(requestPrivateKey({ url: s.url, identity: 'sip:mallory@example.org', psk: BOB_PSK, params, engine })).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED', httpStatus: 403, mikeyError: 0 });
    // Bob authenticates with his own PSK but asks for Alice's key
    await expect(requestPrivateKey({ url: s.url, identity: ALICE, psk: BOB_PSK, pskName: BOB, params, engine })).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED', httpStatus: 403 });
    expect(events.filter((e) => e.event === 'issue').length).toBe(before);
    expect(events.filter((e) => e.event === 'reject' && e.reason === 'KMS_AUTH_FAILED').length).toBeGreaterThanOrEqual(3);
  });

  it('issues several identities to one PSK entry that lists them (forking), and checks KEMAC identities', async () => {
    const SHARED = 'sip:team@example.org';
    const DESK = 'sip:desk7@example.org';
    const psk = Buffer.from(BOB_PSK, 'hex');
    const s = await kms({ users: { [SHARED]: { psk: BOB_PSK, identities: [DESK] }, [ALICE]: ALICE_PSK } });
    const now = Date.now();
    const spec = { csbId: 9, tNtp: msToNtp64(now), rand: new Uint8Array(16).fill(5), identities: [SHARED, DESK], kmsId: KMS_ID };
    const r = await postMikey(s.url, encodeKeyRequest(spec, psk));
    expect(r.status).toBe(200);
    const keys = decodeKeyResponse(r.body, { ...spec, prf: 0, authAlg: 1 }, psk);
    expect(keys.map((k) => k.identity)).toEqual([SHARED, DESK]);
    for (const k of keys) expect(await verifyPrivateKey(params, identityFor(k.identity, now, 'month').bytes, k.key, engine)).toBe(true);
    // a KEMAC entry for an identity that is not among the IDR payloads is refused
    const p = periodWindow(now, 'month');
    const bad = encodeKeyRequest({ ...spec, rand: new Uint8Array(16).fill(6), identities: [SHARED], wanted: [{ identity: DESK, fromNtp: msToNtp64(p.startMs), toNtp: msToNtp64(p.endMs) }] }, psk);
    const rb = await postMikey(s.url, bad);
    expect(rb.status).toBe(400);
    expect(decodeErrorMessage(rb.body)).toEqual([7]);
    // Alice's PSK does not cover the team identity
    await expect(requestPrivateKey({ url: s.url, identity: SHARED, psk: ALICE_PSK, pskName: ALICE, params, engine })).rejects.toMatchObject({ code: 'KMS_AUTH_FAILED' });
  });

  it('rejects a replayed request (409) and answers with an RFC 3830 Error message', async () => {
    const s = await kms();
    const now = Date.now();
    const body = encodeKeyRequest({ csbId: 77, tNtp: msToNtp64(now), rand: new Uint8Array(16).fill(9), identities: [ALICE], kmsId: KMS_ID }, Buffer.from(ALICE_PSK, 'hex'));
    const first = await postMikey(s.url, body);
    expect(first.status).toBe(200);
    const second = await postMikey(s.url, body);
    expect(second.status).toBe(409);
    expect(decodeErrorMessage(second.body)).toEqual([1]);
    expect(events.some((e) => e.event === 'reject' && e.reason === 'KMS_REPLAY')).toBe(true);
  });

  it('rejects stale and future timestamps, and timestamps from before the KMS started', async () => {
    const s = await kms({ skewMs: 60_000 });
    const at = (d: number) => () => Date.now() + d;
    await expect(requestPrivateKey({ url: s.url, identity: ALICE, psk: ALICE_PSK, params, engine, now: at(-5 * 60_000) })).rejects.toMatchObject({ code: 'KMS_INVALID_TS', httpStatus: 403, mikeyError: 1 });
    await expect(requestPrivateKey({ url: s.url, identity: ALICE, psk: ALICE_PSK, params, engine, now: at(5 * 60_000) })).rejects.toMatchObject({ code: 'KMS_INVALID_TS' });
    // inside the skew but earlier than the KMS start: refused (replay cache is empty after a restart)
    await expect(requestPrivateKey({ url: s.url, identity: ALICE, psk: ALICE_PSK, params, engine, now: at(-30_000) })).rejects.toMatchObject({ code: 'KMS_INVALID_TS' });
    expect((await requestPrivateKey({ url: s.url, identity: ALICE, psk: ALICE_PSK, params, engine, now: at(30_000) })).key.length).toBe(96);
  });

  it('rate-limits per user (after authentication) and per address (before reading the body)', async () => {
    const s = await kms({ rateLimit: { perUser: { burst: 2, perSecond: 0.01 }, perAddress: { burst: 100, perSecond: 100 } } });
    const ask = () => requestPrivateKey({ url: s.url, identity: BOB, psk: BOB_PSK, params, engine });
    await ask();
    await ask();
    const err = await ask().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'KMS_RATE_LIMITED', httpStatus: 429 });
    expect((err as { retryAfterMs: number }).retryAfterMs).toBeGreaterThanOrEqual(1000);
    // Alice is not affected by Bob's bucket
    await requestPrivateKey({ url: s.url, identity: ALICE, psk: ALICE_PSK, params, engine });

    const a = await kms({ rateLimit: { perAddress: { burst: 3, perSecond: 0.01 }, perUser: false } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postMikey(a.url, new Uint8Array(10))).status);
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
  });

  it('bounds concurrent extractions: excess requests get 503 KMS_OVERLOADED, not unbounded queueing', async () => {
    // an engine whose G2 multiplication takes 300 ms, so requests overlap deterministically
    const slow = {} as Record<string, unknown>;
    const proto = Object.getPrototypeOf(engine) as object;
    for (const k of new Set([...Object.keys(engine), ...(proto === Object.prototype ? [] : Object.getOwnPropertyNames(proto))])) {
      if (k === 'constructor') continue;
      const v = (engine as unknown as Record<string, unknown>)[k];
      slow[k] = typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(engine) : v;
    }
    const g2Mul = slow.g2Mul as (...x: unknown[]) => Promise<Uint8Array>;
    slow.g2Mul = async (...a: unknown[]) => {
      await new Promise((r) => setTimeout(r, 300));
      return g2Mul(...a);
    };
    const s = await kms({ engine: slow as unknown as Engine, maxConcurrent: 1, maxQueued: 1 });
    const results = await Promise.all([0, 1, 2, 3].map(() => requestPrivateKey({ url: s.url, identity: ALICE, psk: ALICE_PSK, params, engine }).then(() => 'ok', (e: { code: string }) => e.code)));
    expect(results.filter((r) => r === 'ok')).toHaveLength(2);
    expect(results.filter((r) => r === 'KMS_OVERLOADED')).toHaveLength(2);
  });

  it('refuses an oversize body (413) and non-MIKEY requests', async () => {
    const s = await kms();
    expect((await postMikey(s.url, new Uint8Array(17 * 1024))).status).toBe(413);
    const junk = await postMikey(s.url, new Uint8Array([1, 2, 3, 4]));
    expect(junk.status).toBe(400);
    expect(decodeErrorMessage(junk.body)).toEqual([13]);
    const pke = encodeKeyRequest({ csbId: 1, tNtp: msToNtp64(Date.now()), rand: new Uint8Array(16), identities: [ALICE], kmsId: KMS_ID }, Buffer.from(ALICE_PSK, 'hex'));
    // rewrite as a REQUEST_KEY_PKE header: still decodes? the codec's shape rules refuse it -> 400
    pke[1] = 20;
    expect((await postMikey(s.url, pke)).status).toBe(400);
    const other = await requestPrivateKey({ url: s.url, identity: ALICE, psk: ALICE_PSK, params: { ...params, kmsId: 'urn:other:kms' }, engine }).catch((e: unknown) => e);
    expect(other).toMatchObject({ code: 'KMS_BAD_REQUEST', httpStatus: 400, mikeyError: 7 });
  });

  it('serves HTTPS with a self-signed certificate; the client trusts only the given CA', async () => {
    const { cert, key } = selfSignedCert();
    const s = await kms({ tls: { cert, key } });
    expect(s.url).toMatch(/^https:/);
    const got = await requestPrivateKey({ url: s.url, identity: ALICE, psk: ALICE_PSK, params, engine, ca: cert });
    expect(got.key.length).toBe(96);
    await expect(requestPrivateKey({ url: s.url, identity: ALICE, psk: ALICE_PSK, params, engine })).rejects.toMatchObject({ code: 'KMS_TRANSPORT' });
  });

  it('renewal fetches the next period key from the KMS before the period ends', async () => {
    const cur = periodWindow(Date.now(), 'month');
    let t = cur.endMs - 3 * 86400_000; // three days before the boundary
    const clock = () => t;
    const s = await kms({ now: clock });
    const timers: { at: number; fn: () => void; id: number }[] = [];
    let nid = 0;
    const fetched: string[] = [];
    const r = createKeyRenewer({
      url: s.url, identity: ALICE, psk: ALICE_PSK, params, engine, now: clock, leadMs: 86400_000,
      timers: { setTimeout: (fn, ms) => (timers.push({ at: t + ms, fn, id: ++nid }), nid), clearTimeout: (h) => { const i = timers.findIndex((x) => x.id === h); if (i >= 0) timers.splice(i, 1); } },
      onKey: (k) => fetched.push(k.period.label),
    });
    await r.start();
    expect(fetched).toEqual([cur.label]);
    // fire the renewer's timers in order, moving the shared clock, until the next key arrives
    let fetchedAt = -1;
    for (let n = 0; n < 10 && fetched.length < 2; n++) {
      expect(timers).toHaveLength(1);
      const wake = timers.shift()!;
      expect(wake.at).toBeLessThanOrEqual(cur.endMs - 86400_000);
      t = wake.at; // the KMS clock moves too
      wake.fn();
      for (let i = 0; i < 300 && fetched.length < 2 && timers.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
      if (fetched.length === 2) fetchedAt = t;
    }
    expect(fetchedAt).toBe(cur.endMs - 86400_000); // exactly lead time before the boundary
    const nextLabel = periodWindow(cur.endMs, 'month').label;
    expect(fetched).toEqual([cur.label, nextLabel]);
    const k = r.keyAt(cur.endMs)!;
    expect(await verifyPrivateKey(params, identityFor(ALICE, cur.endMs, 'month').bytes, k.key, engine)).toBe(true);
    r.stop();
    expect(r.timerArmed).toBe(false);
    expect(timers).toHaveLength(0);
  });

  it.runIf(haveTshark())('every message on the wire passes the tshark oracle', async () => {
    const s = await kms();
    const proxy = await capturingProxy(s.url);
    await requestPrivateKey({ url: proxy, identity: ALICE, psk: ALICE_PSK, params, engine });
    await requestPrivateKey({ url: proxy, identity: ALICE, psk: BOB_PSK, params, engine }).catch(() => undefined);
    await postMikey(proxy, encodeKeyRequest({ csbId: 5, tNtp: msToNtp64(Date.now()), rand: new Uint8Array(16).fill(3), identities: [BOB], kmsId: KMS_ID }, Buffer.from(BOB_PSK, 'hex')));
    expect(wire.map((b) => b[1])).toEqual([19, 21, 19, 6, 19, 21]);
    const verdicts = tsharkJudge(wire).messages;
    expect(verdicts).toHaveLength(wire.length);
    verdicts.forEach((v, i) => {
      expect(v.ok, `message ${i} (type ${wire[i]![1]}): ${JSON.stringify(v.problems)}`).toBe(true);
      expect(v.complete).toBe(true);
    });
  });

  it('canary: no PSK, key or master bytes in any log line', async () => {
    const s = await kms();
    const got = await requestPrivateKey({ url: s.url, identity: ALICE, psk: ALICE_PSK, params, engine });
    await requestPrivateKey({ url: s.url, identity: ALICE, psk: BOB_PSK, params, engine }).catch(() => undefined);
    const all = lines.join('');
    expect(lines.length).toBeGreaterThan(10);
    expect(all).toContain(ALICE); // identities are logged...
    const secrets = [Buffer.from(ALICE_PSK, 'hex'), Buffer.from(BOB_PSK, 'hex'), Buffer.from(got.key), Buffer.from(master)];
    for (const sec of secrets) {
      for (const form of [sec.toString('hex'), sec.toString('base64'), sec.subarray(0, 8).toString('hex'), sec.toString('hex').toUpperCase(), [...sec.subarray(0, 6)].join(',')]) {
        expect(all.includes(form), `log leaks ${form.slice(0, 12)}…`).toBe(false);
      }
    }
    expect(all.toLowerCase()).not.toContain('c0ffee');
  });
});
