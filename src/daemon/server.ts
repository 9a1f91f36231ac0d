// The daemon's IPC server (DESIGN §6): the connection layer only — socket ownership, framing,
// request ids, limits and shutdown. What a method does is a Handler (params, ctx) looked up by
// name, so the per-request logic can run anywhere (e.g. a worker thread) while this layer keeps
// framing, connections, ownership context and routing.
//
// Guarantees (each tested against a real daemon in test/daemon-ops.test.ts):
//  * no exception from any request escapes: every request gets exactly one reply frame, and no
//    reply exceeds the 64 KiB cap (an oversized one becomes a REPLY_TOO_LARGE error reply);
//  * a live socket is never taken over (probed with connect; a stale one is replaced);
//  * connections are capped, idle ones and half-sent frames time out, a client that half-closes
//    after its request still gets the reply, a client that does not read is paused;
//  * crypto work is admitted through a bounded count, globally and per connection (OVERLOADED
//    beyond either), so one greedy connection cannot take every slot;
//  * replies queued to clients that do not read are bounded per connection and in total: beyond
//    either bound the connections holding a backlog are no longer read (never closed, no reply
//    dropped) until their own queue drains;
//  * a request id is a string or a safe integer, so the echoed id is exactly the one sent;
//  * drain(): stop accepting, answer new requests SHUTTING_DOWN, let in-flight ones finish for a
//    bounded time;
//  * once nothing is in flight the thread polls its sockets for a short adaptive window before
//    it sleeps, so the next request of a call in progress does not wait for a wake-up
//    (idle-poll.ts; limits.idlePollUs, 0 = off).
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { IbakedError } from '../util/errors.js';
import { makeDirSync } from '../util/make-dir.js';
import { EncodedResult, encodeFrame, encodeResultFrame, FrameDecoder, FrameError } from './frame.js';
import { silentLogger, type Logger } from './log.js';
import { peerCredOf } from './peercred.js';
import { idlePoller, type IdlePollStats } from './idle-poll.js';

/** Who sent a request: the connection, and its peer's uid/pid when SO_PEERCRED is available. */
export interface RequestContext {
  readonly conn: number;
  readonly uid?: number;
  readonly pid?: number;
  readonly reqId: string | number;
  readonly method: string;
}

export type Handler = (params: Record<string, unknown>, ctx: RequestContext) => Promise<unknown>;

/**
 * A handler's result may carry a non-enumerable function under this symbol: it runs once the
 * reply frame has been encoded and written (e.g. to zero key buffers the reply carried).
 */
export const AFTER_SEND: unique symbol = Symbol('ibaked.afterSend');

export interface ServerLimits {
  /** Requests admitted at once (running + waiting) across all connections; beyond: OVERLOADED. */
  maxInFlight: number;
  /** Requests admitted at once on one connection, so one client cannot take every slot. */
  maxInFlightPerConnection: number;
  /** Reply octets queued (not yet taken by the kernel) across all connections; see write(). */
  maxQueuedReplyBytes: number;
  /** Open connections; one more is answered TOO_MANY_CONNECTIONS and closed. */
  maxConnections: number;
  /** Open connections of one peer uid (SO_PEERCRED), so one client cannot take them all. */
  maxConnectionsPerUid: number;
  /** A connection with no request in flight and no byte received for this long is closed. */
  idleTimeoutMs: number;
  /** A frame whose first octet arrived must be complete within this time. */
  frameTimeoutMs: number;
  /** Longest idle-polling window in µs once nothing is in flight (idle-poll.ts); 0 = sleep at once. */
  idlePollUs: number;
}

export const SERVER_DEFAULTS: ServerLimits = {
  maxInFlight: 256,
  maxInFlightPerConnection: 64,
  maxQueuedReplyBytes: 64 * 1024 * 1024,
  maxConnections: 1024,
  maxConnectionsPerUid: 256,
  idleTimeoutMs: 300_000,
  frameTimeoutMs: 10_000,
  idlePollUs: 100,
};
/** Longest request id (string) and method name accepted; both are echoed in replies. */
export const MAX_ID_LENGTH = 256;
export const MAX_METHOD_LENGTH = 64;
/** Replies queued to a client that does not read, before its socket stops being read. */
export const MAX_WRITE_BACKLOG = 1024 * 1024;

export interface ServerHooks {
  /** After each dispatched request (known method): its duration and outcome ('ok' or error code). */
  requestDone?(method: string, seconds: number, outcome: string): void;
  connectionClosed?(conn: number): void;
}

export interface DaemonOptions {
  socketPath: string;
  handlers: Record<string, Handler>;
  limits?: Partial<ServerLimits>;
  /** Shorthand for limits.maxInFlight. */
  maxInFlight?: number;
  logger?: Logger;
  hooks?: ServerHooks;
  /** Gives the main thread's core to another runnable thread (router-sched.ts); without it no idle polling. */
  yieldThread?: () => boolean;
}

export interface DaemonStats {
  requests: number;
  errors: number;
  overloaded: number;
  inFlight: number;
  connections: number;
  connectionsTotal: number;
  connectionsRefused: number;
  timeouts: number;
  /** Reply octets queued to clients (user space, as last seen: refreshed on write, drain and each sweep). */
  queuedReplyBytes: number;
}

export interface RunningDaemon {
  socketPath: string;
  stats: DaemonStats;
  readonly limits: Readonly<ServerLimits>;
  /** Idle polling so far (idle-poll.ts). */
  readonly idlePoll: Readonly<IdlePollStats>;
  /** Changes limits at run time (SIGHUP); open connections over a lowered cap stay open. */
  setLimits(l: Partial<ServerLimits>): void;
  /** Stops accepting; waits up to timeoutMs for in-flight requests; true when all finished. */
  drain(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export class DaemonError extends IbakedError {}

interface Conn {
  id: number;
  sock: Socket;
  dec: FrameDecoder;
  uid?: number;
  pid?: number;
  inFlight: number;
  readEnded: boolean;
  /** Retired: an error frame was sent and the socket is being closed; nothing more is read. */
  closing: boolean;
  /** Reading paused because replies wait for the client (MAX_WRITE_BACKLOG or maxQueuedReplyBytes). */
  backlogged: boolean;
  /** Its socket's queued reply octets as last counted into the total. */
  queued: number;
  lastActivity: number;
  partialSince: number;
  /** Replies written in this turn of the event loop are held (cork) and leave in one writev. */
  corked: boolean;
}

type Reply = Record<string, unknown>;

function errorReply(id: unknown, e: unknown): Reply {
  if (e instanceof IbakedError) {
    // A protocol failure answered with an RFC 3830 Error message: hand its bytes to the app.
    const reply = (e as { reply?: unknown }).reply;
    return { id, ok: false, error: { code: e.code, message: String(e.message).slice(0, 1024), ...(reply instanceof Uint8Array ? { reply } : {}) } };
  }
  return { id, ok: false, error: { code: 'INTERNAL', message: 'internal error' } };
}

/** Encodes a reply; never throws and never exceeds the cap (REPLY_TOO_LARGE / INTERNAL instead). */
function safeFrame(reply: Reply): Buffer {
  try {
    return reply.result instanceof EncodedResult ? encodeResultFrame(reply.id, reply.result) : encodeFrame(reply);
  } catch (e) {
    const big = e instanceof FrameError && e.code === 'FRAME_TOO_LARGE';
    const error = big ? { code: 'REPLY_TOO_LARGE', message: 'the reply would exceed the 64 KiB frame cap' } : { code: 'INTERNAL', message: 'reply not encodable' };
    try {
      return encodeFrame({ id: reply.id, ok: false, error });
    } catch {
      return encodeFrame({ id: null, ok: false, error });
    }
  }
}

/**
 * A string, or a number that is a safe integer: msgpackr decodes 64-bit integers as doubles, so
 * an id beyond 2^53 - 1 (or a fraction, NaN, an infinity) could not be echoed exactly and a
 * client could take the reply for another request's.
 */
const validId = (id: unknown): id is string | number =>
  (typeof id === 'number' && Number.isSafeInteger(id)) || (typeof id === 'string' && id.length <= MAX_ID_LENGTH);

/** Is a daemon accepting connections on this socket? (connect; refused/absent = no). */
function probeSocket(path: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    const done = (v: boolean | Error) => {
      clearTimeout(t);
      s.destroy();
      if (v instanceof Error) reject(v);
      else resolve(v);
    };
    // No answer in time: something holds the socket; treat it as live (never steal it).
    const t = setTimeout(() => done(true), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') done(false);
      else done(new DaemonError('SOCKET_PATH_IN_USE', `cannot probe ${path}: ${e.code ?? e.message}`));
    });
  });
}

/** Creates the directory (0750); refuses a live socket or a non-socket; removes a stale socket. */
async function claimSocketPath(path: string): Promise<void> {
  const dir = dirname(path);
  if (!existsSync(dir)) makeDirSync(dir, 0o750, (m) => new DaemonError('SOCKET_LISTEN', `cannot listen on ${path}: ${m}`));
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new DaemonError('SOCKET_PATH_IN_USE', `${path} exists and is not a socket`);
  if (await probeSocket(path)) throw new DaemonError('SOCKET_IN_USE', `another process is serving ${path}; refusing to take it over`);
  unlinkSync(path); // stale socket of a previous run
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const limits: ServerLimits = { ...SERVER_DEFAULTS, ...opts.limits, ...(opts.maxInFlight !== undefined ? { maxInFlight: opts.maxInFlight } : {}) };
  const log = opts.logger ?? silentLogger();
  const hooks = opts.hooks ?? {};
  const stats: DaemonStats = { requests: 0, errors: 0, overloaded: 0, inFlight: 0, connections: 0, connectionsTotal: 0, connectionsRefused: 0, timeouts: 0, queuedReplyBytes: 0 };
  /** stats.queuedReplyBytes is over maxQueuedReplyBytes (logged once per crossing). */
  let overQueueBound = false;
  const conns = new Map<number, Conn>();
  let nextConn = 1;
  let draining = false;
  let idleWaiters: Array<() => void> = [];
  const yieldThread = opts.yieldThread;
  const poller = idlePoller({ maxUs: () => (yieldThread ? limits.idlePollUs : 0), yieldThread: yieldThread ?? (() => false) });

  /** Brings c's share of the queued-reply total up to date (0 once its socket is gone). */
  const account = (c: Conn) => {
    const now = c.sock.destroyed ? 0 : c.sock.writableLength;
    stats.queuedReplyBytes += now - c.queued;
    c.queued = now;
    const over = stats.queuedReplyBytes > limits.maxQueuedReplyBytes;
    if (over !== overQueueBound) {
      overQueueBound = over;
      if (over) log.warn({ code: 'REPLY_QUEUE_FULL', queued: stats.queuedReplyBytes, limit: limits.maxQueuedReplyBytes }, 'replies queued to clients exceed maxQueuedReplyBytes: connections with a backlog are no longer read until they drain');
      else log.info({ queued: stats.queuedReplyBytes, limit: limits.maxQueuedReplyBytes }, 'replies queued to clients back under maxQueuedReplyBytes');
    }
  };

  /**
   * Writes one reply. Reading from c pauses (resumed on 'drain', once the client has taken its
   * queue) when its own queue passes MAX_WRITE_BACKLOG, or when the total across connections
   * passes maxQueuedReplyBytes and c holds a backlog of at least its high-water mark (so a
   * 'drain' is sure to come). Nothing is dropped and no connection is closed for it: requests
   * already read still run and are answered, a paused client resumes by reading.
   */
  const write = (c: Conn, reply: Reply) => {
    if (c.sock.destroyed || !c.sock.writable) return;
    if (!c.corked) {
      // Under load one shard message settles many requests at once: their replies to this
      // client go out in one system call, once the promise jobs of this turn have run.
      c.corked = true;
      c.sock.cork();
      process.nextTick(uncork, c);
    }
    c.sock.write(safeFrame(reply));
    c.lastActivity = Date.now();
    account(c);
    if (c.backlogged) return;
    const own = c.sock.writableLength > MAX_WRITE_BACKLOG;
    if (own || (overQueueBound && c.sock.writableNeedDrain)) {
      c.backlogged = true; // resumed on 'drain'
      c.sock.pause();
      log.debug({ conn: c.id, backlog: c.sock.writableLength, total: stats.queuedReplyBytes, bound: own ? 'connection' : 'total', partial: c.dec.partial }, 'replies wait for the client: reading paused');
    }
  };

  const uncork = (c: Conn) => {
    c.corked = false;
    c.sock.uncork();
    account(c); // what the socket took at once no longer counts as queued
  };

  /** Sends one last error frame and closes the connection. */
  const refuse = (sock: Socket, code: string, message: string) => {
    if (sock.destroyed) return;
    sock.end(safeFrame({ id: null, ok: false, error: { code, message } }));
    setTimeout(() => sock.destroy(), 1000).unref();
  };

  /** A connection being closed no longer counts against the cap. */
  const retire = (c: Conn) => {
    c.closing = true;
    conns.delete(c.id);
    stats.connections = conns.size;
  };

  const settle = (c: Conn) => {
    if (c.readEnded && c.inFlight === 0 && !c.sock.destroyed) {
      retire(c);
      c.sock.end();
    }
    if (stats.inFlight === 0) {
      poller.idle();
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    }
  };

  const fail = (c: Conn, id: unknown, code: string, message: string) => {
    stats.errors++;
    write(c, { id, ok: false, error: { code, message } });
  };

  const handle = async (c: Conn, msg: Record<string, unknown>) => {
    stats.requests++;
    const id = msg.id;
    if (!validId(id)) return fail(c, null, 'BAD_REQUEST', `a request needs an id: a safe integer (at most 2^53 - 1 in magnitude) or a string of at most ${MAX_ID_LENGTH} characters`);
    const method = msg.method;
    if (typeof method !== 'string' || method.length > MAX_METHOD_LENGTH || !Object.hasOwn(opts.handlers, method)) {
      const shown = typeof method === 'string' ? JSON.stringify(method.slice(0, MAX_METHOD_LENGTH)) + (method.length > MAX_METHOD_LENGTH ? '…' : '') : typeof method;
      return fail(c, id, 'UNKNOWN_METHOD', `unknown method ${shown}`);
    }
    const params = msg.params ?? {};
    if (typeof params !== 'object' || params === null || Array.isArray(params) || params instanceof Uint8Array) {
      return fail(c, id, 'BAD_REQUEST', 'params must be a map');
    }
    if (draining) return fail(c, id, 'SHUTTING_DOWN', 'the daemon is shutting down');
    const overloaded =
      c.inFlight >= limits.maxInFlightPerConnection ? `more than ${limits.maxInFlightPerConnection} requests in flight on this connection` : stats.inFlight >= limits.maxInFlight ? `more than ${limits.maxInFlight} requests in flight` : undefined;
    if (overloaded) {
      stats.overloaded++;
      hooks.requestDone?.(method, 0, 'OVERLOADED');
      return fail(c, id, 'OVERLOADED', `${overloaded}; retry this request later`);
    }
    const handler = opts.handlers[method]!;
    stats.inFlight++;
    c.inFlight++;
    const t0 = performance.now();
    let outcome = 'ok';
    try {
      const ctx: RequestContext = { conn: c.id, reqId: id, method, ...(c.uid !== undefined ? { uid: c.uid, pid: c.pid! } : {}) };
      const result = await handler(params as Record<string, unknown>, ctx);
      try {
        write(c, { id, ok: true, result: result ?? null });
      } finally {
        const after = typeof result === 'object' && result !== null ? (result as { [AFTER_SEND]?: unknown })[AFTER_SEND] : undefined;
        // the reply is out: a failing hook is logged, never a second reply
        if (typeof after === 'function') {
          try {
            after();
          } catch (e) {
            log.error({ reqId: id, method, conn: c.id, code: 'INTERNAL' }, `after-send hook failed: ${String((e as Error)?.message).slice(0, 300)}`);
          }
        }
      }
      log.debug({ reqId: id, method, conn: c.id, ms: Math.round((performance.now() - t0) * 1000) / 1000 }, 'request done');
    } catch (e) {
      stats.errors++;
      outcome = e instanceof IbakedError ? e.code : 'INTERNAL';
      if (e instanceof IbakedError) log.info({ reqId: id, method, conn: c.id, code: e.code }, `request failed: ${String(e.message).slice(0, 300)}`);
      else log.error({ reqId: id, method, conn: c.id, code: 'INTERNAL' }, `request failed with an internal error: ${String((e as Error)?.message).slice(0, 300)}`);
      write(c, errorReply(id, e));
    } finally {
      stats.inFlight--;
      c.inFlight--;
      hooks.requestDone?.(method, (performance.now() - t0) / 1000, outcome);
      settle(c);
    }
  };

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (sock) => {
    if (draining) return refuse(sock, 'SHUTTING_DOWN', 'the daemon is shutting down');
    if (conns.size >= limits.maxConnections) {
      stats.connectionsRefused++;
      log.warn({ code: 'TOO_MANY_CONNECTIONS', limit: limits.maxConnections }, 'connection refused: connection cap reached');
      return refuse(sock, 'TOO_MANY_CONNECTIONS', `more than ${limits.maxConnections} connections; retry later`);
    }
    const cred = peerCredOf(sock);
    if (cred) {
      let mine = 0;
      for (const o of conns.values()) if (o.uid === cred.uid) mine++;
      if (mine >= limits.maxConnectionsPerUid) {
        stats.connectionsRefused++;
        log.warn({ code: 'TOO_MANY_CONNECTIONS', uid: cred.uid, limit: limits.maxConnectionsPerUid }, 'connection refused: per-uid connection cap reached');
        return refuse(sock, 'TOO_MANY_CONNECTIONS', `more than ${limits.maxConnectionsPerUid} connections of this uid; retry later`);
      }
    }
    const c: Conn = { id: nextConn++, sock, dec: new FrameDecoder(), inFlight: 0, readEnded: false, closing: false, backlogged: false, queued: 0, lastActivity: Date.now(), partialSince: 0, corked: false, ...(cred ? { uid: cred.uid, pid: cred.pid } : {}) };
    conns.set(c.id, c);
    stats.connections = conns.size;
    stats.connectionsTotal++;
    log.debug({ conn: c.id, uid: c.uid, pid: c.pid }, 'connection opened');
    sock.on('data', (chunk: Buffer) => {
      poller.busy();
      if (c.closing) return;
      c.lastActivity = Date.now();
      let msgs: Record<string, unknown>[];
      try {
        msgs = c.dec.push(chunk);
      } catch (e) {
        const code = e instanceof FrameError ? e.code : 'FRAME_ERROR';
        log.info({ conn: c.id, code }, 'bad frame; connection closed');
        sock.pause();
        retire(c);
        return refuse(sock, code, String((e as Error).message).slice(0, 300));
      }
      c.partialSince = c.dec.partial ? c.partialSince || Date.now() : 0;
      for (const m of msgs) {
        handle(c, m).catch((e: unknown) => log.error({ conn: c.id, code: 'INTERNAL' }, `request handling failed: ${String((e as Error)?.message).slice(0, 300)}`));
      }
    });
    sock.on('drain', () => {
      account(c);
      if (!c.backlogged || c.closing) return;
      c.backlogged = false;
      // a frame left half-read while we were not reading gets a fresh frame timeout
      if (c.partialSince) c.partialSince = Date.now();
      c.lastActivity = Date.now();
      sock.resume();
    });
    sock.on('end', () => {
      c.readEnded = true; // half-close: replies to what was sent are still delivered
      settle(c);
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      account(c);
      conns.delete(c.id);
      stats.connections = conns.size;
      hooks.connectionClosed?.(c.id);
      log.debug({ conn: c.id }, 'connection closed');
    });
  });

  // One sweep for every connection's timers (cheap: connections are capped).
  const sweep = () => {
    const now = Date.now();
    for (const c of conns.values()) {
      account(c); // partial flushes emit no event: refresh the total here
      if (c.sock.destroyed) continue;
      if (c.backlogged) continue; // our own pause: the client is not the one that is late
      if (c.partialSince && now - c.partialSince >= limits.frameTimeoutMs) {
        stats.timeouts++;
        log.info({ conn: c.id, code: 'FRAME_TIMEOUT' }, 'frame incomplete in time; connection closed');
        c.sock.pause();
        retire(c);
        refuse(c.sock, 'FRAME_TIMEOUT', `a frame was not completed within ${limits.frameTimeoutMs} ms`);
      } else if (!c.partialSince && c.inFlight === 0 && now - c.lastActivity >= limits.idleTimeoutMs) {
        stats.timeouts++;
        log.debug({ conn: c.id, code: 'IDLE_TIMEOUT' }, 'idle connection closed');
        retire(c);
        refuse(c.sock, 'IDLE_TIMEOUT', `no request for ${limits.idleTimeoutMs} ms`);
      }
    }
  };
  const sweepEvery = () => Math.max(20, Math.min(1000, Math.floor(Math.min(limits.frameTimeoutMs, limits.idleTimeoutMs) / 4)));
  let sweeper = setInterval(sweep, sweepEvery());
  sweeper.unref();

  try {
    await claimSocketPath(opts.socketPath);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(opts.socketPath, 0o660);
  } catch (e) {
    clearInterval(sweeper);
    server.close();
    if (e instanceof IbakedError) throw e;
    throw new DaemonError('SOCKET_LISTEN', `cannot listen on ${opts.socketPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  log.info({ socket: opts.socketPath, limits }, `listening on ${opts.socketPath}`);

  let closed: Promise<void> | undefined;
  return {
    socketPath: opts.socketPath,
    stats,
    limits,
    idlePoll: poller.stats,
    setLimits(l) {
      Object.assign(limits, l);
      clearInterval(sweeper);
      sweeper = setInterval(sweep, sweepEvery());
      sweeper.unref();
    },
    async drain(timeoutMs) {
      draining = true;
      server.close(); // no new connections; the path is removed
      if (stats.inFlight === 0) return true;
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), timeoutMs);
        idleWaiters.push(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    },
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        draining = true;
        poller.stop();
        clearInterval(sweeper);
        for (const c of conns.values()) {
          if (c.corked) uncork(c); // replies of this turn go out first
          c.sock.destroy();
        }
        if (!server.listening) return resolve();
        server.close(() => resolve());
      })),
  };
}
