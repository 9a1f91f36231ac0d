// A bounded FIFO semaphore: at most `max` tasks run at once, the others wait their turn in
// arrival order; with a queue bound, a task that finds the queue full fails at once (`full()`).
// Shared by the KMS service (requests in flight) and the daemon's identities (first key fetches).
export class FifoGate {
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  constructor(
    readonly max: number,
    readonly maxQueued = Infinity,
    private readonly full: () => Error = () => new Error('queue full'),
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) {
      if (this.#waiting.length >= this.maxQueued) throw this.full();
      await new Promise<void>((r) => this.#waiting.push(r));
    } else {
      this.#active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next(); // the slot passes straight to the next in line
      else this.#active--;
    }
  }
}
