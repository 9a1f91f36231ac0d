// Optional Prometheus listener (DESIGN §6 "metrics on an optional loopback HTTP listener"):
// `--metrics-listen 127.0.0.1:9464` serves GET /metrics (text exposition format 0.0.4) and
// nothing else. Only loopback addresses are accepted: the metrics carry no secrets, but an
// operator who wants them off the machine should put a proxy in front, deliberately.
import { createServer, type Server } from 'node:http';
import { ConfigError, type ListenAddress } from './config.js';
import type { DaemonMetrics } from './metrics.js';

export async function startMetricsServer(addr: ListenAddress, metrics: DaemonMetrics): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new ConfigError(`cannot listen on ${addr.host}:${addr.port} for metrics: ${e.code ?? e.message}`)));
    server.listen(addr.port, addr.host, () => resolve());
  });
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : addr.port;
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
