// Test fixtures for the KMS tests: a self-signed TLS certificate for 127.0.0.1 (openssl CLI when
// present, else a minimal X.509 built with node:crypto), and a fresh KMS domain (master secret and
// monthly public parameters) on the selected engine. The Wireshark oracle is test/helpers/tshark.ts.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectEngine } from '../src/engine/select.js';
import type { Engine } from '../src/engine/types.js';
import { setup, type IbeParams } from '../src/ibe/index.js';
import { buildParams } from '../src/ibe/params.js';

export interface TestCert {
  cert: string;
  key: string;
  via: 'openssl' | 'node';
}

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// --- minimal DER writer (only what a self-signed ECDSA certificate needs) ---
function derLen(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const b: number[] = [];
  for (let x = n; x > 0; x >>= 8) b.unshift(x & 0xff);
  return Buffer.from([0x80 | b.length, ...b]);
}
const tlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), derLen(body.length), body]);
const seq = (...xs: Buffer[]): Buffer => tlv(0x30, Buffer.concat(xs));
function oid(s: string): Buffer {
  const parts = s.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack: number[] = [p & 0x7f];
    for (let x = p >> 7; x > 0; x >>= 7) stack.unshift(0x80 | (x & 0x7f));
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}
const utcTime = (d: Date): Buffer => tlv(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
const cnName = (cn: string): Buffer => seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn)))));

function nodeSelfSigned(keyType: 'ec' | 'rsa' = 'ec'): TestCert {
  const { privateKey, publicKey } = keyType === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdsaSha256 = keyType === 'rsa' ? seq(oid('1.2.840.113549.1.1.11'), Buffer.from([5, 0])) : seq(oid('1.2.840.10045.4.3.2'));
  // a positive INTEGER in minimal DER: top bit clear (positive) and the first octet non-zero (a
  // 0x00 followed by an octet below 0x80 is the "illegal padding" OpenSSL refuses: 1 in 256
  // certificates failed that way, and a CI run with it)
  const serial = randomBytes(8);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const now = Date.now();
  const san = seq(oid('2.5.29.17'), tlv(0x04, seq(tlv(0x87, Buffer.from([127, 0, 0, 1])))));
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    ecdsaSha256,
    cnName('127.0.0.1'),
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 86400_000))),
    cnName('127.0.0.1'),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(san)),
  );
  const sig = sign('sha256', tbs, privateKey);
  const der = seq(tbs, ecdsaSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), sig])));
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  return { cert: pem.replace(/\n\n/g, '\n'), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), via: 'node' };
}

/** A self-signed certificate + key for 127.0.0.1 (P-256 by default, or RSA-2048). */
export function selfSignedCert(keyType: 'ec' | 'rsa' = 'ec'): TestCert {
  if (process.env.KMS_TEST_CERT_VIA !== 'node' && haveOpenssl()) {
    const dir = mkdtempSync(join(tmpdir(), 'kms-cert-'));
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', ...(keyType === 'rsa' ? ['rsa:2048'] : ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']), '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
          '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        { stdio: 'ignore' },
      );
      return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8'), via: 'openssl' };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return nodeSelfSigned(keyType);
}

/** A fresh bls12381-bf KMS domain on the selected engine: master secret and monthly params for kmsId. */
export async function kmsDomain(kmsId: string): Promise<{ engine: Engine; master: Uint8Array; params: IbeParams }> {
  const engine = (await selectEngine()).engine;
  const s = await setup('bls12381-bf', engine);
  return { engine, master: s.master, params: buildParams(kmsId, 'month', s.params) };
}
