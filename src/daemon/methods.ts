// The daemon's request handlers: engine selection at start, and the methods media apps call
// (ping, info, selftest, decode). Each handler validates its params and throws typed errors;
// the server turns them into {ok:false, error:{code,message}} replies.
import { selectEngine } from '../engine/select.js';
import type { Engine, EngineName } from '../engine/types.js';
import { decodeMessage } from '../mikey/index.js';
import { describeMessage } from '../mikey/describe.js';
import { runSelftest, type SelftestReport } from '../selftest/index.js';
import { IbakedError } from '../util/errors.js';
import type { Handler } from './server.js';

export class ParamError extends IbakedError {
  constructor(message: string) {
    super('BAD_PARAMS', message);
  }
}

/** Refuses any field not in `allowed` (a typo must not be ignored). */
export function onlyFields(params: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(params)) if (!allowed.includes(k)) throw new ParamError(`unknown param '${k.slice(0, 64)}' (allowed: ${allowed.join(', ') || 'none'})`);
}

export function bytesParam(params: Record<string, unknown>, name: string, max = 60_000): Uint8Array {
  const v = params[name];
  if (!(v instanceof Uint8Array)) throw new ParamError(`${name} must be msgpack bin (bytes)`);
  if (v.length === 0 || v.length > max) throw new ParamError(`${name} must hold 1..${max} octets`);
  return v;
}

export interface BuiltHandlers {
  handlers: Record<string, Handler>;
  engineInfo: { name: string; reason: string };
  /** The selected engine (the daemon's IBE and KMS work runs on it). */
  engine: Engine;
  selftest: () => Promise<SelftestReport>;
}

export async function buildHandlers(opts: { engine?: EngineName; log: (l: string) => void }): Promise<BuiltHandlers> {
  const sel = await selectEngine(opts.engine ? { name: opts.engine } : undefined);
  const started = Date.now();
  const selftest = () => runSelftest(sel.engine);
  const handlers: Record<string, Handler> = {
    ping: async (p) => (onlyFields(p, []), { pong: true, time: Date.now() }),
    info: async (p) => (onlyFields(p, []), {
      engine: sel.engine.name,
      engineReason: sel.reason,
      uptimeMs: Date.now() - started,
      node: process.version,
    }),
    selftest: async (p) => (onlyFields(p, []), selftest()),
    /** Decodes one MIKEY message (bytes) into the same tree `ibake decode --json` prints. */
    decode: async (p) => (onlyFields(p, ['message']), describeMessage(decodeMessage(bytesParam(p, 'message'))).json),
  };
  return { handlers, engineInfo: { name: sel.engine.name, reason: sel.reason }, engine: sel.engine, selftest };
}
