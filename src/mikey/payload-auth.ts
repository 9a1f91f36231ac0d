// Authentication payload bodies: V (verification MAC, RFC 3830 §6.9), SIGN (signature, §6.5;
// no Next payload field, always last) and CHASH (certificate hash, §6.8). MAC and hash lengths
// are implied by their algorithm, so an unknown algorithm cannot be sized and is rejected.
import { Reader, Writer, checkBytes, checkUint } from './bytes.js';
import { MikeyError, encodeError } from './errors.js';
import type { ChashPayload, SignPayload, VPayload } from './model.js';
import { HASH_LENGTHS, MAC_LENGTHS } from './registry.js';

export function macLength(alg: number, at: number, what: string): number {
  const n = MAC_LENGTHS[alg];
  if (n === undefined) {
    throw new MikeyError('MIKEY_BAD_VALUE', at, `unknown ${what} ${alg} (0 NULL, 1 HMAC-SHA-1-160, 2 HMAC-SHA-256-256)`);
  }
  return n;
}

export function checkMac(alg: number, mac: Uint8Array, what: string): void {
  checkUint(alg, 255, `${what} alg`);
  const n = MAC_LENGTHS[alg];
  if (n === undefined) throw encodeError(`${what}: unknown MAC alg ${alg}`);
  checkBytes(mac, `${what} MAC`, n, n);
}

export function decodeV(r: Reader): VPayload {
  const at = r.at;
  const authAlg = r.u8('V auth alg');
  return { kind: 'V', authAlg, mac: r.bytes(macLength(authAlg, at, 'V auth alg'), 'V MAC') };
}
export function encodeV(w: Writer, p: VPayload): void {
  checkMac(p.authAlg, p.mac, 'V');
  w.u8(p.authAlg, 'V auth alg');
  w.bytes(p.mac, 'V MAC');
}

/** SIGN: the caller has NOT consumed a Next payload octet (SIGN has none). */
export function decodeSign(r: Reader): SignPayload {
  const v = r.u16('SIGN type/length');
  return { kind: 'SIGN', sType: v >>> 12, signature: r.bytes(v & 0x0fff, 'SIGN signature') };
}
export function encodeSign(w: Writer, p: SignPayload): void {
  checkUint(p.sType, 15, 'SIGN S type');
  checkBytes(p.signature, 'SIGN signature', 0x0fff);
  w.u16((p.sType << 12) | p.signature.length, 'SIGN type/length');
  w.bytes(p.signature, 'SIGN signature');
}

export function decodeChash(r: Reader): ChashPayload {
  const at = r.at;
  const hashFunc = r.u8('CHASH hash func');
  const n = HASH_LENGTHS[hashFunc];
  if (n === undefined) throw new MikeyError('MIKEY_BAD_VALUE', at, `unknown CHASH hash func ${hashFunc} (0 SHA-1, 1 MD5, 2 SHA-256)`);
  return { kind: 'CHASH', hashFunc, hash: r.bytes(n, 'CHASH hash') };
}
export function encodeChash(w: Writer, p: ChashPayload): void {
  checkUint(p.hashFunc, 255, 'CHASH hash func');
  const n = HASH_LENGTHS[p.hashFunc];
  if (n === undefined) throw encodeError(`CHASH: unknown hash func ${p.hashFunc}`);
  checkBytes(p.hash, 'CHASH hash', n, n);
  w.u8(p.hashFunc, 'CHASH hash func');
  w.bytes(p.hash, 'CHASH hash');
}
