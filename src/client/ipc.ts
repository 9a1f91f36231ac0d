// Client side of the daemon's IPC (DESIGN §6) for media apps and tests: connects to the Unix
// socket, sends {id, method, params} frames and matches replies to requests by id.
import { connect, type Socket } from 'node:net';
import { IbakedError } from '../util/errors.js';
import { encodeFrame, FrameDecoder } from '../daemon/frame.js';

export class IpcError extends IbakedError {
  /** The RFC 3830 Error message the protocol answers this failure with (send it to the peer). */
  reply?: Uint8Array;
}

export interface IbakedClientOptions {
  /**
   * Give up on a connect or a request after this many milliseconds with no answer: the promise
   * rejects with IPC_TIMEOUT and the connection is closed (every other pending request then
   * rejects with IPC_CLOSED). Default: no limit.
   */
  timeoutMs?: number;
}

export class IbakedClient {
  private nextId = 1;
  private timeoutMs: number | undefined;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dec = new FrameDecoder();

  private constructor(private sock: Socket) {
    sock.on('data', (chunk: Buffer) => {
      let msgs: Record<string, unknown>[];
      try {
        msgs = this.dec.push(chunk);
      } catch (e) {
        this.failAll(e as Error);
        sock.destroy();
        return;
      }
      for (const m of msgs) {
        const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
        if (!p) {
          if (m.id === null && m.ok === false) this.failAll(toError(m.error));
          continue;
        }
        this.pending.delete(m.id as number);
        if (m.ok === true) p.resolve(m.result);
        else p.reject(toError(m.error));
      }
    });
    sock.on('close', () => this.failAll(new IpcError('IPC_CLOSED', 'connection to ibaked closed')));
    sock.on('error', () => {});
  }

  static connect(path: string, o: IbakedClientOptions = {}): Promise<IbakedClient> {
    const ms = o.timeoutMs;
    if (ms !== undefined && !(Number.isFinite(ms) && ms > 0)) throw new RangeError('timeoutMs must be a positive number');
    // '' (or a non-string from JS) would reach net.connect as a TCP port and throw an untyped
    // ERR_SOCKET_BAD_PORT ('ibake ipc --socket ""' ended as an internal error, exit 70)
    if (typeof path !== 'string' || path.length === 0) return Promise.reject(new IpcError('IPC_CONNECT', 'cannot connect: the socket path is empty'));
    return new Promise((resolve, reject) => {
      const s = connect(path);
      const t = ms === undefined ? undefined : setTimeout(() => {
        s.destroy();
        reject(new IpcError('IPC_TIMEOUT', `no connection to ${path} within ${ms} ms`));
      }, ms);
      s.once('connect', () => {
        clearTimeout(t);
        const c = new IbakedClient(s);
        c.timeoutMs = ms;
        resolve(c);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(new IpcError('IPC_CONNECT', `cannot connect to ${path}: ${e.message}`));
      });
    });
  }

  request<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    // after the connection closed nothing would ever answer: fail now instead of waiting forever
    if (this.sock.destroyed || !this.sock.writable) return Promise.reject(new IpcError('IPC_CLOSED', 'connection to ibaked closed'));
    return new Promise<T>((resolve, reject) => {
      const ms = this.timeoutMs;
      // no answer in time: fail this request and close, as a late reply could not be told apart from a hang
      const t = ms === undefined ? undefined : setTimeout(() => {
        if (!this.pending.delete(id)) return;
        reject(new IpcError('IPC_TIMEOUT', `no reply to ${method.slice(0, 64)} within ${ms} ms`));
        this.sock.destroy();
      }, ms);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(t), resolve(v as T)),
        reject: (e) => (clearTimeout(t), reject(e)),
      });
      this.send(encodeFrame({ id, method, params }));
    });
  }

  /**
   * Requests made in one turn of the event loop (e.g. every call an app moves on when one batch
   * of replies arrives) leave in one writev, once this turn's promise jobs have run: one system
   * call instead of one per request, and the daemon wakes once to read them all.
   */
  private send(frame: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.sock.cork();
      process.nextTick(this.uncork);
    }
    this.sock.write(frame);
  }

  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.sock.uncork();
  };

  close(): void {
    this.sock.end();
  }

  private failAll(e: Error) {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

function toError(err: unknown): IpcError {
  const o = (err ?? {}) as { code?: unknown; message?: unknown; reply?: unknown };
  const e = new IpcError(typeof o.code === 'string' ? o.code : 'IPC_ERROR', typeof o.message === 'string' ? o.message : 'error');
  if (o.reply instanceof Uint8Array) e.reply = o.reply;
  return e;
}
