// IPC methods of the key exchange itself (DESIGN §6, docs/daemon.md): exchange.initiate,
// exchange.receive, exchange.rekey and exchange.close, on the IbakeEndpoint of a registered
// local identity, as one exchange shard serves them (shard.ts; the router in shards.ts picks
// the shard and a new exchange's CSB ID). The app carries the bytes (SIP/SDP); the daemon keeps the state. SRTP keys
// leave only in the reply to the app that completed the exchange; the daemon's copies are
// zeroed once that reply is written (AFTER_SEND). Failures are typed (IBAKE_*); when the
// protocol answers a failure with an RFC 3830 Error message, it comes back as error.reply.
import { performance } from 'node:perf_hooks';
import { IbakeEndpoint, type CryptoSessionKeys, type ReceiveResult } from '../ibake/index.js';
import { wipeCsKeys } from '../ibake/output.js';
import { stackKeys } from '../srtp/stack.js';
import type { DecodedMessage } from '../mikey/index.js';
import { bytesParam, ParamError } from './methods.js';
import { formatKeyMgmtLine } from '../srtp/sdp.js';
import { MAX_SIGNALLING_TEXT, findMikey } from '../srtp/sdp-body.js';
import type { ExchangeMetrics } from './metrics.js';
import { AFTER_SEND } from './server.js';
import { onlyFields, optionalUriParam, ssrcsParam, u32Param, uriParam } from './validate.js';

/** Where a shard's exchange metrics go: the daemon's metrics in process, the main thread from a worker. */
export interface ExchangeMetricsSink {
  readonly exchanges: ExchangeMetrics;
  /** One MIKEY message processed by exchange.receive. */
  observeMessage(name: string, seconds: number, outcome: string): void;
}

export interface ExchangeDeps {
  /** The endpoint of a local identity, or IDENTITY_UNKNOWN. */
  endpoint: (uri: string) => IbakeEndpoint;
  metrics: ExchangeMetricsSink;
  /**
   * Per-request lifecycle lines (initiated, established, rejected, rekeyed, closed): debug level,
   * as every finished request is (docs/daemon.md §5); failures reach the log at info from the
   * server. Five such lines per call at info cost the main thread a JSON record and a write
   * each (docs/performance.md "N = 1 overhead").
   */
  debug: (line: string) => void;
  /**
   * Whether `debug` lines are wanted now (the level can change at run time): the lines are only
   * built when they are, since building five per call cost about 2 µs of the shard's time.
   * Absent: always.
   */
  debugEnabled?: () => boolean;
}

/** What the router decided for a request: the CSB ID a new exchange must use (exchange.initiate). */
export interface Route {
  csbId?: number;
}

export type ExchangeHandler = (params: Record<string, unknown>, route: Route) => Promise<unknown>;

/** The IPC methods an exchange shard serves (the rest are the main thread's). */
export const EXCHANGE_METHODS = ['exchange.initiate', 'exchange.receive', 'exchange.rekey', 'exchange.close'] as const;

const csb = (n: number) => n.toString(16).padStart(8, '0');

/** Key entries with their SRTP-stack forms; `held` collects the new key buffers so they can be wiped. */
export function keysOut(keys: CryptoSessionKeys[], held: Uint8Array[]) {
  return keys.map((k) => {
    const st = stackKeys(k);
    held.push(st.keySalt); // gst['srtp-key'] is the same buffer
    return { csId: k.csId, profile: k.profile, masterKey: k.masterKey, masterSalt: k.masterSalt, keySource: k.keySource, ...st };
  });
}

/**
 * The SRTP-ID map of an accepted message, as {csId, ssrc, roc}: on R_MESSAGE_1 this is where the
 * initiator learns the SSRCs the responder chose (its offer had 0 there), before any key exists.
 */
function csMapOf(header: MikeyHeader): Array<{ csId: number; ssrc: number; roc: number }> {
  return header.csMap.type === 0 ? header.csMap.entries.map((e, i) => ({ csId: i + 1, ssrc: e.ssrc, roc: e.roc })) : [];
}

/** `header`: the received message's, as the endpoint decoded it (IbakeEndpoint.receive's onHeader). */
type MikeyHeader = DecodedMessage['header'];

function receiveOut(r: ReceiveResult, header: MikeyHeader): Record<string, unknown> {
  const out: Record<string, unknown> = { csbId: r.csbId, peer: r.peer, csMap: csMapOf(header) };
  if (r.reply) {
    out.reply = r.reply;
    out.replyName = r.replyName ?? IbakeEndpoint.messageName(r.reply);
    out.replyKeyMgmt = formatKeyMgmtLine(r.reply);
  }
  const held: Uint8Array[] = [];
  if (r.established) {
    const e = r.established;
    out.established = { csbId: e.csbId, peer: e.peer, self: e.self, role: e.role, mode: e.mode, ...(e.escrowed ? { escrowed: true } : {}), keys: keysOut(e.keys, held) };
  }
  if (r.stored) out.stored = { forUser: r.stored.forUser, from: r.stored.from, message: r.stored.message };
  // The reply frame holds the only copy the app needs: zero ours once it is written.
  Object.defineProperty(out, AFTER_SEND, { value: () => {
      wipeCsKeys(r.established?.keys);
      for (const b of held) b.fill(0);
    },
    enumerable: false });
  return out;
}

/**
 * The MIKEY message of exchange.receive: `message` (bin), or `sdp` (text: an a=key-mgmt line, an
 * SDP body or a whole SIP message; the one MIKEY message in it is found here). Exactly one.
 */
function messageOrSdpParam(p: Record<string, unknown>): Uint8Array {
  if ((p.message === undefined) === (p.sdp === undefined)) throw new ParamError('give exactly one of message (bin) and sdp (text)');
  if (p.message !== undefined) return bytesParam(p, 'message');
  if (typeof p.sdp !== 'string' || p.sdp.length === 0 || p.sdp.length > MAX_SIGNALLING_TEXT) {
    throw new ParamError(`sdp must be a string of 1..${MAX_SIGNALLING_TEXT} characters`);
  }
  return findMikey(p.sdp).message;
}

export function exchangeHandlers(d: ExchangeDeps): Record<string, ExchangeHandler> {
  const debugOn = d.debugEnabled ?? (() => true);
  const log = d.debug;
  const metrics = d.metrics.exchanges;
  return {
    'exchange.initiate': async (p, route) => {
      onlyFields(p, ['from', 'to', 'ssrcs']);
      const from = uriParam(p, 'from');
      const to = uriParam(p, 'to');
      const ssrcs = ssrcsParam(p, 'ssrcs');
      const ep = d.endpoint(from);
      const r = await ep.initiate({ to, ...(ssrcs ? { ssrcs } : {}), ...(route.csbId !== undefined ? { csbId: route.csbId } : {}) });
      metrics.initiated++;
      if (debugOn()) log(`exchange ${csb(r.csbId)}: ${from} initiated to ${to}`);
      return { csbId: r.csbId, message: r.message, messageName: 'I_MESSAGE_1', keyMgmt: formatKeyMgmtLine(r.message) };
    },

    'exchange.receive': async (p) => {
      onlyFields(p, ['identity', 'message', 'sdp']);
      const identity = uriParam(p, 'identity');
      const message = messageOrSdpParam(p);
      const ep = d.endpoint(identity);
      metrics.received++;
      const name = IbakeEndpoint.messageName(message);
      const t0 = performance.now();
      let r: ReceiveResult;
      let header: MikeyHeader | undefined;
      try {
        r = await ep.receive(message, (h) => (header = h));
      } catch (e) {
        metrics.failed++;
        const code = (e as { code?: string }).code ?? 'INTERNAL';
        d.metrics.observeMessage(name, (performance.now() - t0) / 1000, code);
        if (debugOn()) log(`exchange: ${identity} rejected a ${name} (${code})`);
        throw e;
      }
      d.metrics.observeMessage(name, (performance.now() - t0) / 1000, 'ok');
      if (r.established) {
        metrics.established++;
        if (debugOn()) log(`exchange ${csb(r.csbId)}: ${identity} established with ${r.established.peer} (${r.established.keys.length} crypto sessions)`);
      }
      return receiveOut(r, header!);
    },

    'exchange.rekey': async (p) => {
      onlyFields(p, ['identity', 'csbId', 'peer']);
      const identity = uriParam(p, 'identity');
      const csbId = u32Param(p, 'csbId');
      const peer = uriParam(p, 'peer');
      const message = await d.endpoint(identity).rekey(csbId, peer);
      metrics.rekeyed++;
      if (debugOn()) log(`exchange ${csb(csbId)}: ${identity} started a CSB update with ${peer}`);
      return { csbId, message, messageName: 'I_MESSAGE_1', keyMgmt: formatKeyMgmtLine(message) };
    },

    'exchange.close': async (p) => {
      onlyFields(p, ['identity', 'csbId', 'peer']);
      const identity = uriParam(p, 'identity');
      const csbId = u32Param(p, 'csbId');
      const peer = optionalUriParam(p, 'peer');
      const ep = d.endpoint(identity);
      let closed = 0;
      let offerClosed = false;
      for (const store of [ep.initiated, ep.responded, ep.offers] as Array<{ byCsb(c: number): Array<{ peer: string }>; delete(c: number, p: string): void }>) {
        for (const s of store.byCsb(csbId)) {
          if (peer !== undefined && s.peer !== peer) continue;
          store.delete(csbId, s.peer); // wipes x, y, TGK, keys of that state
          closed++;
          if (store === ep.offers) offerClosed = true;
        }
      }
      if (peer === undefined || offerClosed) ep.closeOffer(csbId);
      metrics.closed += closed;
      if (debugOn()) log(`exchange ${csb(csbId)}: ${identity} closed ${closed} state(s)`);
      return { closed };
    },
  };
}
