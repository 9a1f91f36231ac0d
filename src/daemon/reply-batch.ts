// A shard worker's posted batch in a compact form (shard-worker.ts packs, shard-pool.ts unpacks).
// Under load nearly every item a worker posts is one of two kinds: an exchange result
// (request id, CSB ID, msgpack octets) or a message-latency observation (name, seconds,
// outcome). As objects, each crossed the thread boundary through V8's structured clone: every
// key and string written and read back, every result's octets in a buffer of its own on both
// sides (in the daemon's profile: the worker's post and the main thread's deserialisation
// were about 35 µs of CPU per call). Packed, a batch is one Float64Array of fixed-size
// records, one buffer holding every result's octets (both transferred, not copied), a small
// table of the batch's distinct strings, and the rare other items as they are.
import { compactForPost } from './batch-post.js';
import type { FromWorker } from './shard-protocol.js';

const RES = 1;
const OBS = 2;
const NO_CSB = -1;
/** Numbers per record: kind, then three fields. */
const REC = 4;

export interface PackedBatch {
  /** records of REC numbers: [RES, id, csbId | -1, octets] or [OBS, name, outcome, seconds] (string indexes) */
  nums: Float64Array;
  /** the results' octets, in record order */
  bytes: ArrayBuffer;
  strs: string[];
  /** every other item, as it is */
  rest: FromWorker[];
}

/**
 * Posts `items` (a worker's batch): packed when it holds a result or an observation, else as
 * the array it is. `items` is left as it was (its octets were copied). Items that go through
 * structured clone (the unpacked ones: errors, whose `reply` may be a view on a slab of
 * util/byte-slab.ts, logs, reports) are compacted first, so a clone carries their own octets
 * and never a whole shared buffer.
 */
export function postBatch(post: (msg: FromWorker[] | PackedBatch, transfer?: ArrayBuffer[]) => void, items: FromWorker[]): void {
  const packed = packBatch(items);
  if (packed) post(packed.batch, packed.transfer);
  else post(compactForPost(items));
}

/** The packed batch and what to transfer with it; undefined if `items` has nothing to pack. */
export function packBatch(items: readonly FromWorker[]): { batch: PackedBatch; transfer: ArrayBuffer[] } | undefined {
  let records = 0;
  let octets = 0;
  for (const m of items) {
    if (m.t === 'obs') records++;
    else if (m.t === 'res' && m.ok && 'encoded' in m) {
      records++;
      octets += m.encoded.length;
    }
  }
  if (records === 0) return undefined;
  const nums = new Float64Array(records * REC);
  const bytes = new Uint8Array(new ArrayBuffer(octets));
  const strs: string[] = [];
  const index = new Map<string, number>();
  const str = (s: string) => {
    let i = index.get(s);
    if (i === undefined) index.set(s, (i = strs.push(s) - 1));
    return i;
  };
  const rest: FromWorker[] = [];
  let r = 0;
  let o = 0;
  for (const m of items) {
    if (m.t === 'obs') {
      nums[r] = OBS;
      nums[r + 1] = str(m.name);
      nums[r + 2] = str(m.outcome);
      nums[r + 3] = m.seconds;
      r += REC;
    } else if (m.t === 'res' && m.ok && 'encoded' in m) {
      nums[r] = RES;
      nums[r + 1] = m.id;
      nums[r + 2] = m.csbId ?? NO_CSB;
      nums[r + 3] = m.encoded.length;
      bytes.set(m.encoded, o);
      o += m.encoded.length;
      r += REC;
    } else rest.push(compactForPost(m));
  }
  return { batch: { nums, bytes: bytes.buffer, strs, rest }, transfer: [nums.buffer as ArrayBuffer, bytes.buffer] };
}

export interface BatchSink {
  /** `octets` is a view of the batch's buffer, owned by the receiver from now on */
  result(id: number, octets: Uint8Array, csbId: number | undefined): void;
  observe(name: string, seconds: number, outcome: string): void;
  other(m: FromWorker): void;
}

/**
 * Hands every item of a packed batch to `sink`, records first. A malformed batch is a TypeError
 * thrown before anything is handed over (the whole batch is checked first).
 */
export function unpackBatch(b: PackedBatch, sink: BatchSink): void {
  if (!(b.nums instanceof Float64Array) || !(b.bytes instanceof ArrayBuffer) || !Array.isArray(b.strs) || !Array.isArray(b.rest) || b.nums.length % REC !== 0) {
    throw new TypeError('malformed reply batch');
  }
  const { nums, strs } = b;
  let total = 0;
  for (let r = 0; r < nums.length; r += REC) {
    const ok =
      nums[r] === RES
        ? Number.isSafeInteger(nums[r + 3]) && nums[r + 3]! >= 0 && (total += nums[r + 3]!) <= b.bytes.byteLength
        : nums[r] === OBS && typeof strs[nums[r + 1]!] === 'string' && typeof strs[nums[r + 2]!] === 'string';
    if (!ok) throw new TypeError('malformed reply batch');
  }
  let o = 0;
  for (let r = 0; r < nums.length; r += REC) {
    if (nums[r] === RES) {
      const n = nums[r + 3]!;
      const csb = nums[r + 2]!;
      sink.result(nums[r + 1]!, new Uint8Array(b.bytes, o, n), csb === NO_CSB ? undefined : csb);
      o += n;
    } else sink.observe(strs[nums[r + 1]!]!, nums[r + 3]!, strs[nums[r + 2]!]!);
  }
  for (const m of b.rest) sink.other(m);
}
