// The daemon's metrics (DESIGN §6 "metrics (counters, latency histograms) are exposed"):
// exchange counters and a fixed-bucket latency histogram of exchange.receive, read through the
// `metrics` IPC method together with the server's request counters. Plain numbers only: no
// identities, no key material, nothing that grows with traffic.
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

export class Histogram {
  /** counts[i] = observations <= bounds[i]; the last slot is +Inf. Not cumulative. */
  private readonly counts: number[];
  private n = 0;
  private total = 0;

  constructor(private readonly bounds: readonly number[] = LATENCY_BUCKETS_MS) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.n++;
    this.total += v;
  }

  snapshot(): { count: number; sumMs: number; buckets: Array<{ le: number | '+Inf'; count: number }> } {
    return {
      count: this.n,
      sumMs: Math.round(this.total * 1000) / 1000,
      buckets: this.counts.map((count, i) => ({ le: i < this.bounds.length ? this.bounds[i]! : ('+Inf' as const), count })),
    };
  }
}

export class ExchangeMetrics {
  initiated = 0;
  received = 0;
  established = 0;
  failed = 0;
  rekeyed = 0;
  closed = 0;
  expired = 0;
  readonly receiveLatency = new Histogram();

  snapshot() {
    return {
      initiated: this.initiated,
      received: this.received,
      established: this.established,
      failed: this.failed,
      rekeyed: this.rekeyed,
      closed: this.closed,
      expired: this.expired,
      receiveLatencyMs: this.receiveLatency.snapshot(),
    };
  }
}

export type MetricsSnapshot = ReturnType<ExchangeMetrics['snapshot']>;

/** Sums the snapshots of several shards (same buckets). */
export function sumSnapshots(all: readonly MetricsSnapshot[]): MetricsSnapshot {
  const out = new ExchangeMetrics().snapshot();
  for (const s of all) {
    for (const k of ['initiated', 'received', 'established', 'failed', 'rekeyed', 'closed', 'expired'] as const) out[k] += s[k];
    const h = out.receiveLatencyMs;
    h.count += s.receiveLatencyMs.count;
    h.sumMs = Math.round((h.sumMs + s.receiveLatencyMs.sumMs) * 1000) / 1000;
    s.receiveLatencyMs.buckets.forEach((b, i) => (h.buckets[i]!.count += b.count));
  }
  return out;
}
