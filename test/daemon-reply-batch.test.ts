// A shard worker's packed reply batch (src/daemon/reply-batch.ts): results and observations
// come out as they went in (ids, CSB IDs, octets, names, seconds, outcomes), in order, with the
// other items untouched; the octets cross as one transferred buffer; a batch with nothing to
// pack is posted as the plain array; the items structured clone carries hold their own octets
// (never a view on a shared slab); a malformed batch is a TypeError before anything of it is
// handed over, never a wrong or partial result.
import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { packBatch, postBatch, unpackBatch, type PackedBatch } from '../src/daemon/reply-batch.js';
import { copyBytes } from '../src/util/byte-slab.js';
import type { FromWorker } from '../src/daemon/shard-protocol.js';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function collect(b: PackedBatch) {
  const out: unknown[] = [];
  unpackBatch(b, {
    result: (id, octets, csbId) => out.push({ id, octets: Array.from(octets), csbId, shared: octets.buffer === b.bytes }),
    observe: (name, seconds, outcome) => out.push({ name, seconds, outcome }),
    other: (m) => out.push(m),
  });
  return out;
}

describe('reply batches', () => {
  const items: FromWorker[] = [
    { t: 'res', id: 7, ok: true, encoded: bytes(300, 1), csbId: 0xfffffffe },
    { t: 'obs', name: 'I_MESSAGE_1', seconds: 0.0012, outcome: 'ok' },
    { t: 'res', id: 2 ** 53 - 1, ok: true, encoded: bytes(0, 2) },
    { t: 'log', line: 'hello' },
    { t: 'res', id: 8, ok: false, error: { code: 'IBAKE_AUTH_FAILED', message: 'x', typed: true } },
    { t: 'obs', name: 'R_MESSAGE_2', seconds: 3.5, outcome: 'IBAKE_AUTH_FAILED' },
    { t: 'res', id: 9, ok: true, encoded: bytes(17, 3), csbId: 0 },
    { t: 'obs', name: 'I_MESSAGE_1', seconds: 0, outcome: 'ok' },
  ];

  it('round trip: every record in order, then the other items as they were', () => {
    const packed = packBatch(items)!;
    expect(packed.batch.bytes.byteLength).toBe(317);
    expect(packed.batch.strs).toEqual(['I_MESSAGE_1', 'ok', 'R_MESSAGE_2', 'IBAKE_AUTH_FAILED']);
    expect(collect(packed.batch)).toEqual([
      { id: 7, octets: Array.from(bytes(300, 1)), csbId: 0xfffffffe, shared: true },
      { name: 'I_MESSAGE_1', seconds: 0.0012, outcome: 'ok' },
      { id: 2 ** 53 - 1, octets: [], csbId: undefined, shared: true },
      { name: 'R_MESSAGE_2', seconds: 3.5, outcome: 'IBAKE_AUTH_FAILED' },
      { id: 9, octets: Array.from(bytes(17, 3)), csbId: 0, shared: true },
      { name: 'I_MESSAGE_1', seconds: 0, outcome: 'ok' },
      items[3],
      items[4],
    ]);
  });

  it('crosses a real port: the buffers are transferred (detached here), the batch reads back the same', async () => {
    const { port1, port2 } = new MessageChannel();
    const got = new Promise<FromWorker[] | PackedBatch>((r) => port2.once('message', r));
    const copy = items.map((m) => ('encoded' in m ? { ...m, encoded: m.encoded.slice() } : m));
    let transferred: ArrayBuffer[] = [];
    postBatch((msg, transfer) => {
      transferred = transfer ?? [];
      port1.postMessage(msg, transfer);
    }, copy);
    const b = (await got) as PackedBatch;
    expect(transferred.length).toBe(2);
    expect(transferred.every((t) => t.byteLength === 0)).toBe(true); // detached on the sending side
    expect(collect(b)).toEqual(collect(packBatch(items)!.batch));
    port1.close();
  });

  it('a batch without results or observations is posted as the array it is', () => {
    const only: FromWorker[] = [{ t: 'log', line: 'x' }, { t: 'res', id: 1, ok: true, result: null }];
    expect(packBatch(only)).toBeUndefined();
    let posted: unknown;
    postBatch((m, t) => (posted = [m, t]), only);
    expect(posted).toEqual([only, undefined]);
  });

  it('items that go through structured clone carry their own octets, not a shared slab (util/byte-slab.ts)', () => {
    const reply = copyBytes(bytes(200, 4)); // a view on a slab, as an encoded MIKEY Error message is
    expect(reply.buffer.byteLength).toBeGreaterThan(200);
    const error = { t: 'res' as const, id: 3, ok: false as const, error: { code: 'IBAKE_AUTH_FAILED', message: 'x', typed: true, reply } };
    const check = (m: unknown) => {
      const r = (m as { error: { reply: Uint8Array } }).error.reply;
      expect(r.byteOffset === 0 && r.buffer.byteLength === 200).toBe(true);
      expect(Array.from(r)).toEqual(Array.from(bytes(200, 4)));
    };
    // packed (beside a result) and unpacked (alone)
    check(packBatch([items[0]!, error])!.batch.rest[0]);
    let posted: unknown;
    postBatch((m) => (posted = m), [error]);
    check((posted as unknown[])[0]);
    expect(reply.buffer.byteLength).toBeGreaterThan(200); // the original is left as it was
  });

  it('a malformed batch is a TypeError', () => {
    const good = packBatch(items)!.batch;
    const bad: PackedBatch[] = [
      { ...good, nums: good.nums.slice(0, 3) },
      { ...good, bytes: new ArrayBuffer(10) },
      { ...good, nums: Float64Array.from([5, 0, 0, 0]) },
      { ...good, nums: 'x' as unknown as Float64Array },
      { ...good, nums: Float64Array.from([1, 1, -1, -1]) },
    ];
    const delivered: unknown[] = [];
    const sink = { result: (id: number) => delivered.push(id), observe: (n: string) => delivered.push(n), other: (m: unknown) => delivered.push(m) };
    for (const b of bad) expect(() => unpackBatch(b, sink)).toThrow(TypeError);
    // checked whole before anything is handed over: a bad last record delivers none of the first
    const tail = Float64Array.from([...good.nums, 2, 99, 0, 1]);
    expect(() => unpackBatch({ ...good, nums: tail }, sink)).toThrow(TypeError);
    expect(() => unpackBatch({ ...good, nums: Float64Array.from([...good.nums, 1, 5, -1, 0.5]) }, sink)).toThrow(TypeError);
    expect(delivered).toEqual([]);
  });
});
