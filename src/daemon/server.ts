// The daemon's IPC server (DESIGN §6): a Unix-domain socket (mode 0660 in a 0750 directory),
// length-prefixed msgpack frames, every request {id, method, params} answered by
// {id, ok, result | error}. Requests never block each other; crypto work is admitted through a
// bounded queue and refused with OVERLOADED when it is full, never buffered without limit.
import { chmodSync, mkdirSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { IbakedError } from '../util/errors.js';
import { encodeFrame, FrameDecoder, FrameError } from './frame.js';

export type Handler = (params: Record<string, unknown>) => Promise<unknown>;

/**
 * A handler's result may carry a non-enumerable function under this symbol: it runs once the
 * reply frame has been encoded and written (e.g. to zero key buffers the reply carried).
 */
export const AFTER_SEND: unique symbol = Symbol('ibaked.afterSend');

export interface DaemonOptions {
  socketPath: string;
  handlers: Record<string, Handler>;
  /** Requests admitted at once (running + waiting); beyond this the reply is OVERLOADED. */
  maxInFlight?: number;
  log?: (line: string) => void;
}

export interface DaemonStats {
  requests: number;
  errors: number;
  overloaded: number;
  inFlight: number;
  connections: number;
}

export interface RunningDaemon {
  socketPath: string;
  stats: DaemonStats;
  close(): Promise<void>;
}

export class DaemonError extends IbakedError {}

function errorReply(id: unknown, e: unknown) {
  if (e instanceof IbakedError) {
    // A protocol failure answered with an RFC 3830 Error message: hand its bytes to the app.
    const reply = (e as { reply?: unknown }).reply;
    return { id, ok: false, error: { code: e.code, message: e.message, ...(reply instanceof Uint8Array ? { reply } : {}) } };
  }
  return { id, ok: false, error: { code: 'INTERNAL', message: 'internal error' } };
}

function prepareSocketPath(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o750 });
  if (existsSync(path)) {
    if (!lstatSync(path).isSocket()) throw new DaemonError('SOCKET_PATH_IN_USE', `${path} exists and is not a socket`);
    unlinkSync(path); // stale socket of a previous run
  }
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const maxInFlight = opts.maxInFlight ?? 256;
  const log = opts.log ?? (() => {});
  const stats: DaemonStats = { requests: 0, errors: 0, overloaded: 0, inFlight: 0, connections: 0 };
  const sockets = new Set<Socket>();

  const handle = async (sock: Socket, msg: Record<string, unknown>) => {
    const id = msg.id;
    stats.requests++;
    const send = (reply: Record<string, unknown>) => {
      if (!sock.destroyed) sock.write(encodeFrame(reply));
    };
    if (typeof id !== 'number' && typeof id !== 'string') {
      stats.errors++;
      return send({ id: null, ok: false, error: { code: 'BAD_REQUEST', message: 'request needs an id (number or string)' } });
    }
    const method = msg.method;
    const handler = typeof method === 'string' && Object.hasOwn(opts.handlers, method) ? opts.handlers[method] : undefined;
    if (!handler) {
      stats.errors++;
      return send({ id, ok: false, error: { code: 'UNKNOWN_METHOD', message: `unknown method ${String(method)}` } });
    }
    const params = msg.params ?? {};
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      stats.errors++;
      return send({ id, ok: false, error: { code: 'BAD_REQUEST', message: 'params must be a map' } });
    }
    if (stats.inFlight >= maxInFlight) {
      stats.overloaded++;
      return send({ id, ok: false, error: { code: 'OVERLOADED', message: `more than ${maxInFlight} requests in flight; retry later` } });
    }
    stats.inFlight++;
    try {
      const result = await handler(params as Record<string, unknown>);
      try {
        send({ id, ok: true, result: result ?? null });
      } finally {
        const after = typeof result === 'object' && result !== null ? (result as { [AFTER_SEND]?: unknown })[AFTER_SEND] : undefined;
        if (typeof after === 'function') after();
      }
    } catch (e) {
      stats.errors++;
      if (!(e instanceof IbakedError)) log(`request ${String(method)} failed: ${(e as Error)?.message}`);
      send(errorReply(id, e));
    } finally {
      stats.inFlight--;
    }
  };

  const server: Server = createServer((sock) => {
    stats.connections++;
    sockets.add(sock);
    const dec = new FrameDecoder();
    sock.on('data', (chunk: Buffer) => {
      let msgs: Record<string, unknown>[];
      try {
        msgs = dec.push(chunk);
      } catch (e) {
        const code = e instanceof FrameError ? e.code : 'FRAME_ERROR';
        sock.end(encodeFrame({ id: null, ok: false, error: { code, message: (e as Error).message } }));
        sock.destroySoon?.();
        return;
      }
      for (const m of msgs) void handle(sock, m);
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      sockets.delete(sock);
      stats.connections--;
    });
  });

  prepareSocketPath(opts.socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(opts.socketPath, 0o660);
  log(`listening on ${opts.socketPath}`);

  return {
    socketPath: opts.socketPath,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
