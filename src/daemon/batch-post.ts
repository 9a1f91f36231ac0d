// Batching for the messages between the daemon's main thread and its shard workers: items
// pushed while one callback runs (e.g. every request frame of one socket read) are posted as
// one array when that callback's synchronous work ends (a microtask). Under load one
// postMessage then carries several requests or replies instead of one each, which saves the
// per-message serialisation, wake-up and event costs on both threads. Not setImmediate: work
// already queued for the check phase (the endpoints' ahead-of-need jobs, ahead.ts) would then
// run before the reply leaves, adding its time to the call's latency. An item's `after` runs
// once the batch holding it has been posted (e.g. to wipe key material the post copied).
//
// A holder (a shard worker serving one posted batch of requests) can `hold()` the queue while
// more of its items are coming: the post then waits until every hold is released, or until the
// end of the event-loop turn (setImmediate) at the latest. A batch of requests is thereby
// answered with one post, and the receiving thread wakes once for it rather than once per reply.
// The main thread holds its queues for the rest of the turn (`holdForTurn`) so that the requests
// read from every ready socket in one poll phase reach a worker as one post; with workers it
// runs no endpoint, so nothing of the kind above waits in its check phase (measured:
// docs/performance.md "Fewer wake-ups").
export class BatchPost<T> {
  private items: T[] = [];
  private afters: Array<() => void> = [];
  private holds = 0;
  private queued = false;
  private turnHold = false;
  private backstop: ReturnType<typeof setImmediate> | undefined;

  constructor(private readonly post: (items: T[]) => void) {}

  push(item: T, after?: () => void): void {
    this.items.push(item);
    if (after) this.afters.push(after);
    this.schedule();
  }

  /** Delays the post until the matching release() (or the end of this event-loop turn). */
  hold(): void {
    this.holds++;
  }

  release(): void {
    if (this.holds > 0 && --this.holds === 0 && this.items.length > 0) this.schedule();
  }

  /**
   * Holds the queue until the end of this event-loop turn (its check phase): what every
   * callback of the turn pushes — e.g. the requests read from all ready sockets — leaves as one post.
   */
  holdForTurn(): void {
    if (this.turnHold) return;
    this.turnHold = true;
    this.hold();
    setImmediate(this.endTurn);
  }

  private readonly endTurn = (): void => {
    this.turnHold = false;
    this.release();
  };

  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(this.tick);
  }

  private readonly tick = (): void => {
    this.queued = false;
    if (this.holds === 0) this.flush();
    else if (this.items.length > 0 && !this.backstop) this.backstop = setImmediate(this.flush);
  };

  /** Posts what is queued now (also called by the queued microtask). */
  readonly flush = (): void => {
    if (this.backstop) {
      clearImmediate(this.backstop);
      this.backstop = undefined;
    }
    const items = this.items;
    const afters = this.afters;
    if (items.length === 0) return;
    this.items = [];
    this.afters = [];
    try {
      this.post(items);
    } finally {
      for (const a of afters) a();
    }
  };
}

/**
 * A copy of a message for postMessage whose byte arrays own exactly their bytes. Structured
 * clone copies a typed array's whole ArrayBuffer, and the arrays the IPC decoder hands out
 * (and some encoders return) are views into a larger one (a socket read, Node's buffer pool):
 * posting those would copy kilobytes per request. Walks plain objects and arrays only.
 */
export function compactForPost<T>(v: T): T {
  // The IPC decoder already copies every bin value into a buffer of its own (frame.ts), so a
  // request's params usually need nothing: they are walked without allocating, and copied only
  // when some array is a view.
  return needsCompacting(v, 0) ? compactCopy(v, 0) : v;
}

const ownsItsBuffer = (a: Uint8Array) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.constructor === Uint8Array;

function needsCompacting(v: unknown, depth: number): boolean {
  if (v instanceof Uint8Array) return !ownsItsBuffer(v);
  if (depth > 8 || typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) {
    for (const x of v) if (needsCompacting(x, depth + 1)) return true;
    return false;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const k in v) if (needsCompacting((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

function compactCopy<T>(v: T, depth: number): T {
  if (v instanceof Uint8Array) return (ownsItsBuffer(v) ? v : new Uint8Array(v)) as T;
  if (depth > 8 || typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map((x) => compactCopy(x, depth + 1)) as T;
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = compactCopy(x, depth + 1);
  return out as T;
}
