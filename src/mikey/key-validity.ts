// Key validity data (RFC 3830 §6.14), shared by Key data, SK, ECCPT and DH payloads:
// KV 0 = none, 1 = SPI/MKI (length-prefixed), 2 = Interval (From/To, each length-prefixed).
import { Reader, Writer, checkBytes } from './bytes.js';
import { MikeyError, encodeError } from './errors.js';
import type { KeyValidity } from './model.js';

export function decodeKv(r: Reader, kvType: number, kvAt: number): KeyValidity {
  switch (kvType) {
    case 0:
      return { type: 0 };
    case 1: {
      const n = r.u8('KV SPI length');
      return { type: 1, spi: r.bytes(n, 'KV SPI/MKI') };
    }
    case 2: {
      const nf = r.u8('KV Valid From length');
      const from = r.bytes(nf, 'KV Valid From');
      const nt = r.u8('KV Valid To length');
      return { type: 2, from, to: r.bytes(nt, 'KV Valid To') };
    }
    default:
      throw new MikeyError('MIKEY_BAD_VALUE', kvAt, `unknown key validity type ${kvType} (0 Null, 1 SPI/MKI, 2 Interval)`);
  }
}

export function kvType(kv: KeyValidity | undefined, what: string): number {
  if (kv === undefined) return 0;
  if (kv.type !== 0 && kv.type !== 1 && kv.type !== 2) throw encodeError(`${what}: unknown key validity type`);
  return kv.type;
}

export function encodeKv(w: Writer, kv: KeyValidity | undefined, what: string): void {
  if (!kv || kv.type === 0) return;
  if (kv.type === 1) {
    checkBytes(kv.spi, `${what} SPI`, 255);
    w.u8(kv.spi.length, 'SPI length');
    w.bytes(kv.spi, 'SPI');
    return;
  }
  if (kv.type === 2) {
    checkBytes(kv.from, `${what} Valid From`, 255);
    checkBytes(kv.to, `${what} Valid To`, 255);
    w.u8(kv.from.length, 'VF length');
    w.bytes(kv.from, 'VF');
    w.u8(kv.to.length, 'VT length');
    w.bytes(kv.to, 'VT');
    return;
  }
  throw encodeError(`${what}: unknown key validity type`);
}
