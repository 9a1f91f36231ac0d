// IPC framing of DESIGN §6: each frame is a 4-octet big-endian length followed by one msgpack
// map, encoded and decoded with msgpackr set up as the design says: records and structured
// clone off, maps as plain objects, binary as Uint8Array (copied out of the socket buffer), and
// only plain msgpack types accepted (an extension type — Date, Set, Error, … — is refused).
// Frames over 64 KiB are refused from the length prefix alone, before any decoding, so a client
// cannot make the daemon buffer or parse unbounded input. The no-eval build of msgpackr is used
// (security.md top-10 #8): no code is generated at run time from what a client sends.
import { Packr, Unpackr } from 'msgpackr/index-no-eval';
import { copyBytes } from '../util/byte-slab.js';
import { IbakedError } from '../util/errors.js';

export const MAX_FRAME = 64 * 1024;
/** Nesting depth accepted in a decoded frame (our requests and replies use at most 6). */
export const MAX_DEPTH = 32;

export class FrameError extends IbakedError {}

const packr = new Packr({ useRecords: false, structuredClone: false, encodeUndefinedAsNil: true, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, structuredClone: false, mapsAsObjects: true, copyBuffers: true, int64AsType: 'number' });

/** msgpack bytes of one value (plain types only; Uint8Array as bin). */
export function encodeMsgpack(v: unknown): Uint8Array {
  return packr.pack(v);
}

/** Decodes one whole msgpack value; throws FrameError unless it is made of plain msgpack types only. */
export function decodeMsgpack(body: Uint8Array): unknown {
  let v: unknown;
  try {
    // A plain Uint8Array view (not a Buffer) makes msgpackr hand out bin values as Uint8Array.
    v = unpackr.unpack(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  } catch (e) {
    throw new FrameError('FRAME_BAD_MSGPACK', `undecodable msgpack: ${String((e as Error)?.message).slice(0, 200)}`);
  }
  checkPlain(v, 0);
  return v;
}

/** Only nil, boolean, number, string, bin, array and string-keyed map; bounded depth. */
function checkPlain(v: unknown, depth: number): void {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return;
  if (depth >= MAX_DEPTH) throw new FrameError('FRAME_BAD_MSGPACK', `nesting deeper than ${MAX_DEPTH}`);
  if (v instanceof Uint8Array && v.constructor === Uint8Array) return;
  if (Array.isArray(v)) {
    for (const x of v) checkPlain(x, depth + 1);
    return;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v as object)) checkPlain(x, depth + 1);
    return;
  }
  throw new FrameError('FRAME_BAD_MSGPACK', 'only plain msgpack types (nil, bool, int, float, str, bin, array, map) are accepted');
}

/** Encodes one message as a length-prefixed msgpack frame; FRAME_TOO_LARGE if its body is over the cap. */
export function encodeFrame(msg: Record<string, unknown>): Buffer {
  const body = encodeMsgpack(msg);
  if (body.length > MAX_FRAME) throw new FrameError('FRAME_TOO_LARGE', `frame of ${body.length} octets exceeds ${MAX_FRAME}`);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

/**
 * A request's result already encoded as msgpack (a shard worker encodes its results, so they
 * cross to the main thread as one byte string rather than an object graph, and the main thread
 * does not encode them again). `csbId` is the one field the main thread reads (ownership).
 */
export class EncodedResult {
  constructor(
    readonly bytes: Uint8Array,
    readonly csbId?: number,
  ) {}
}

/**
 * msgpack of a result as a new array (util/byte-slab.ts: a view on a slab, so it crosses to
 * another thread only copied, as reply-batch.ts does), the encoder's shared buffer wiped.
 */
export function encodeResult(v: unknown): Uint8Array {
  const view = packr.pack(v);
  const own = copyBytes(view);
  view.fill(0); // a result may hold keys: none left behind in the encoder's buffer
  return own;
}

/**
 * The frame of a successful reply whose result is already msgpack: `{id, ok: true, result}`
 * with `result`'s bytes embedded as they are (the map is encoded with a nil result, which is
 * its last octet, and the result's bytes take that octet's place).
 */
export function encodeResultFrame(id: unknown, result: EncodedResult): Buffer {
  const head = packr.pack({ id, ok: true, result: null });
  if (head[head.length - 1] !== 0xc0) throw new FrameError('FRAME_BAD_MSGPACK', 'unexpected reply head encoding');
  const len = head.length - 1 + result.bytes.length;
  if (len > MAX_FRAME) throw new FrameError('FRAME_TOO_LARGE', `frame of ${len} octets exceeds ${MAX_FRAME}`);
  const out = Buffer.allocUnsafe(4 + len);
  out.writeUInt32BE(len, 0);
  out.set(head.subarray(0, head.length - 1), 4);
  out.set(result.bytes, 4 + head.length - 1);
  return out;
}

/** Incremental decoder: push socket chunks, get whole messages. Throws FrameError on bad input. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  /** True while a frame has begun but not fully arrived (the partial-frame timer runs). */
  get partial(): boolean {
    return this.buf.length > 0;
  }

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
      const msg = decodeMsgpack(body);
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg) || msg instanceof Uint8Array) {
        throw new FrameError('FRAME_NOT_MAP', 'a frame must hold one msgpack map');
      }
      out.push(msg as Record<string, unknown>);
    }
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
    return out;
  }
}
