// IPC framing of DESIGN §6: each frame is a 4-octet big-endian length followed by one msgpack
// map. Frames over 64 KiB are refused from the length prefix alone, before any decoding, so a
// client cannot make the daemon buffer or parse unbounded input.
import { decode, encode } from '@msgpack/msgpack';
import { IbakedError } from '../util/errors.js';

export const MAX_FRAME = 64 * 1024;

export class FrameError extends IbakedError {}

/** Encodes one message as a length-prefixed msgpack frame. */
export function encodeFrame(msg: Record<string, unknown>): Buffer {
  const body = encode(msg);
  if (body.length > MAX_FRAME) throw new FrameError('FRAME_TOO_LARGE', `frame of ${body.length} octets exceeds ${MAX_FRAME}`);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

/** Incremental decoder: push socket chunks, get whole messages. Throws FrameError on bad input. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Record<string, unknown>[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Record<string, unknown>[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > MAX_FRAME) throw new FrameError('FRAME_TOO_LARGE', `frame of ${len} octets exceeds ${MAX_FRAME}`);
      if (len === 0) throw new FrameError('FRAME_EMPTY', 'empty frame');
      if (this.buf.length < 4 + len) break;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      let msg: unknown;
      try {
        msg = decode(body);
      } catch (e) {
        throw new FrameError('FRAME_BAD_MSGPACK', `undecodable msgpack: ${(e as Error).message}`);
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
        throw new FrameError('FRAME_NOT_MAP', 'a frame must hold one msgpack map');
      }
      out.push(msg as Record<string, unknown>);
    }
    return out;
  }
}
