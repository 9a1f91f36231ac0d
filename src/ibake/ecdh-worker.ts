// Worker-thread entry of the ECDH offload (src/ibake/ahead.ts): computes ExchangeKeys (the
// P-256 K_SESSION on node:crypto plus the MIKEY key derivations) for the protocol thread, so
// that work runs on an idle core instead of delaying the exchange. Requests and replies are
// plain data; the request's secret copy and every reply buffer are wiped or transferred here.
import { parentPort } from 'node:worker_threads';
import { computeExchangeKeys, type ExchangeInput, type ExchangeKeys } from './exchange-keys.js';

export interface WorkerRequest {
  id: number;
  input: ExchangeInput;
}
export type WorkerReply = { id: number; keys: ExchangeKeys } | { id: number; failed: true };

/**
 * Buffers to transfer (views that own their whole buffer, each once); other views are copied
 * by postMessage and returned in `copied` so this thread can wipe them afterwards.
 */
function split(k: ExchangeKeys): { transfer: ArrayBuffer[]; copied: Uint8Array[] } {
  const views = [k.sess.mpk, k.sess.tgk, k.sess.authKey, ...(k.cs ?? []).flatMap((c) => [c.masterKey, c.masterSalt]), ...(k.kSession ? [k.kSession] : [])];
  const transfer = new Set<ArrayBuffer>();
  const copied: Uint8Array[] = [];
  for (const v of views) {
    const buf = v.buffer as ArrayBuffer;
    if (v.byteOffset === 0 && v.byteLength === buf.byteLength && !transfer.has(buf)) transfer.add(buf);
    else copied.push(v);
  }
  return { transfer: [...transfer], copied };
}

const port = parentPort;
if (port) {
  port.on('message', (req: WorkerRequest) => {
    let reply: WorkerReply;
    let parts: { transfer: ArrayBuffer[]; copied: Uint8Array[] } = { transfer: [], copied: [] };
    try {
      const keys = computeExchangeKeys(req.input);
      reply = { id: req.id, keys };
      parts = split(keys);
    } catch {
      reply = { id: req.id, failed: true };
    } finally {
      req.input.secret.fill(0);
    }
    port.postMessage(reply, parts.transfer); // transferred buffers leave this thread
    for (const v of parts.copied) v.fill(0);
  });
}
