// Simple RFC 3830 / RFC 6043 payload bodies: T (timestamp), TR (timestamp with role), RAND,
// RANDR (RAND with role), ERR (error) and General Extension. RANDs shorter than 128 bits are refused. Each decoder starts after the
// payload's Next payload octet; each encoder writes the body after it.
import { Reader, Writer, checkBytes, checkUint } from './bytes.js';
import { MikeyError, encodeError } from './errors.js';
import type { ErrPayload, ExtPayload, RandPayload, RandrPayload, TPayload, TrPayload } from './model.js';
import { RAND_ROLE_NAMES, TR_ROLE_NAMES, TS_LENGTHS } from './registry.js';

/** RFC 3830 §6.11: RAND SHOULD be at least 128 bits; we require it (security.md §3.5 rule 5). */
export const MIN_RAND = 16;

function readTs(r: Reader, tsType: number, at: number): bigint {
  const n = TS_LENGTHS[tsType];
  if (n === undefined) {
    throw new MikeyError('MIKEY_BAD_VALUE', at, `unknown TS type ${tsType} (0 NTP-UTC, 1 NTP, 2 COUNTER, 3 NTP-UTC-32)`);
  }
  r.need(n, 'TS value');
  if (n === 8) {
    const hi = r.u32('TS value');
    const lo = r.u32('TS value');
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  return BigInt(r.u32('TS value'));
}

function writeTs(w: Writer, tsType: number, value: bigint, what: string): void {
  const n = TS_LENGTHS[tsType];
  if (n === undefined) throw encodeError(`${what}: unknown TS type ${tsType}`);
  if (typeof value !== 'bigint') throw encodeError(`${what}: value must be a bigint`);
  const max = n === 8 ? 0xffffffffffffffffn : 0xffffffffn;
  if (value < 0n || value > max) throw encodeError(`${what}: value out of range for a ${n * 8}-bit TS type`);
  if (n === 8) w.u32(Number(value >> 32n), 'TS value');
  w.u32(Number(value & 0xffffffffn), 'TS value');
}

export function decodeT(r: Reader): TPayload {
  const at = r.at;
  const tsType = r.u8('T TS type');
  return { kind: 'T', tsType, value: readTs(r, tsType, at) };
}
export function encodeT(w: Writer, p: TPayload): void {
  checkUint(p.tsType, 255, 'T TS type');
  w.u8(p.tsType, 'TS type');
  writeTs(w, p.tsType, p.value, 'T');
}

export function decodeTr(r: Reader): TrPayload {
  const roleAt = r.at;
  const role = r.u8('TR TS role');
  if (!TR_ROLE_NAMES[role]) throw new MikeyError('MIKEY_BAD_VALUE', roleAt, `unknown TR TS role ${role}`);
  const at = r.at;
  const tsType = r.u8('TR TS type');
  return { kind: 'TR', role, tsType, value: readTs(r, tsType, at) };
}
export function encodeTr(w: Writer, p: TrPayload): void {
  checkUint(p.role, 255, 'TR role');
  if (!TR_ROLE_NAMES[p.role]) throw encodeError(`TR: unknown TS role ${p.role}`);
  checkUint(p.tsType, 255, 'TR TS type');
  w.u8(p.role, 'TS role');
  w.u8(p.tsType, 'TS type');
  writeTs(w, p.tsType, p.value, 'TR');
}

export function decodeRand(r: Reader): RandPayload {
  const at = r.at;
  const n = r.u8('RAND len');
  if (n < MIN_RAND) throw new MikeyError('MIKEY_BAD_LENGTH', at, `RAND len is ${n}, at least ${MIN_RAND} octets are required`);
  return { kind: 'RAND', rand: r.bytes(n, 'RAND') };
}
export function encodeRand(w: Writer, p: RandPayload): void {
  checkBytes(p.rand, 'RAND', 255, MIN_RAND);
  w.u8(p.rand.length, 'RAND len');
  w.bytes(p.rand, 'RAND');
}

export function decodeRandr(r: Reader): RandrPayload {
  const roleAt = r.at;
  const role = r.u8('RANDR role');
  if (!RAND_ROLE_NAMES[role]) throw new MikeyError('MIKEY_BAD_VALUE', roleAt, `unknown RANDR role ${role}`);
  const at = r.at;
  const n = r.u8('RANDR len');
  if (n < MIN_RAND) throw new MikeyError('MIKEY_BAD_LENGTH', at, `RANDR len is ${n}, at least ${MIN_RAND} octets are required`);
  return { kind: 'RANDR', role, rand: r.bytes(n, 'RANDR') };
}
export function encodeRandr(w: Writer, p: RandrPayload): void {
  checkUint(p.role, 255, 'RANDR role');
  if (!RAND_ROLE_NAMES[p.role]) throw encodeError(`RANDR: unknown role ${p.role}`);
  checkBytes(p.rand, 'RANDR', 255, MIN_RAND);
  w.u8(p.role, 'RANDR role');
  w.u8(p.rand.length, 'RANDR len');
  w.bytes(p.rand, 'RANDR');
}

export function decodeErr(r: Reader): ErrPayload {
  return { kind: 'ERR', errNo: r.u8('ERR error no'), reserved: r.u16('ERR reserved') };
}
export function encodeErr(w: Writer, p: ErrPayload): void {
  w.u8(p.errNo, 'ERR error no');
  w.u16(p.reserved ?? 0, 'ERR reserved');
}

export function decodeExt(r: Reader): ExtPayload {
  const extType = r.u8('EXT type');
  const n = r.u16('EXT length');
  return { kind: 'EXT', extType, data: r.bytes(n, 'EXT data') };
}
export function encodeExt(w: Writer, p: ExtPayload): void {
  checkBytes(p.data, 'EXT data');
  w.u8(p.extType, 'EXT type');
  w.u16(p.data.length, 'EXT length');
  w.bytes(p.data, 'EXT data');
}
