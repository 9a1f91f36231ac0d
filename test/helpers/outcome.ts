// How a call ended, as a short string a test can compare (and collect over many cases before one
// expect): 'accepted' / 'ok', or the typed error's reason / code. A non-typed failure comes back
// as a descriptive string that never equals an expected reason, so the comparison fails loudly.
import { EngineError } from '../../src/engine/errors.js';

/**
 * The EngineError reason an engine call rejects with, or 'accepted'. Given a thunk, a
 * synchronous throw is reported as such (async engine methods must reject, not throw).
 */
export async function engineReason(call: Promise<unknown> | (() => Promise<unknown>)): Promise<string> {
  let promise: Promise<unknown>;
  try {
    promise = typeof call === 'function' ? call() : call;
  } catch (e) {
    return `sync throw: ${String(e)}`;
  }
  try {
    await promise;
  } catch (e) {
    if (!(e instanceof EngineError)) return `not an EngineError: ${String(e)}`;
    return e.reason;
  }
  return 'accepted';
}

/** The `code` of the error a promise rejects with (its text when it has none), or 'ok'. */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}
