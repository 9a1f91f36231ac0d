// IPC methods of the key exchange itself (DESIGN §6, docs/daemon.md): exchange.initiate,
// exchange.receive, exchange.rekey and exchange.close, on the IbakeEndpoint of a registered
// local identity. The app carries the bytes (SIP/SDP); the daemon keeps the state. SRTP keys
// leave only in the reply to the app that completed the exchange; the daemon's copies are
// zeroed once that reply is written (AFTER_SEND). Failures are typed (IBAKE_*); when the
// protocol answers a failure with an RFC 3830 Error message, it comes back as error.reply.
import { performance } from 'node:perf_hooks';
import { IbakeEndpoint, type CryptoSessionKeys, type ReceiveResult } from '../ibake/index.js';
import { wipeCsKeys } from '../ibake/output.js';
import { bytesParam } from './methods.js';
import type { Identities } from './identities.js';
import type { DaemonMetrics } from './metrics.js';
import { AFTER_SEND, type Handler } from './server.js';
import { onlyFields, optionalUriParam, ssrcsParam, u32Param, uriParam } from './validate.js';

export interface ExchangeDeps {
  identities: Identities;
  metrics: DaemonMetrics;
  log: (line: string) => void;
}

const csb = (n: number) => n.toString(16).padStart(8, '0');

function keysOut(keys: CryptoSessionKeys[]) {
  return keys.map((k) => ({ csId: k.csId, ssrc: k.ssrc, profile: k.profile, masterKey: k.masterKey, masterSalt: k.masterSalt, keySource: k.keySource }));
}

function receiveOut(r: ReceiveResult): Record<string, unknown> {
  const out: Record<string, unknown> = { csbId: r.csbId, peer: r.peer };
  if (r.reply) {
    out.reply = r.reply;
    out.replyName = r.replyName ?? IbakeEndpoint.messageName(r.reply);
  }
  if (r.established) {
    const e = r.established;
    out.established = { csbId: e.csbId, peer: e.peer, self: e.self, role: e.role, mode: e.mode, ...(e.escrowed ? { escrowed: true } : {}), keys: keysOut(e.keys) };
  }
  if (r.stored) out.stored = { forUser: r.stored.forUser, from: r.stored.from, message: r.stored.message };
  // The reply frame holds the only copy the app needs: zero ours once it is written.
  Object.defineProperty(out, AFTER_SEND, { value: () => wipeCsKeys(r.established?.keys), enumerable: false });
  return out;
}

export function exchangeHandlers(d: ExchangeDeps): Record<string, Handler> {
  const { identities, log } = d;
  const metrics = d.metrics.exchanges;
  return {
    'exchange.initiate': async (p) => {
      onlyFields(p, ['from', 'to', 'ssrcs']);
      const from = uriParam(p, 'from');
      const to = uriParam(p, 'to');
      const ssrcs = ssrcsParam(p, 'ssrcs');
      const ep = identities.get(from).endpoint;
      const r = await ep.initiate({ to, ...(ssrcs ? { ssrcs } : {}) });
      metrics.initiated++;
      log(`exchange ${csb(r.csbId)}: ${from} initiated to ${to}`);
      return { csbId: r.csbId, message: r.message, messageName: 'I_MESSAGE_1' };
    },

    'exchange.receive': async (p) => {
      onlyFields(p, ['identity', 'message']);
      const identity = uriParam(p, 'identity');
      const message = bytesParam(p, 'message');
      const ep = identities.get(identity).endpoint;
      metrics.received++;
      const name = IbakeEndpoint.messageName(message);
      const t0 = performance.now();
      let r: ReceiveResult;
      try {
        r = await ep.receive(message);
      } catch (e) {
        metrics.failed++;
        const code = (e as { code?: string }).code ?? 'INTERNAL';
        d.metrics.observeMessage(name, (performance.now() - t0) / 1000, code);
        log(`exchange: ${identity} rejected a ${name} (${code})`);
        throw e;
      }
      d.metrics.observeMessage(name, (performance.now() - t0) / 1000, 'ok');
      if (r.established) {
        metrics.established++;
        log(`exchange ${csb(r.csbId)}: ${identity} established with ${r.established.peer} (${r.established.keys.length} crypto sessions)`);
      }
      return receiveOut(r);
    },

    'exchange.rekey': async (p) => {
      onlyFields(p, ['identity', 'csbId', 'peer']);
      const identity = uriParam(p, 'identity');
      const csbId = u32Param(p, 'csbId');
      const peer = uriParam(p, 'peer');
      const message = await identities.get(identity).endpoint.rekey(csbId, peer);
      metrics.rekeyed++;
      log(`exchange ${csb(csbId)}: ${identity} started a CSB update with ${peer}`);
      return { csbId, message, messageName: 'I_MESSAGE_1' };
    },

    'exchange.close': async (p) => {
      onlyFields(p, ['identity', 'csbId', 'peer']);
      const identity = uriParam(p, 'identity');
      const csbId = u32Param(p, 'csbId');
      const peer = optionalUriParam(p, 'peer');
      const ep = identities.get(identity).endpoint;
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
      log(`exchange ${csb(csbId)}: ${identity} closed ${closed} state(s)`);
      return { closed };
    },
  };
}
