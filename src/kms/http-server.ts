// HTTP(S) carriage of KMS MIKEY messages (DESIGN §3, OPEN-19): POST <path> with
// Content-Type application/mikey, the binary MIKEY message as the body, answered with
// application/mikey (a REQUEST_KEY_RESP or an RFC 3830 Error message). This module knows
// nothing of MIKEY: it enforces method, path, media type, a body size cap (checked against
// Content-Length before reading, and while streaming), header/request/idle timeouts, a
// connection cap and a per-address connection cap (idle sockets from one address cannot lock
// others out), calls `admit` (cheap pre-body checks such as a per-address rate limit) and
// then hands the body to `handle`.
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export const MIKEY_MEDIA_TYPE = 'application/mikey';

export interface MikeyHttpAnswer {
  status: number;
  body?: Uint8Array;
  headers?: Record<string, string>;
}

export interface MikeyHttpRequest {
  body: Uint8Array;
  /** Peer IP address (IPv4-mapped IPv6 reduced to IPv4). */
  client: string;
}

export interface MikeyHttpServerOptions {
  host?: string;
  /** 0 = ephemeral. */
  port?: number;
  tls?: { cert: string | Uint8Array; key: string | Uint8Array };
  path?: string;
  /** Largest accepted body, octets (default 16 KiB; MIKEY key requests are < 2 KiB). */
  maxBodyBytes?: number;
  /** Whole-request deadline, ms (default 10 s). */
  requestTimeoutMs?: number;
  /** Deadline for the request headers, ms (default 5 s). */
  headersTimeoutMs?: number;
  /** Idle socket timeout, ms (default 15 s). */
  idleTimeoutMs?: number;
  maxConnections?: number;
  /** Open connections per client address (default 16): one address cannot take the whole `maxConnections`. */
  maxConnectionsPerAddress?: number;
  /** Called before the body is read; an answer here ends the request. */
  admit?: (client: string) => MikeyHttpAnswer | undefined;
  handle: (req: MikeyHttpRequest) => Promise<MikeyHttpAnswer>;
  /** Called when `handle` throws (the client gets a bare 500). */
  onError?: (e: unknown) => void;
}

export interface MikeyHttpServer {
  /** The endpoint URL, e.g. http://127.0.0.1:40123/mikey */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function clientAddress(sock: Socket): string {
  const a = sock.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function send(res: http.ServerResponse, a: MikeyHttpAnswer, close = false): void {
  if (res.headersSent) return;
  const headers: Record<string, string | number> = { 'Cache-Control': 'no-store', ...a.headers };
  if (a.body) {
    headers['Content-Type'] ??= MIKEY_MEDIA_TYPE;
    headers['Content-Length'] = a.body.length;
  } else {
    headers['Content-Length'] = 0;
  }
  if (close) headers['Connection'] = 'close';
  res.writeHead(a.status, headers);
  res.end(a.body ? Buffer.from(a.body.buffer, a.body.byteOffset, a.body.length) : undefined);
}

function isMikeyType(ct: string | undefined): boolean {
  if (!ct) return false;
  return ct.split(';')[0]!.trim().toLowerCase() === MIKEY_MEDIA_TYPE;
}

export async function startMikeyHttpServer(opts: MikeyHttpServerOptions): Promise<MikeyHttpServer> {
  const path = opts.path ?? '/mikey';
  const maxBody = opts.maxBodyBytes ?? 16 * 1024;
  if (!Number.isInteger(maxBody) || maxBody < 64) throw new RangeError('maxBodyBytes must be an integer >= 64');
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError('port must be 0..65535');

  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const client = clientAddress(req.socket);
    const url = req.url ?? '';
    const reqPath = url.split('?')[0];
    if (reqPath !== path) return send(res, { status: 404 });
    if (req.method !== 'POST') return send(res, { status: 405, headers: { Allow: 'POST' } });
    if (!isMikeyType(req.headers['content-type'])) return send(res, { status: 415 });
    const declared = req.headers['content-length'];
    if (declared !== undefined && !(Number(declared) <= maxBody)) {
      // Refuse without reading: answer, then drop the connection.
      send(res, { status: 413 }, true);
      req.socket.end();
      return;
    }
    const early = opts.admit?.(client);
    if (early) {
      send(res, early, true);
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (c: Buffer) => {
      if (aborted) return;
      size += c.length;
      if (size > maxBody) {
        aborted = true;
        for (const x of chunks) x.fill(0);
        chunks.length = 0;
        send(res, { status: 413 }, true);
        req.socket.end();
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => {
      aborted = true;
    });
    req.on('end', () => {
      if (aborted) return;
      const body = new Uint8Array(Buffer.concat(chunks));
      for (const x of chunks) x.fill(0);
      opts
        .handle({ body, client })
        .then((a) => send(res, a))
        .catch((e: unknown) => {
          opts.onError?.(e);
          send(res, { status: 500 });
        })
        .finally(() => body.fill(0));
    });
  };

  const requestTimeout = opts.requestTimeoutMs ?? 10_000;
  const headersTimeout = Math.min(opts.headersTimeoutMs ?? 5_000, requestTimeout);
  // Node enforces the two deadlines on a timer (default every 30 s): check every second so a
  // slow-loris client is dropped close to the deadline.
  const common = { maxHeaderSize: 8 * 1024, requestTimeout, headersTimeout, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 };
  const server: http.Server = opts.tls
    ? https.createServer({ ...common, cert: Buffer.from(opts.tls.cert), key: Buffer.from(opts.tls.key) }, listener)
    : http.createServer(common, listener);
  server.setTimeout(opts.idleTimeoutMs ?? 15_000, (sock: Socket) => sock.destroy());
  server.maxConnections = opts.maxConnections ?? 1024;
  const perAddressCap = opts.maxConnectionsPerAddress ?? 16;
  if (!Number.isInteger(perAddressCap) || perAddressCap < 1) throw new RangeError('maxConnectionsPerAddress must be an integer >= 1');
  const open = new Map<string, number>();
  // 'connection' is the TCP socket (before any TLS handshake): refused ones cost nothing more.
  server.on('connection', (sock: Socket) => {
    const a = clientAddress(sock);
    const n = (open.get(a) ?? 0) + 1;
    if (n > perAddressCap) {
      sock.destroy();
      return;
    }
    open.set(a, n);
    sock.once('close', () => {
      const m = (open.get(a) ?? 1) - 1;
      if (m > 0) open.set(a, m);
      else open.delete(a);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const url = `${opts.tls ? 'https' : 'http'}://${shownHost}:${addr.port}${path}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port: addr.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
