// The KMS public-parameters file (DIR/params.json): version, suite, kmsId URI, key period and
// the suite's public values, plus fingerprint = hex SHA-256("ibaked-ibe-params-v1" ‖ 0x00 ‖
// canonical JSON of everything else: keys sorted, no whitespace). Integers and octet strings
// are lowercase hex (integers minimal, no leading zeros), so the encoding is canonical.
// Parsing is strict (exact key sets and types), checks the fingerprint, and validates every
// group element (engine subgroup checks for bls12381-bf, full RFC 5091 checks for rfc5091-bf).
import { createHash } from 'node:crypto';
import type { Engine } from '../engine/types.js';
import { G1_COMPRESSED } from '../engine/types.js';
import { DST } from './bls12381/bf.js';
import { resolveEngine } from './engine-choice.js';
import { IbeError } from './errors.js';
import { isHashName } from './hashes.js';
import { isPeriodKind, validateUri, type PeriodKind } from './identity.js';
import { validateRfc5091Params, type Rfc5091Params } from './rfc5091/params.js';
import { isSuiteName, type IbeParams, type SuiteParams } from './types.js';

const FP_TAG = 'ibaked-ibe-params-v1';
type Json = string | number | Json[] | { [k: string]: Json };

function bad(msg: string): never {
  throw new IbeError('IBE_BAD_PARAMS', msg);
}

function canonicalJson(v: Json): string {
  if (typeof v === 'string' || typeof v === 'number') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k]!)}`).join(',')}}`;
}

const intHex = (v: bigint) => v.toString(16);
const bytesHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function suiteJson(s: SuiteParams): Json {
  if (s.suite === 'bls12381-bf') {
    return { dst: DST, hash: 'sha256', Ppub: bytesHex(s.Ppub) };
  }
  const c = s.curve;
  return {
    p: intHex(c.p),
    q: intHex(c.q),
    P: { x: intHex(c.P.x), y: intHex(c.P.y) },
    Ppub: { x: intHex(c.Ppub.x), y: intHex(c.Ppub.y) },
    hash: c.hash,
  };
}

function body(kmsId: string, period: PeriodKind, s: SuiteParams): { [k: string]: Json } {
  return { version: 1, suite: s.suite, kmsId, period, params: suiteJson(s) };
}

export function fingerprintOf(kmsId: string, period: PeriodKind, s: SuiteParams): string {
  return createHash('sha256')
    .update(FP_TAG)
    .update(Buffer.from([0]))
    .update(canonicalJson(body(kmsId, period, s)))
    .digest('hex');
}

/** Assembles (and fingerprints) a parameter set. */
export function buildParams(kmsId: string, period: PeriodKind, suite: SuiteParams): IbeParams {
  validateUri(kmsId);
  if (!isPeriodKind(period)) bad(`unknown period '${String(period)}'`);
  return { version: 1, kmsId, period, suite, fingerprint: fingerprintOf(kmsId, period, suite) };
}

/** The JSON text written to params.json (pretty-printed; the fingerprint is over the canonical form). */
export function paramsToJson(p: IbeParams): string {
  return JSON.stringify({ ...body(p.kmsId, p.period, p.suite), fingerprint: p.fingerprint }, null, 2) + '\n';
}

// --- strict parsing --------------------------------------------------------------------

function obj(v: unknown, keys: string[], what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} must be an object`);
  const got = Object.keys(v).sort();
  const want = [...keys].sort();
  if (got.length !== want.length || got.some((k, i) => k !== want[i])) bad(`${what} must have exactly the keys ${want.join(', ')}`);
  return v as Record<string, unknown>;
}

function hexInt(v: unknown, what: string): bigint {
  if (typeof v !== 'string' || !/^[1-9a-f][0-9a-f]*$/.test(v) || v.length > 2000) bad(`${what} must be minimal lowercase hex`);
  return BigInt('0x' + v);
}

function hexBytes(v: unknown, len: number, what: string): Uint8Array {
  if (typeof v !== 'string' || v.length !== 2 * len || !/^[0-9a-f]*$/.test(v)) bad(`${what} must be ${len} octets of lowercase hex`);
  return new Uint8Array(Buffer.from(v, 'hex'));
}

async function parseSuite(suite: string, v: unknown, engine?: Engine): Promise<SuiteParams> {
  if (suite === 'bls12381-bf') {
    const o = obj(v, ['dst', 'hash', 'Ppub'], 'params');
    if (o.dst !== DST) bad('params.dst is not the bls12381-bf DST');
    if (o.hash !== 'sha256') bad('params.hash must be sha256');
    const Ppub = hexBytes(o.Ppub, G1_COMPRESSED, 'params.Ppub');
    const e = await resolveEngine(engine);
    try {
      const canon = await e.g1Encode(Ppub, 'compressed');
      if (Buffer.compare(Buffer.from(canon), Buffer.from(Ppub)) !== 0) bad('params.Ppub is not canonical');
    } catch (err) {
      if (err instanceof IbeError) throw err;
      bad(`params.Ppub is not a valid G1 element (${(err as Error).message})`);
    }
    if (Buffer.compare(Buffer.from(Ppub), Buffer.from(e.g1Generator())) === 0) bad('params.Ppub equals P');
    return { suite, Ppub };
  }
  const o = obj(v, ['p', 'q', 'P', 'Ppub', 'hash'], 'params');
  if (!isHashName(o.hash)) bad('params.hash must be one of sha1, sha224, sha256, sha384, sha512');
  const pt = (x: unknown, what: string) => {
    const q = obj(x, ['x', 'y'], what);
    return { x: hexIntOrZero(q.x, `${what}.x`), y: hexIntOrZero(q.y, `${what}.y`) };
  };
  const curve: Rfc5091Params = { p: hexInt(o.p, 'params.p'), q: hexInt(o.q, 'params.q'), P: pt(o.P, 'params.P'), Ppub: pt(o.Ppub, 'params.Ppub'), hash: o.hash };
  validateRfc5091Params(curve);
  return { suite: 'rfc5091-bf', curve };
}

function hexIntOrZero(v: unknown, what: string): bigint {
  if (v === '0') return 0n;
  return hexInt(v, what);
}

/** Parses params.json text strictly, verifies the fingerprint and validates the group elements. */
export async function parseParams(text: string, engine?: Engine): Promise<IbeParams> {
  if (typeof text !== 'string' || text.length > 1 << 20) bad('params must be a JSON text under 1 MiB');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    bad(`params is not JSON (${(e as Error).message})`);
  }
  const o = obj(raw, ['version', 'suite', 'kmsId', 'period', 'params', 'fingerprint'], 'params file');
  if (o.version !== 1) bad('unsupported params version');
  if (!isSuiteName(o.suite)) bad(`unknown suite '${String(o.suite)}'`);
  if (!isPeriodKind(o.period)) bad(`unknown period '${String(o.period)}'`);
  try {
    validateUri(o.kmsId);
  } catch (e) {
    bad(`kmsId: ${(e as Error).message}`);
  }
  if (typeof o.fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(o.fingerprint)) bad('fingerprint must be 64 lowercase hex digits');
  const suite = await parseSuite(o.suite, o.params, engine);
  const fp = fingerprintOf(o.kmsId as string, o.period, suite);
  if (fp !== o.fingerprint) bad('fingerprint mismatch: the parameters were altered or corrupted');
  return { version: 1, kmsId: o.kmsId as string, period: o.period, suite, fingerprint: fp };
}
