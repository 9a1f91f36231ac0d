// Batching for the messages between the daemon's main thread and its shard workers: items
// pushed during one event-loop turn are posted as one array at the end of that turn
// (setImmediate runs right after the I/O callbacks of the turn, so this adds no wait). Under
// load one postMessage then carries many requests or replies instead of one each, which saves
// the per-message serialisation, wake-up and event costs on both threads. An item's `after`
// runs once the batch holding it has been posted (e.g. to wipe key material the post copied).
export class BatchPost<T> {
  private items: T[] = [];
  private afters: Array<() => void> = [];

  constructor(private readonly post: (items: T[]) => void) {}

  push(item: T, after?: () => void): void {
    if (this.items.push(item) === 1) setImmediate(this.flush);
    if (after) this.afters.push(after);
  }

  /** Posts what is queued now (also called by the turn's setImmediate). */
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
