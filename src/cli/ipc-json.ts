// JSON form of IPC values for the shell (`ibake ipc`): msgpack bin has no JSON type, so octet
// strings are written {"$base64": "…"} (or, on input only, {"$hex": "…"}); everything else is
// plain JSON. The output of one call can therefore be pasted into the next one's params.
import { MAX_DEPTH } from '../daemon/frame.js';
import { UsageError } from './command.js';

/**
 * JSON params -> IPC params (bin from {"$base64"} / {"$hex"}). Throws UsageError, also for
 * nesting deeper than the daemon's frames allow (MAX_DEPTH): thousands of levels used to
 * overflow the stack here (`internal error: Maximum call stack size exceeded`, exit 70).
 */
export function fromJson(v: unknown, where = 'params', depth = 0): unknown {
  if (v !== null && typeof v === 'object' && depth >= MAX_DEPTH) throw new UsageError(`${where.slice(0, 80)}…: JSON-PARAMS nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(v)) return v.map((x, i) => fromJson(x, `${where}[${i}]`, depth + 1));
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && (keys[0] === '$base64' || keys[0] === '$hex')) {
      const s = o[keys[0]];
      const ok = typeof s === 'string' && (keys[0] === '$hex' ? /^([0-9a-fA-F]{2})*$/.test(s) : /^[A-Za-z0-9+/_-]*={0,2}$/.test(s));
      if (!ok) throw new UsageError(`${where}: ${keys[0]} must be a ${keys[0] === '$hex' ? 'hex' : 'base64'} string`);
      return new Uint8Array(Buffer.from(s as string, keys[0] === '$hex' ? 'hex' : 'base64'));
    }
    return Object.fromEntries(keys.map((k) => [k, fromJson(o[k], `${where}.${k}`, depth + 1)]));
  }
  return v;
}

/** IPC value -> JSON-able value (bin as {"$base64"}). */
export function toJson(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(toJson);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}
