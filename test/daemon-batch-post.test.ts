// BatchPost (src/daemon/batch-post.ts), the queue between the daemon's main thread and its shard
// workers: items pushed in one synchronous run leave as one post; a hold keeps them until it is
// released (a shard worker answering a batch of requests with one post), or until the end of
// the event-loop turn at the latest; `after` callbacks run once their batch has been posted,
// also when the post throws. compactForPost: views are copied into buffers of their own, and
// params that hold none are passed on as they are.
import { describe, expect, it } from 'vitest';
import { BatchPost, compactForPost } from '../src/daemon/batch-post.js';

const microtasks = () => new Promise<void>((r) => queueMicrotask(r));
/** past the check phase of this turn (after the microtasks that the pushes queued) */
const turn = async () => {
  await microtasks();
  await new Promise<void>((r) => setImmediate(r));
};

function recorder() {
  const posts: number[][] = [];
  const q = new BatchPost<number>((items) => posts.push(items));
  return { q, posts };
}

describe('BatchPost', () => {
  it('posts the items of one synchronous run together, at the next microtask', async () => {
    const { q, posts } = recorder();
    q.push(1);
    q.push(2);
    expect(posts).toEqual([]);
    await microtasks();
    expect(posts).toEqual([[1, 2]]);
    q.push(3);
    await microtasks();
    expect(posts).toEqual([[1, 2], [3]]);
  });

  it('keeps items while held and posts them once on release', async () => {
    const { q, posts } = recorder();
    q.hold();
    q.push(1);
    await microtasks();
    await microtasks();
    expect(posts).toEqual([]);
    q.push(2);
    q.hold();
    q.release(); // one hold left
    await microtasks();
    expect(posts).toEqual([]);
    q.release();
    await microtasks();
    expect(posts).toEqual([[1, 2]]);
    await turn();
    expect(posts).toEqual([[1, 2]]); // the end-of-turn backstop posts nothing twice
  });

  it('posts held items at the end of the event-loop turn if the hold lasts longer', async () => {
    const { q, posts } = recorder();
    q.hold();
    q.push(1);
    await turn();
    expect(posts).toEqual([[1]]);
    q.push(2); // still held: again at the end of the next turn
    await microtasks();
    expect(posts).toEqual([[1]]);
    await turn();
    expect(posts).toEqual([[1], [2]]);
    q.release(); // nothing queued: nothing posted
    await turn();
    expect(posts).toEqual([[1], [2]]);
  });

  it('a release without a hold, or flush() with nothing queued, posts nothing', async () => {
    const { q, posts } = recorder();
    q.release();
    q.flush();
    await turn();
    expect(posts).toEqual([]);
    q.push(7);
    q.release(); // does not go below zero: the next hold still holds
    await microtasks();
    q.hold();
    q.push(8);
    await microtasks();
    expect(posts).toEqual([[7]]);
    q.release();
    await microtasks();
    expect(posts).toEqual([[7], [8]]);
  });

  it('flush() posts at once, held or not; afters run after the post, also when it throws', async () => {
    const order: string[] = [];
    let fail = false;
    const q = new BatchPost<string>((items) => {
      order.push(`post ${items.join(',')}`);
      if (fail) throw new Error('port closed');
    });
    q.hold();
    q.push('a', () => order.push('after a'));
    q.push('b');
    q.flush();
    expect(order).toEqual(['post a,b', 'after a']);
    fail = true;
    q.push('c', () => order.push('after c'));
    expect(() => q.flush()).toThrow('port closed');
    expect(order).toEqual(['post a,b', 'after a', 'post c', 'after c']);
    q.release();
    await turn();
    expect(order.length).toBe(4);
  });
});

describe('BatchPost.holdForTurn', () => {
  it('posts everything pushed during the turn once, at its check phase', async () => {
    const { q, posts } = recorder();
    q.holdForTurn();
    q.push(1);
    q.holdForTurn(); // once per turn
    await microtasks();
    q.push(2);
    await microtasks();
    expect(posts).toEqual([]);
    await new Promise<void>((r) => setImmediate(r));
    await microtasks();
    expect(posts).toEqual([[1, 2]]);
    q.holdForTurn(); // a new turn holds again
    q.push(3);
    await microtasks();
    expect(posts).toEqual([[1, 2]]);
    await turn();
    expect(posts).toEqual([[1, 2], [3]]);
  });

  it('an explicit hold outlives the turn hold', async () => {
    const { q, posts } = recorder();
    q.hold();
    q.holdForTurn();
    q.push(1);
    await new Promise<void>((r) => setImmediate(r));
    await microtasks();
    await new Promise<void>((r) => setImmediate(r)); // the end-of-turn backstop still posts it
    expect(posts).toEqual([[1]]);
    q.release();
  });
});

describe('compactForPost', () => {
  it('passes params whose byte arrays own their buffers on unchanged (no copy)', () => {
    const p = { identity: 'sip:bob@example.org', message: new Uint8Array([1, 2, 3]), list: [new Uint8Array(4), 7, null], nested: { a: { b: 'x' } } };
    expect(compactForPost(p)).toBe(p);
  });
  it('copies views (at any depth) into arrays that own exactly their octets, leaving the rest equal', () => {
    const big = new Uint8Array(4096).map((_, i) => i & 0xff);
    const view = big.subarray(100, 110);
    const p = { message: view, deep: { list: [big.subarray(0, 3), 'k'] }, n: 5 };
    const c = compactForPost(p);
    expect(c).not.toBe(p);
    expect(c.message).not.toBe(view);
    expect(c.message.buffer.byteLength).toBe(10);
    expect([...c.message]).toEqual([...view]);
    expect(c.deep.list[0]!.buffer.byteLength).toBe(3);
    expect(c.deep.list[1]).toBe('k');
    expect(c.n).toBe(5);
    expect(p.message).toBe(view); // the original is left as it was
    // a Buffer (a Uint8Array subclass) is copied into a plain Uint8Array
    const b = compactForPost({ m: Buffer.from([9, 8]) });
    expect(b.m.constructor).toBe(Uint8Array);
  });
});
