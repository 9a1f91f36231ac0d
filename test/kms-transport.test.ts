// KMS building blocks without MIKEY: users file / PSK store validation, token buckets with an
// injected clock, the replay cache, and the application/mikey HTTP(S) server + client (method,
// path, media type, body cap before and during streaming, admission hook, self-signed HTTPS).
import { generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KmsError } from '../src/kms/errors.js';
import { PskStore } from '../src/kms/psk-store.js';
import { TokenBucketLimiter } from '../src/kms/rate-limit.js';
import { ReplayCache } from '../src/kms/replay-cache.js';
import { startMikeyHttpServer, type MikeyHttpServer } from '../src/kms/http-server.js';
import { postMikey } from '../src/kms/http-client.js';
import { selfSignedCert } from './kms-fixtures.js';

const PSK = '00112233445566778899aabbccddeeff';
const dir = mkdtempSync(join(tmpdir(), 'kms-transport-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof KmsError ? e.code : `untyped:${String(e)}`;
  }
  return undefined;
}

describe('PskStore', () => {
  it('parses plain and extended entries and authorises listed identities', () => {
    const s = PskStore.fromTable({ 'sip:a@x.org': PSK, 'sip:shared@x.org': { psk: PSK + PSK, identities: ['sip:desk@x.org'] } });
    expect(s.size).toBe(2);
    expect(s.lookup('sip:a@x.org')!.psk).toEqual(new Uint8Array(Buffer.from(PSK, 'hex')));
    expect([...s.lookup('sip:shared@x.org')!.identities].sort()).toEqual(['sip:desk@x.org', 'sip:shared@x.org']);
    expect(s.lookup('sip:b@x.org')).toBeUndefined();
    const psk = s.lookup('sip:a@x.org')!.psk;
    s.destroy();
    expect(psk.every((b) => b === 0)).toBe(true);
    expect(s.size).toBe(0);
  });
  it('rejects bad tables with KMS_CONFIG', () => {
    expect(code(() => PskStore.fromTable({}))).toBe('KMS_CONFIG');
    expect(code(() => PskStore.fromTable({ 'sip:a@x.org': 'zz' }))).toBe('KMS_CONFIG');
    expect(code(() => PskStore.fromTable({ 'sip:a@x.org': '0011' }))).toBe('KMS_CONFIG'); // too short
    expect(code(() => PskStore.fromTable({ alice: PSK }))).toBe('KMS_CONFIG'); // not a URI
    expect(code(() => PskStore.fromTable({ 'sip:a\n@x.org': PSK }))).toBe('KMS_CONFIG');
    expect(code(() => PskStore.fromTable({ 'sip:a@x.org': { psk: PSK, extra: 1 } as never }))).toBe('KMS_CONFIG');
    expect(code(() => PskStore.fromTable([] as never))).toBe('KMS_CONFIG');
  });
  it('accepts RSA "sign" keys (PEM key or certificate) and refuses weak or non-RSA ones', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pub = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const s = PskStore.fromTable({ 'sip:b@x.org': { sign: pub }, 'sip:c@x.org': { psk: PSK, sign: pub } });
    expect(s.lookup('sip:b@x.org')!.psk).toBeUndefined();
    expect(s.lookup('sip:b@x.org')!.signKey!.asymmetricKeyType).toBe('rsa');
    expect(s.lookup('sip:c@x.org')!.psk).toBeDefined();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(code(() => PskStore.fromTable({ 'sip:b@x.org': { sign: ec } }))).toBe('KMS_CONFIG');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(code(() => PskStore.fromTable({ 'sip:b@x.org': { sign: small } }))).toBe('KMS_CONFIG');
    expect(code(() => PskStore.fromTable({ 'sip:b@x.org': { sign: 'not a key' } }))).toBe('KMS_CONFIG');
    expect(code(() => PskStore.fromTable({ 'sip:b@x.org': { identities: [] } }))).toBe('KMS_CONFIG');
  });

  it('loads a 0600 users file and refuses a world-readable one', async () => {
    const f = join(dir, 'users.json');
    writeFileSync(f, JSON.stringify({ 'sip:a@x.org': PSK }), { mode: 0o600 });
    expect((await PskStore.fromFile(f)).size).toBe(1);
    chmodSync(f, 0o644);
    await expect(PskStore.fromFile(f)).rejects.toMatchObject({ code: 'KMS_CONFIG' });
    await expect(PskStore.fromFile(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'KMS_CONFIG' });
  });
  it('never shows PSK bytes when inspected or serialised', async () => {
    const s = PskStore.fromTable({ 'sip:a@x.org': PSK });
    const { inspect } = await import('node:util');
    expect(inspect(s)).not.toContain('17, 34');
    expect(JSON.stringify({ s })).not.toContain('0011');
  });
});

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refills at the configured rate', () => {
    let t = 1000;
    const l = new TokenBucketLimiter({ burst: 3, perSecond: 2, now: () => t });
    expect([l.take('a'), l.take('a'), l.take('a')].every((r) => r.ok)).toBe(true);
    const r = l.take('a');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.retryAfterMs).toBe(500);
    expect(l.take('b').ok).toBe(true); // independent key
    t += 499;
    expect(l.take('a').ok).toBe(false);
    t += 1;
    expect(l.take('a').ok).toBe(true);
    expect(l.take('a').ok).toBe(false);
    t += 10_000; // never more than the burst after a long pause
    expect([l.take('a'), l.take('a'), l.take('a'), l.take('a')].map((x) => x.ok)).toEqual([true, true, true, false]);
  });
  it('is bounded: forgets refilled buckets, refuses new keys when full of active ones', () => {
    let t = 0;
    const l = new TokenBucketLimiter({ burst: 1, perSecond: 1, maxKeys: 2, now: () => t });
    expect(l.take('a').ok).toBe(true);
    expect(l.take('b').ok).toBe(true);
    expect(l.take('c').ok).toBe(false); // a and b still draining: fail closed
    expect(l.size).toBe(2);
    t += 1000;
    expect(l.take('c').ok).toBe(true); // a and b refilled and were pruned
    expect(l.size).toBe(1);
  });
  it('validates its options', () => {
    expect(code(() => new TokenBucketLimiter({ burst: 0, perSecond: 1 }))).toBe('KMS_CONFIG');
    expect(code(() => new TokenBucketLimiter({ burst: 1, perSecond: 0 }))).toBe('KMS_CONFIG');
  });
});

describe('ReplayCache', () => {
  it('detects replays until expiry and fails closed when full', () => {
    let t = 0;
    const c = new ReplayCache({ maxEntries: 2, now: () => t });
    const k1 = ReplayCache.key([new Uint8Array([1]), new Uint8Array([2, 3])]);
    const k1b = ReplayCache.key([new Uint8Array([1, 2]), new Uint8Array([3])]); // length-prefixed: differs
    expect(k1).not.toBe(k1b);
    expect(c.checkAndAdd(k1, 100)).toBe('fresh');
    expect(c.checkAndAdd(k1, 100)).toBe('replay');
    expect(c.checkAndAdd(k1b, 200)).toBe('fresh');
    expect(c.checkAndAdd('k3', 300)).toBe('full');
    t = 100;
    expect(c.checkAndAdd('k3', 300)).toBe('fresh'); // k1 expired and was swept
    expect(c.checkAndAdd(k1b, 300)).toBe('replay');
  });
});

describe('application/mikey HTTP server', () => {
  const servers: MikeyHttpServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  async function echo(extra: Partial<Parameters<typeof startMikeyHttpServer>[0]> = {}) {
    const s = await startMikeyHttpServer({
      port: 0,
      maxBodyBytes: 1024,
      handle: async ({ body, client }) => ({ status: 200, body: new Uint8Array([...body].reverse()), headers: { 'X-Client': client } }),
      ...extra,
    });
    servers.push(s);
    return s;
  }

  it('answers a POST on an ephemeral loopback port', async () => {
    const s = await echo();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mikey$/);
    const r = await postMikey(s.url, new Uint8Array([1, 2, 3]));
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('application/mikey');
    expect([...r.body]).toEqual([3, 2, 1]);
  });

  it('refuses wrong path, method and media type', async () => {
    const s = await echo();
    const base = s.url.replace(/\/mikey$/, '');
    expect((await postMikey(base + '/other', new Uint8Array([1]))).status).toBe(404);
    expect((await fetch(s.url)).status).toBe(405);
    const r = await fetch(s.url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    expect(r.status).toBe(415);
    const ok = await fetch(s.url, { method: 'POST', headers: { 'Content-Type': 'application/mikey; version=1' }, body: new Uint8Array([9]) });
    expect(ok.status).toBe(200);
  });

  it('refuses an oversize body by Content-Length and while streaming (413)', async () => {
    let handled = 0;
    const s = await echo({ handle: async () => (handled++, { status: 200 }) });
    const big = await postMikey(s.url, new Uint8Array(1025));
    expect(big.status).toBe(413);
    expect((await postMikey(s.url, new Uint8Array(1024))).status).toBe(200);
    // chunked upload without Content-Length: refused once the cap is crossed
    const port = Number(new URL(s.url).port);
    const status = await new Promise<string>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1', () => {
        sock.write('POST /mikey HTTP/1.1\r\nHost: x\r\nContent-Type: application/mikey\r\nTransfer-Encoding: chunked\r\n\r\n');
        for (let i = 0; i < 4; i++) sock.write(`200\r\n${'a'.repeat(0x200)}\r\n`);
      });
      let got = '';
      sock.on('data', (d) => (got += d.toString()));
      sock.on('close', () => resolve(got.split('\r\n')[0]!));
      sock.on('error', reject);
    });
    expect(status).toBe('HTTP/1.1 413 Payload Too Large');
    expect(handled).toBe(1);
  });

  it('drops a slow-loris client that never finishes its headers or body', async () => {
    const s = await echo({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const port = Number(new URL(s.url).port);
    const closedAfter = (payload: string) =>
      new Promise<string>((resolve, reject) => {
        const sock = connect(port, '127.0.0.1', () => sock.write(payload));
        let got = '';
        sock.on('data', (d) => (got += d.toString()));
        sock.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
        sock.on('error', reject);
      });
    // headers never completed -> 408 (or a plain close), well before the test timeout
    expect(await closedAfter('POST /mikey HTTP/1.1\r\nHost: x\r\n')).toMatch(/^(HTTP\/1\.1 408 Request Timeout|)$/);
    // body promised but never sent
    expect(await closedAfter('POST /mikey HTTP/1.1\r\nHost: x\r\nContent-Type: application/mikey\r\nContent-Length: 100\r\n\r\nabc')).toMatch(/^(HTTP\/1\.1 408 Request Timeout|)$/);
  });

  it('lets the admission hook answer before the body is read', async () => {
    let n = 0;
    const s = await echo({ admit: (client) => (n++ >= 1 ? { status: 429, headers: { 'Retry-After': '2', 'X-C': client } } : undefined) });
    expect((await postMikey(s.url, new Uint8Array([1]))).status).toBe(200);
    const r = await postMikey(s.url, new Uint8Array([1]));
    expect(r.status).toBe(429);
    expect(r.retryAfter).toBe(2);
  });

  it('turns a handler crash into a bare 500', async () => {
    const errors: unknown[] = [];
    const s = await echo({ handle: async () => { throw new Error('boom'); }, onError: (e) => errors.push(e) });
    const r = await postMikey(s.url, new Uint8Array([1]));
    expect(r.status).toBe(500);
    expect(r.body.length).toBe(0);
    expect(errors).toHaveLength(1);
  });

  it('serves HTTPS with a self-signed certificate; the client trusts only the given CA', async () => {
    const { cert, key } = selfSignedCert();
    const s = await echo({ tls: { cert, key } });
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mikey$/);
    const r = await postMikey(s.url, new Uint8Array([4, 5]), { ca: cert });
    expect([...r.body]).toEqual([5, 4]);
    await expect(postMikey(s.url, new Uint8Array([4, 5]))).rejects.toMatchObject({ code: 'KMS_TRANSPORT' });
    const other = selfSignedCert();
    await expect(postMikey(s.url, new Uint8Array([4, 5]), { ca: other.cert })).rejects.toMatchObject({ code: 'KMS_TRANSPORT' });
  });

  it('builds a usable certificate with node:crypto alone (fallback when openssl is absent)', async () => {
    const prev = process.env.KMS_TEST_CERT_VIA;
    process.env.KMS_TEST_CERT_VIA = 'node';
    try {
      const c = selfSignedCert();
      expect(c.via).toBe('node');
      const s = await echo({ tls: { cert: c.cert, key: c.key } });
      expect((await postMikey(s.url, new Uint8Array([7]), { ca: c.cert })).status).toBe(200);
    } finally {
      if (prev === undefined) delete process.env.KMS_TEST_CERT_VIA;
      else process.env.KMS_TEST_CERT_VIA = prev;
    }
  });

  it('listens on IPv6 loopback with a bracketed URL the client can use', async (ctx) => {
    let s: MikeyHttpServer;
    try {
      s = await echo({ host: '::1' });
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      if (c === 'EADDRNOTAVAIL' || c === 'EAFNOSUPPORT') return ctx.skip();
      throw e;
    }
    expect(s.url).toMatch(/^http:\/\/\[::1\]:\d+\/mikey$/);
    const r = await postMikey(s.url, new Uint8Array([1, 2]));
    expect(r.status).toBe(200);
    expect(r.body).toEqual(new Uint8Array([2, 1]));
  });

  it('reports an unreachable KMS as KMS_TRANSPORT and a bad URL as KMS_CONFIG', async () => {
    const s = await echo();
    const url = s.url;
    await s.close();
    await expect(postMikey(url, new Uint8Array([1]))).rejects.toMatchObject({ code: 'KMS_TRANSPORT' });
    await expect(postMikey('ftp://x/', new Uint8Array([1]))).rejects.toMatchObject({ code: 'KMS_CONFIG' });
  });
});
