// Typed errors of the engine layer. Every rejected group element or scalar names its reason,
// identically on every backend (native, wasm, ts), so tests can compare rejections too.
import { IbakedError } from '../util/errors.js';

export type EngineErrorReason =
  | 'length' // wrong number of octets for the type
  | 'type' // not a Uint8Array / wrong argument kind
  | 'non-canonical' // flag bits wrong, coordinate >= p, or not the canonical form
  | 'not-on-curve' // decodes to coordinates that do not satisfy the curve equation
  | 'not-in-subgroup' // on the curve (or in Fp12*) but not in the prime-order subgroup
  | 'identity' // the point at infinity / GT identity where a proper element is required
  | 'scalar-range' // scalar not in [1, r-1]
  | 'freed' // a precompute handle used after free()
  | 'ibe-check' // Engine.bfCore only: l = 0, or the Fujisaki–Okamoto check [l]P == U failed
  | 'unavailable'; // backend not loadable on this machine

export class EngineError extends IbakedError {
  readonly reason: EngineErrorReason;
  constructor(reason: EngineErrorReason, message: string) {
    super(`ENGINE_${reason.toUpperCase().replace(/-/g, '_')}`, message);
    this.reason = reason;
  }
}
