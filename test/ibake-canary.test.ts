// Canary: a run with recognisable secrets (pre-encoded content keys of a fixed pattern, plus
// every secret the run creates — master secret, PSKs, private keys, x/y-derived K_SESSION, MPK,
// TGK, SRTP keys) writes none of them, in hex or base64, to any log line: console.*, stdout,
// stderr (where the KMS's default audit log goes), during KMS provisioning over HTTP and every
// scenario. Key material must only ever leave through the API results.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { fastestEngine } from './helpers/engines.js';
import { setup } from '../src/ibe/index.js';
import { buildParams } from '../src/ibe/params.js';
import { startKmsServer } from '../src/kms/server.js';
import { requestPrivateKey } from '../src/kms/client.js';
import { runScenario, SCENARIOS, derivedUri } from '../src/ibake/scenario.js';
import { IbakeEndpoint } from '../src/ibake/endpoint.js';
import { makeWorld } from './helpers/ibake-world.js';

const engine = await fastestEngine();
const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';

const lines: string[] = [];
const saved: Array<() => void> = [];
beforeAll(() => {
  for (const k of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const orig = console[k];
    console[k] = (...a: unknown[]) => void lines.push(a.map(String).join(' '));
    saved.push(() => (console[k] = orig));
  }
  for (const s of [process.stdout, process.stderr]) {
    const orig = s.write.bind(s);
    s.write = ((c: unknown, ...rest: unknown[]) => (lines.push(String(c)), orig(c as string, ...(rest as []))) ) as typeof s.write;
    saved.push(() => (s.write = orig as typeof s.write));
  }
});
afterAll(() => saved.forEach((f) => f()));

function forms(b: Uint8Array): string[] {
  const h = Buffer.from(b).toString('hex');
  const out = [h, h.toUpperCase(), Buffer.from(b).toString('base64').replace(/=+$/, '')];
  return out.filter((s) => s.length >= 16);
}

describe(`canary (engine ${engine.name})`, () => {
  it('no log line contains key material', async () => {
    const secrets: Uint8Array[] = [];
    const { master, params: suite } = await setup('bls12381-bf', engine);
    secrets.push(master.slice());
    const params = buildParams('sip:kms.invalid', 'month', suite);
    const users: Record<string, { psk: string; identities?: string[] }> = {};
    for (const u of [A, B, ...['dev1', 'dev2', 'retarget', 'voicemail'].map((t) => derivedUri(B, t))]) {
      const psk = new Uint8Array(randomBytes(32));
      secrets.push(psk);
      users[u] = { psk: Buffer.from(psk).toString('hex'), ...(u.includes('-dev') ? { identities: [B] } : {}) };
    }
    // KMS with its DEFAULT logger (JSON lines on stderr) — captured above.
    const kms = await startKmsServer({ master, params, users, host: '127.0.0.1', port: 0, rateLimit: false, engine });
    try {
      for (const scenario of SCENARIOS) {
        const r = await runScenario({
          scenario, from: A, to: B, engine, Ppub: (suite as { Ppub: Uint8Array }).Ppub, revealSecrets: true,
          provision: async (identity, asUser) => {
            const k = await requestPrivateKey({ url: kms.url, identity, psk: users[asUser]!.psk, ...(asUser !== identity ? { pskName: asUser } : {}), params, engine });
            secrets.push(k.key.slice());
            return { period: k.period, key: k.key };
          },
          provisionSigning: async (identity) => {
            const k = await requestPrivateKey({ url: kms.url, identity, psk: users[identity]!.psk, params, engine, signing: true });
            secrets.push(k.key.slice(), k.signingKey!.slice());
            return { period: k.period, key: k.signingKey! };
          },
        });
        expect(r.ok).toBe(true);
        for (const s of r.secrets ?? []) secrets.push(s.kSession, s.mpk, s.tgk);
        for (const p of [r.initiator, r.responder, ...(r.initiator.forks ?? [])]) for (const k of p.keys) secrets.push(k.masterKey, k.masterSalt);
      }
      // Recognisable pattern keys through the pre-encoded path, and failures (errors are
      // logged by callers; their messages must not carry secrets either).
      const w = await makeWorld(engine);
      const pattern = (i: number) => ({ masterKey: new Uint8Array(16).fill(0xc0 + i), masterSalt: new Uint8Array(14).fill(0xd0 + i) });
      const alice = await w.party(A);
      const srv = await w.party(B, { preEncoded: (m) => m.map((_, i) => pattern(i)) });
      const { message: i1 } = await alice.initiate({ to: B });
      const i2 = await alice.receive((await srv.receive(i1)).reply!);
      const r2 = await srv.receive(i2.reply!);
      const bad = r2.reply!.slice();
      bad[bad.length - 1] ^= 1;
      const err = await alice.receive(bad).catch((e: Error) => e);
      console.error(String(err), (err as Error).message);
      secrets.push(pattern(0).masterKey, pattern(1).masterKey, pattern(0).masterSalt);
      expect(IbakeEndpoint).toBeDefined();
    } finally {
      await kms.close();
    }
    expect(lines.length).toBeGreaterThan(0); // the KMS did log its issuance events
    const text = lines.join('\n');
    for (const s of secrets) for (const f of forms(s)) expect(text.includes(f), `secret found in logs: ${f.slice(0, 12)}…`).toBe(false);
  });
});
