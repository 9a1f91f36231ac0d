// Batching for the messages between the daemon's main thread and its shard workers: items
// pushed while one callback runs (e.g. every request frame of one socket read) are posted as
// one array when that callback's synchronous work ends (a microtask). Under load one
// postMessage then carries several requests or replies instead of one each, which saves the
// per-message serialisation, wake-up and event costs on both threads. Not setImmediate: work
// already queued for the check phase (the endpoints' ahead-of-need jobs, ahead.ts) would then
// run before the reply leaves, adding its time to the call's latency. An item's `after` runs
// once the batch holding it has been posted (e.g. to wipe key material the post copied).
export class BatchPost<T> {
  private items: T[] = [];
  private afters: Array<() => void> = [];

  constructor(private readonly post: (items: T[]) => void) {}

  push(item: T, after?: () => void): void {
    if (this.items.push(item) === 1) queueMicrotask(this.flush);
    if (after) this.afters.push(after);
  }

  /** Posts what is queued now (also called by the queued microtask). */
  readonly flush = (): void => {
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
export function compactForPost<T>(v: T, depth = 0): T {
  if (v instanceof Uint8Array) return (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.constructor === Uint8Array ? v : new Uint8Array(v)) as T;
  if (depth > 8 || typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map((x) => compactForPost(x, depth + 1)) as T;
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = compactForPost(x, depth + 1);
  return out as T;
}
