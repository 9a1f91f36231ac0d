// Shared helpers of the `kms init|extract`, `ibe encrypt|decrypt` and `ibs sign|verify` commands:
// strict base64, engine flag, date flag, and the per-identity context (params file loaded with the
// chosen engine, identity octets for the key period containing --date).
import type { Engine, EngineName } from '../engine/types.js';
import { resolveEngine } from '../ibe/engine-choice.js';
import { identityFor, parseDate, type IbeParams } from '../ibe/index.js';
import { loadParamsFile } from '../kms/master.js';
import { decodeStrictBase64, encodeBase64 } from '../util/base64.js';
import { UsageError } from './command.js';

export const ENGINE_CHOICES: readonly EngineName[] = ['ts', 'wasm', 'native'];

/** Strict canonical base64 (standard alphabet, padded); surrounding whitespace ignored. */
export function parseBase64(text: string, what: string, o: { lines?: boolean } = {}): Uint8Array {
  // `lines`: base64 wrapped over several lines, as base64(1) (76) and openssl (64) print it
  const r = decodeStrictBase64(o.lines ? text.replace(/\r?\n/g, '').trim() : text.trim());
  if (!r) throw new UsageError(`${what} is not valid base64`);
  if (!r.canonical) throw new UsageError(`${what} is not canonical base64`);
  return r.bytes;
}

export const toBase64 = encodeBase64;

export function required(v: string | undefined, flag: string): string {
  if (v === undefined || v === '') throw new UsageError(`missing required --${flag}`);
  return v;
}

export function oneOf<T extends string>(v: string | undefined, allowed: readonly T[], flag: string, dflt: T): T;
export function oneOf<T extends string>(v: string | undefined, allowed: readonly T[], flag: string): T | undefined;
export function oneOf<T extends string>(v: string | undefined, allowed: readonly T[], flag: string, dflt?: T): T | undefined {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** --date YYYY-MM-DD (UTC) or now. */
export function timeFlag(v: string | undefined): Date {
  if (v === undefined) return new Date();
  try {
    return parseDate(v);
  } catch (e) {
    throw new UsageError(`--date: ${(e as Error).message}`);
  }
}

export async function engineFlag(v: string | undefined): Promise<Engine> {
  return resolveEngine(undefined, oneOf(v, ENGINE_CHOICES, 'engine'));
}

/** The identity octets of --id for the params' key period containing `time` (usage error if bad). */
export function identityFlag(uri: string, time: Date, params: IbeParams): Uint8Array {
  try {
    return identityFor(uri, time, params.period).bytes;
  } catch (e) {
    throw new UsageError(`--id: ${(e as Error).message}`);
  }
}

/** The flags of every per-identity command: --params FILE --id URI [--date] [--engine]. */
export const IDENTITY_FLAGS = {
  params: { type: 'string' },
  id: { type: 'string' },
  date: { type: 'string' },
  engine: { type: 'string' },
} as const;

export interface IdentityContext {
  engine: Engine;
  params: IbeParams;
  /** Identity octets of --id for the params' key period containing --date. */
  id: Uint8Array;
}

/** Resolves the IDENTITY_FLAGS in order: required flags, date, engine, params file, identity. */
export async function identityContext(values: { params?: string; id?: string; date?: string; engine?: string }): Promise<IdentityContext> {
  const file = required(values.params, 'params');
  const uri = required(values.id, 'id');
  const time = timeFlag(values.date);
  const engine = await engineFlag(values.engine);
  const params = await loadParamsFile(file, engine);
  return { engine, params, id: identityFlag(uri, time, params) };
}
