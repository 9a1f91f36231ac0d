// Shared types of the suite-agnostic IBE API (src/ibe/index.ts) and the params file
// (src/ibe/params.ts), kept apart so neither imports the other.
import type { PeriodKind } from './identity.js';
import type { Rfc5091Params } from './rfc5091/params.js';

export type IbeSuiteName = 'bls12381-bf' | 'rfc5091-bf';
export const IBE_SUITES: readonly IbeSuiteName[] = ['bls12381-bf', 'rfc5091-bf'];
export const DEFAULT_SUITE: IbeSuiteName = 'bls12381-bf';

export function isSuiteName(x: unknown): x is IbeSuiteName {
  return typeof x === 'string' && (IBE_SUITES as readonly string[]).includes(x);
}

export interface Bls12381SuiteParams {
  readonly suite: 'bls12381-bf';
  /** [s]P, 48-octet compressed G1 (P = the standard G1 generator) */
  readonly Ppub: Uint8Array;
}

export interface Rfc5091SuiteParams {
  readonly suite: 'rfc5091-bf';
  readonly curve: Rfc5091Params;
}

export type SuiteParams = Bls12381SuiteParams | Rfc5091SuiteParams;

/** A KMS's published public parameters (DIR/params.json). */
export interface IbeParams {
  readonly version: 1;
  readonly kmsId: string;
  readonly period: PeriodKind;
  readonly suite: SuiteParams;
  /** hex SHA-256 over the canonical encoding (params.ts) */
  readonly fingerprint: string;
}

export type ParamsLike = SuiteParams | IbeParams;

export function suiteParamsOf(p: ParamsLike): SuiteParams {
  return 'fingerprint' in p ? p.suite : p;
}
