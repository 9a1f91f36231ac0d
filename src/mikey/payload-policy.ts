// The SP (security policy) payload body (RFC 3830 §6.10) with its TLV parameter list; for
// Prot type 0 (SRTP) the TLV types 0–12 of §6.10.1 are named by the registry. The TLVs must
// fill the declared parameter length exactly, a parameter type may appear only once, and an SRTP
// parameter value is never empty (GStreamer crashes on those: security.md §3.6).
import { Reader, Writer, checkBytes, checkUint } from './bytes.js';
import { MikeyError, encodeError } from './errors.js';
import type { SpPayload, SrtpParam } from './model.js';

export function decodeSp(r: Reader): SpPayload {
  const policyNo = r.u8('SP policy no');
  const protType = r.u8('SP prot type');
  const n = r.u16('SP policy param length');
  const tlv = r.sub(n, 'SP policy parameters');
  const params: SrtpParam[] = [];
  const seen = new Set<number>();
  while (tlv.remaining > 0) {
    const at = tlv.at;
    const type = tlv.u8('SP parameter type');
    const len = tlv.u8('SP parameter length');
    if (len === 0 && protType === 0) throw new MikeyError('MIKEY_BAD_LENGTH', at + 1, `SRTP policy parameter ${type} has an empty value`);
    const value = tlv.bytes(len, `SP parameter ${type} value`);
    if (seen.has(type)) throw new MikeyError('MIKEY_DUPLICATE', at, `SP parameter type ${type} appears twice in policy ${policyNo}`);
    seen.add(type);
    params.push({ type, value });
  }
  return { kind: 'SP', policyNo, protType, params };
}

export function encodeSp(w: Writer, p: SpPayload): void {
  checkUint(p.policyNo, 255, 'SP policy no');
  checkUint(p.protType, 255, 'SP prot type');
  if (!Array.isArray(p.params)) throw encodeError('SP params must be an array');
  const seen = new Set<number>();
  let total = 0;
  for (const q of p.params) {
    checkUint(q.type, 255, 'SP parameter type');
    checkBytes(q.value, `SP parameter ${q.type} value`, 255, p.protType === 0 ? 1 : 0);
    if (seen.has(q.type)) throw encodeError(`SP parameter type ${q.type} given twice`);
    seen.add(q.type);
    total += 2 + q.value.length;
  }
  w.u8(p.policyNo, 'SP policy no');
  w.u8(p.protType, 'SP prot type');
  w.u16(total, 'SP policy param length');
  for (const q of p.params) {
    w.u8(q.type, 'SP parameter type');
    w.u8(q.value.length, 'SP parameter length');
    w.bytes(q.value, 'SP parameter value');
  }
}

/** Reads an SP parameter value as an unsigned big-endian integer (up to 6 octets). */
export function spParamInt(value: Uint8Array): number | undefined {
  if (value.length === 0 || value.length > 6) return undefined;
  let v = 0;
  for (const b of value) v = v * 256 + b;
  return v;
}
