// `ibake call --via SOCKET`: the basic call's four messages run by a running ibaked between two
// identities registered in it (identity.add or its configuration), carried here as a media app
// would carry them in SIP. The result has the shape of the in-process `ibake call`
// (ScenarioResult), so the same JSON and text come out; the keys are the ones the daemon handed
// out, which the initiator and responder must agree on.
import { performance } from 'node:perf_hooks';
import { IbakedClient } from '../client/ipc.js';
import type { CryptoSessionKeys } from '../ibake/output.js';
import type { ScenarioResult } from '../ibake/scenario.js';
import { MESSAGE_NAMES } from '../ibake/wire.js';
import { IbakedError } from '../util/errors.js';

/** No step of a call may hang on a daemon that does not answer (IPC_TIMEOUT, exit status 1). */
const VIA_TIMEOUT_MS = 30_000;

interface Est {
  keys: CryptoSessionKeys[];
}
interface Recv {
  reply?: Uint8Array;
  established?: Est;
}

const same = (a: CryptoSessionKeys[], b: CryptoSessionKeys[]) =>
  a.length === b.length && a.every((x, i) => x.csId === b[i]!.csId && x.ssrc === b[i]!.ssrc && Buffer.from(x.masterKey).equals(b[i]!.masterKey) && Buffer.from(x.masterSalt).equals(b[i]!.masterSalt));

/** Runs I_MESSAGE_1 … R_MESSAGE_2 and the confirmation through the daemon at `socket`. */
export async function callVia(socket: string, from: string, to: string): Promise<{ engine: string; result: ScenarioResult }> {
  const c = await IbakedClient.connect(socket, { timeoutMs: VIA_TIMEOUT_MS });
  try {
    const info = await c.request<{ engine: string }>('info');
    const have = new Set((await c.request<{ identities: Array<{ uri: string }> }>('identity.list')).identities.map((i) => i.uri));
    for (const id of [from, to]) {
      if (!have.has(id)) throw new IbakedError('IDENTITY_UNKNOWN', `${id} is not registered with the daemon at ${socket} (ibake ipc --socket ${socket} identity.add '{"uri":"${id}"}')`);
    }
    const timings: Record<string, number> = {};
    const messages: ScenarioResult['messages'] = [];
    const step = async <T>(label: string, fn: () => Promise<T>) => {
      const t = performance.now();
      const r = await fn();
      timings[label] = performance.now() - t;
      return r;
    };
    const record = (bytes: Uint8Array, f: string, t: string) => messages.push({ name: MESSAGE_NAMES[bytes[1]!] ?? String(bytes[1]), from: f, to: t, bytes });
    const recv = (identity: string, message: Uint8Array) => c.request<Recv>('exchange.receive', { identity, message });

    const i1 = await step('I_MESSAGE_1', () => c.request<{ csbId: number; message: Uint8Array }>('exchange.initiate', { from, to }));
    record(i1.message, from, to);
    const r1 = await step('R_MESSAGE_1', () => recv(to, i1.message));
    record(r1.reply!, to, from);
    const i2 = await step('I_MESSAGE_2', () => recv(from, r1.reply!));
    record(i2.reply!, from, to);
    const r2 = await step('R_MESSAGE_2', () => recv(to, i2.reply!));
    record(r2.reply!, to, from);
    const done = await step('confirm', () => recv(from, r2.reply!));
    timings.total = Object.values(timings).reduce((a, b) => a + b, 0);

    const problems: string[] = [];
    const ik = done.established?.keys ?? [];
    const rk = r2.established?.keys ?? [];
    if (!done.established) problems.push('the initiator did not complete');
    if (!r2.established) problems.push('the responder did not complete');
    if (!same(ik, rk)) problems.push('initiator and responder keys differ');
    // the exchange has served its purpose: the daemon wipes its states
    await c.request('exchange.close', { identity: from, csbId: i1.csbId }).catch(() => undefined);
    await c.request('exchange.close', { identity: to, csbId: i1.csbId }).catch(() => undefined);
    return {
      engine: info.engine,
      result: { scenario: 'basic', ok: problems.length === 0, problems, messages, initiator: { identity: from, keys: ik }, responder: { identity: to, keys: rk }, timingsMs: timings },
    };
  } finally {
    c.close();
  }
}
