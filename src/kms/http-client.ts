// Client side of the KMS HTTP carriage: POSTs one application/mikey body and returns the
// status and body of the answer, with a deadline, a response size cap and optional pinned CA
// certificates for HTTPS. Knows nothing of MIKEY.
import * as http from 'node:http';
import * as https from 'node:https';
import { KmsError } from './errors.js';
import { MIKEY_MEDIA_TYPE } from './http-server.js';

export interface PostOptions {
  /** PEM CA certificate(s) trusted for an https URL (default: Node's bundled roots). */
  ca?: string | Uint8Array | Array<string | Uint8Array>;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

export interface PostResult {
  status: number;
  contentType: string | undefined;
  body: Uint8Array;
  retryAfter?: number;
}

export function parseKmsUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new KmsError('KMS_CONFIG', 'KMS url is not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new KmsError('KMS_CONFIG', 'KMS url must be http: or https:');
  if (u.username || u.password) throw new KmsError('KMS_CONFIG', 'KMS url must not carry credentials');
  return u;
}

export async function postMikey(url: string, body: Uint8Array, opts: PostOptions = {}): Promise<PostResult> {
  const u = parseKmsUrl(url);
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const maxResp = opts.maxResponseBytes ?? 64 * 1024;
  const isHttps = u.protocol === 'https:';
  const ca = opts.ca === undefined ? undefined : (Array.isArray(opts.ca) ? opts.ca : [opts.ca]).map((c) => (typeof c === 'string' ? c : Buffer.from(c)));
  return new Promise<PostResult>((resolve, reject) => {
    const reqOpts: https.RequestOptions = {
      method: 'POST',
      protocol: u.protocol,
      hostname: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port || (isHttps ? 443 : 80),
      path: u.pathname + u.search,
      headers: { 'Content-Type': MIKEY_MEDIA_TYPE, 'Content-Length': body.length, Accept: MIKEY_MEDIA_TYPE },
      timeout: timeoutMs,
      agent: false,
      ...(isHttps && ca ? { ca } : {}),
    };
    const req = (isHttps ? https : http).request(reqOpts, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxResp) {
          req.destroy(new KmsError('KMS_TRANSPORT', 'KMS response too large'));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        const ra = Number(res.headers['retry-after']);
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          body: new Uint8Array(Buffer.concat(chunks)),
          ...(Number.isFinite(ra) ? { retryAfter: ra } : {}),
        });
      });
      res.on('error', (e) => reject(e instanceof KmsError ? e : new KmsError('KMS_TRANSPORT', `KMS response failed: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    });
    req.on('timeout', () => req.destroy(new KmsError('KMS_TRANSPORT', `KMS did not answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof KmsError ? e : new KmsError('KMS_TRANSPORT', `cannot reach KMS: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    req.end(Buffer.from(body.buffer, body.byteOffset, body.length));
  });
}
