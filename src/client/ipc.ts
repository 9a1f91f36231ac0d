// Client side of the daemon's IPC (DESIGN §6) for media apps and tests: connects to the Unix
// socket, sends {id, method, params} frames and matches replies to requests by id.
import { connect, type Socket } from 'node:net';
import { IbakedError } from '../util/errors.js';
import { encodeFrame, FrameDecoder } from '../daemon/frame.js';

export class IpcError extends IbakedError {
  /** The RFC 3830 Error message the protocol answers this failure with (send it to the peer). */
  reply?: Uint8Array;
}

export class IbakedClient {
  private nextId = 1;
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

  static connect(path: string): Promise<IbakedClient> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(new IbakedClient(s)));
      s.once('error', (e) => reject(new IpcError('IPC_CONNECT', `cannot connect to ${path}: ${e.message}`)));
    });
  }

  request<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    // after the connection closed nothing would ever answer: fail now instead of waiting forever
    if (this.sock.destroyed || !this.sock.writable) return Promise.reject(new IpcError('IPC_CLOSED', 'connection to ibaked closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(encodeFrame({ id, method, params }));
    });
  }

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
