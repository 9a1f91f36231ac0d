// The daemon's metrics (DESIGN §6): prom-client instruments in a registry of our own, read
// both as Prometheus text (optional loopback HTTP listener, metrics-http.ts) and through the
// `metrics` IPC method. Cumulative latency histograms per IPC method and per MIKEY message
// received, OVERLOADED refusals, connections, exchanges by state, exchange events, identities
// and the engine. Labels take values from fixed sets only (method names of our handlers,
// MIKEY message names), so nothing grows with traffic; no identity or key material ever.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MESSAGE_NAMES } from '../ibake/wire.js';

/** Latency buckets (seconds) of every histogram: 1 ms … 5 s. */
export const LATENCY_BUCKETS_S = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
const MESSAGES = new Set(Object.values(MESSAGE_NAMES));

/** Counters of exchange events, in the form exchange.ts updates them. */
export class ExchangeMetrics {
  initiated = 0;
  received = 0;
  established = 0;
  failed = 0;
  rekeyed = 0;
  closed = 0;
  expired = 0;
}

/** The counter names of ExchangeMetrics. */
export const EXCHANGE_EVENTS = ['initiated', 'received', 'established', 'failed', 'rekeyed', 'closed', 'expired'] as const;

/** Sums exchange counters (e.g. of every shard worker). */
export function sumExchangeCounts(all: readonly ExchangeMetrics[]): ExchangeMetrics {
  const out = new ExchangeMetrics();
  for (const m of all) for (const k of EXCHANGE_EVENTS) out[k] += m[k];
  return out;
}

export interface MetricsSources {
  server: () => { connections: number; connectionsTotal: number; connectionsRefused: number; overloaded: number; inFlight: number; requests: number; errors: number; timeouts: number };
  /** Exchange states by state name (offered, sent-r1, sent-i2, established). */
  exchangesByState: () => Record<string, number>;
  identities: () => number;
  engine: { name: string; reason: string };
  /** The main thread's idle polling (idle-poll.ts). */
  idlePoll?: () => { polls: number; hits: number; seconds: number };
}

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly exchanges = new ExchangeMetrics();
  private readonly ipc: Histogram<'method' | 'outcome'>;
  private readonly mikey: Histogram<'message' | 'outcome'>;
  private sources?: MetricsSources;

  constructor(methods: readonly string[]) {
    const r = [this.registry];
    this.ipc = new Histogram({ name: 'ibaked_ipc_request_duration_seconds', help: 'IPC request latency by method and outcome (ok or error code)', labelNames: ['method', 'outcome'], buckets: LATENCY_BUCKETS_S, registers: r });
    this.mikey = new Histogram({ name: 'ibaked_mikey_message_duration_seconds', help: 'exchange.receive latency by MIKEY message type and outcome', labelNames: ['message', 'outcome'], buckets: LATENCY_BUCKETS_S, registers: r });
    for (const m of methods) this.ipc.zero({ method: m, outcome: 'ok' });
    for (const m of MESSAGES) this.mikey.zero({ message: m, outcome: 'ok' });
    const src = () => this.sources;
    const self = this;
    new Counter({ name: 'ibaked_overloaded_total', help: 'requests refused with OVERLOADED (bounded crypto queue full)', registers: r, collect() { this.reset(); this.inc(src()?.server().overloaded ?? 0); } });
    new Counter({ name: 'ibaked_ipc_requests_total', help: 'IPC requests received (all, including refused ones)', registers: r, collect() { this.reset(); this.inc(src()?.server().requests ?? 0); } });
    new Gauge({ name: 'ibaked_ipc_in_flight', help: 'IPC requests admitted and not yet answered', registers: r, collect() { this.set(src()?.server().inFlight ?? 0); } });
    new Gauge({ name: 'ibaked_connections', help: 'open IPC connections', registers: r, collect() { this.set(src()?.server().connections ?? 0); } });
    new Counter({ name: 'ibaked_connections_total', help: 'IPC connections accepted', registers: r, collect() { this.reset(); this.inc(src()?.server().connectionsTotal ?? 0); } });
    new Counter({ name: 'ibaked_connections_refused_total', help: 'IPC connections refused at the connection cap', registers: r, collect() { this.reset(); this.inc(src()?.server().connectionsRefused ?? 0); } });
    new Counter({ name: 'ibaked_connection_timeouts_total', help: 'IPC connections closed for idleness or an incomplete frame', registers: r, collect() { this.reset(); this.inc(src()?.server().timeouts ?? 0); } });
    new Gauge({
      name: 'ibaked_exchanges', help: 'exchange states held, by state', labelNames: ['state'], registers: r,
      collect() {
        this.reset();
        for (const s of ['offered', 'sent-r1', 'sent-i2', 'established']) this.set({ state: s }, 0);
        for (const [s, n] of Object.entries(src()?.exchangesByState() ?? {})) this.set({ state: s }, n);
      },
    });
    new Counter({
      name: 'ibaked_exchange_events_total', help: 'exchange events since start', labelNames: ['event'], registers: r,
      collect() {
        this.reset();
        for (const [k, v] of Object.entries(self.exchanges)) this.inc({ event: k }, v as number);
      },
    });
    new Counter({
      name: 'ibaked_idle_polls_total', help: 'idle-polling windows of the main thread, by whether a request ended them (hit) or time did (miss)', labelNames: ['outcome'], registers: r,
      collect() {
        this.reset();
        const p = src()?.idlePoll?.();
        this.inc({ outcome: 'hit' }, p?.hits ?? 0);
        this.inc({ outcome: 'miss' }, p ? p.polls - p.hits : 0);
      },
    });
    new Counter({ name: 'ibaked_idle_poll_seconds_total', help: 'time the main thread spent idle-polling instead of sleeping', registers: r, collect() { this.reset(); this.inc(src()?.idlePoll?.().seconds ?? 0); } });
    new Gauge({ name: 'ibaked_identities', help: 'local identities registered', registers: r, collect() { this.set(src()?.identities() ?? 0); } });
    new Gauge({
      name: 'ibaked_engine_info', help: 'the pairing engine in use (value 1)', labelNames: ['engine'], registers: r,
      collect() {
        this.reset();
        const e = src()?.engine;
        if (e) this.set({ engine: e.name }, 1);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'ibaked_' });
  }

  attach(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** Server hook: one dispatched IPC request. */
  observeRequest(method: string, seconds: number, outcome: string): void {
    this.ipc.observe({ method, outcome: boundedOutcome(outcome) }, seconds);
  }

  /** One MIKEY message processed by exchange.receive (name from its data type). */
  observeMessage(name: string, seconds: number, outcome: string): void {
    this.mikey.observe({ message: MESSAGES.has(name) ? name : 'other', outcome: boundedOutcome(outcome) }, seconds);
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The `metrics` IPC method's view: per-method and per-message cumulative histograms. */
  async histograms(): Promise<{ ipc: HistogramView[]; mikey: HistogramView[] }> {
    return { ipc: view(await this.ipc.get(), 'method'), mikey: view(await this.mikey.get(), 'message') };
  }
}

/** Error codes are a fixed vocabulary of ours, but keep the label safe anyway. */
function boundedOutcome(o: string): string {
  return /^[A-Z0-9_]{1,40}$/.test(o) || o === 'ok' ? o : 'OTHER';
}

export interface HistogramView {
  name: string;
  outcome: string;
  count: number;
  sumSeconds: number;
  /** Cumulative: observations ≤ le. */
  buckets: Array<{ le: number | '+Inf'; count: number }>;
}

function view(m: { values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }> }, by: string): HistogramView[] {
  const out = new Map<string, HistogramView>();
  for (const v of m.values) {
    const name = String(v.labels[by]);
    const outcome = String(v.labels.outcome);
    const k = `${name}\0${outcome}`;
    let h = out.get(k);
    if (!h) out.set(k, (h = { name, outcome, count: 0, sumSeconds: 0, buckets: [] }));
    if (v.metricName?.endsWith('_bucket')) h.buckets.push({ le: v.labels.le === '+Inf' ? '+Inf' : Number(v.labels.le), count: v.value });
    else if (v.metricName?.endsWith('_count')) h.count = v.value;
    else if (v.metricName?.endsWith('_sum')) h.sumSeconds = v.value;
  }
  return [...out.values()].filter((h) => h.count > 0);
}
