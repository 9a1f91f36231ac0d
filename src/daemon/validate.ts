// Validation of IPC request params (DESIGN §6: every boundary validates). Each helper reads one
// named field of a params map and either returns it typed or throws BAD_PARAMS, so handlers
// never touch an unchecked value. Unknown fields are refused too (a typo must not be ignored).
import { ParamError } from './methods.js';
export { onlyFields } from './methods.js';

export type Params = Record<string, unknown>;

const URI_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s\0]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
/** A lone surrogate (not well-formed Unicode; msgpackr never decodes one, an embedding caller might pass one). */
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A URI (scheme:rest, no whitespace, control character or lone surrogate, at most 1024
 * characters): the rules of an IBE identity (ibe/identity.ts validateUri) but its length. A
 * control character (ESC, DEL, C1) used to pass here and fail later with another layer's code:
 * identity.add answered KMS_CONFIG ('user contains control characters'), as if the KMS were
 * misconfigured, for the caller's own mistake.
 */
export function uriParam(p: Params, name: string): string {
  const v = p[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024 || !URI_RE.test(v) || CONTROL_RE.test(v) || LONE_SURROGATE_RE.test(v)) {
    throw new ParamError(`${name} must be a URI such as sip:alice@example.org`);
  }
  return v;
}

export function optionalUriParam(p: Params, name: string): string | undefined {
  return p[name] === undefined ? undefined : uriParam(p, name);
}

/** A 32-bit unsigned integer (CSB IDs, SSRCs). */
export function u32Param(p: Params, name: string, { nonZero = false } = {}): number {
  const v = p[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (nonZero ? 1 : 0) || v > 0xffffffff) {
    throw new ParamError(`${name} must be an integer in ${nonZero ? 1 : 0}..4294967295`);
  }
  return v;
}

/** Optional list of SSRCs: 1..255 32-bit integers (0 = let the responder choose). */
export function ssrcsParam(p: Params, name: string): number[] | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length < 1 || v.length > 255) throw new ParamError(`${name} must be an array of 1..255 SSRCs`);
  return v.map((_, i) => u32Param(v as unknown as Params, String(i)));
}

/** A PSK as hex: 16..64 octets. */
export function pskHexParam(p: Params, name: string): string {
  const v = p[name];
  if (typeof v !== 'string' || !/^([0-9a-fA-F]{2}){16,64}$/.test(v)) throw new ParamError(`${name} must be 16..64 octets of hex`);
  return v.toLowerCase();
}

export function optionalPskParam(p: Params, name: string): string | undefined {
  return p[name] === undefined ? undefined : pskHexParam(p, name);
}
