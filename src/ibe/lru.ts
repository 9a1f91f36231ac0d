// A small bounded LRU map with an eviction callback, for the IBE caches whose values hold
// engine handles (GT tables, prepared G2 lines) that must be freed when they fall out.

export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(
    readonly capacity: number,
    private readonly onEvict: (value: V, key: K) => void = () => {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('LRU capacity must be a positive integer');
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      if (old !== value) this.onEvict(old, key);
    }
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      const [k, v] = this.map.entries().next().value as [K, V];
      this.map.delete(k);
      this.onEvict(v, k);
    }
  }

  /** Removes an entry without calling onEvict (for entries that hold nothing to free). */
  delete(key: K): void {
    this.map.delete(key);
  }

  /** The values, oldest first, without touching their recency. */
  values(): IterableIterator<V> {
    return this.map.values();
  }

  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  clear(): void {
    for (const [k, v] of this.map) this.onEvict(v, k);
    this.map.clear();
  }
}
