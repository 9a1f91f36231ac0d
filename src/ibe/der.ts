// A small strict DER codec: exactly what RFC 5091's ASN.1 structures need (SEQUENCE,
// non-negative INTEGER, OCTET STRING, OBJECT IDENTIFIER). Strict means: definite minimal
// lengths, minimal integer encodings, no negative integers, no trailing bytes. Anything else is
// IbeError('IBE_DER'), so a bit flip can never be silently "repaired".
import { bytesToBigint } from '../util/bigint.js';
import { IbeError } from './errors.js';

export type DerNode =
  | { kind: 'seq'; items: DerNode[] }
  | { kind: 'int'; value: bigint }
  | { kind: 'octets'; value: Uint8Array }
  | { kind: 'oid'; value: string };

export const TAG_INT = 0x02;
export const TAG_OCTETS = 0x04;
const TAG_OID = 0x06;
export const TAG_SEQ = 0x30;
/** Refuse absurd sizes early (our largest structure is a few KiB plus the plaintext). */
export const MAX_LEN = 1 << 24;

export function fail(msg: string): never {
  throw new IbeError('IBE_DER', msg);
}

/** Octets of a TLV header (tag + definite minimal length) for a body of `len` octets. */
export function derHeaderSize(len: number): number {
  let n = 2;
  if (len >= 0x80) for (let v = len; v > 0; v = Math.floor(v / 256)) n++;
  return n;
}

/** Writes tag and minimal definite length at out[o]; returns the offset after them. */
export function writeDerHeader(out: Uint8Array, o: number, tag: number, len: number): number {
  out[o++] = tag;
  if (len < 0x80) {
    out[o++] = len;
    return o;
  }
  const n = derHeaderSize(len) - 2;
  out[o++] = 0x80 | n;
  for (let i = n - 1; i >= 0; i--) out[o + i] = Math.floor(len / 256 ** (n - 1 - i)) & 0xff;
  return o + n;
}

function tlv(tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(derHeaderSize(body.length) + body.length);
  out.set(body, writeDerHeader(out, 0, tag, body.length));
  return out;
}

function intBody(v: bigint): Uint8Array {
  if (v < 0n) fail('negative INTEGER not supported');
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return new Uint8Array(bytes);
}

function oidBody(oid: string): Uint8Array {
  const arcs = oid.split('.').map((a) => {
    if (!/^(0|[1-9][0-9]*)$/.test(a)) fail(`bad OID arc '${a}'`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) fail('bad OID');
  const vals = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (let v of vals) {
    const chunk = [Number(v & 0x7fn)];
    v >>= 7n;
    while (v > 0n) {
      chunk.unshift(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(...chunk);
  }
  return new Uint8Array(out);
}

export function derEncode(node: DerNode): Uint8Array {
  switch (node.kind) {
    case 'int':
      return tlv(TAG_INT, intBody(node.value));
    case 'octets':
      return tlv(TAG_OCTETS, node.value);
    case 'oid':
      return tlv(TAG_OID, oidBody(node.value));
    case 'seq': {
      const parts = node.items.map(derEncode);
      const total = parts.reduce((n, p) => n + p.length, 0);
      const body = new Uint8Array(total);
      let o = 0;
      for (const p of parts) {
        body.set(p, o);
        o += p.length;
      }
      return tlv(TAG_SEQ, body);
    }
  }
}

/**
 * The TLV header at buf[pos]: tag, start of the body and its end, with the strict length rules
 * (definite, minimal, at most 3 length octets and MAX_LEN, inside buf[0..limit), e.g. the
 * enclosing SEQUENCE).
 */
export function readDerHeader(buf: Uint8Array, pos: number, limit = buf.length): { tag: number; off: number; end: number } {
  if (pos + 2 > limit) fail('truncated header');
  const tag = buf[pos]!;
  const lenByte = buf[pos + 1]!;
  let off = pos + 2;
  let len: number;
  if (lenByte < 0x80) {
    len = lenByte;
  } else {
    const n = lenByte & 0x7f;
    if (n === 0) fail('indefinite length');
    if (n > 3) fail('length too large');
    if (off + n > limit) fail('truncated length');
    if (buf[off] === 0) fail('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + i]!;
    if (len < 0x80) fail('non-minimal length');
    off += n;
  }
  if (len > MAX_LEN) fail('length too large');
  const end = off + len;
  if (end > limit) fail('truncated value');
  return { tag, off, end };
}

/** The strict INTEGER body rules (non-empty, non-negative, minimal). */
export function checkIntBody(body: Uint8Array): void {
  if (body.length === 0) fail('empty INTEGER');
  if (body[0]! & 0x80) fail('negative INTEGER');
  if (body.length > 1 && body[0] === 0 && !(body[1]! & 0x80)) fail('non-minimal INTEGER');
}

function parseAt(buf: Uint8Array, pos: number, depth: number, limit = buf.length): { node: DerNode; end: number } {
  if (depth > 8) fail('nesting too deep');
  const { tag, off, end } = readDerHeader(buf, pos, limit);
  const len = end - off;
  const body = buf.subarray(off, end);
  switch (tag) {
    case TAG_INT: {
      checkIntBody(body);
      return { node: { kind: 'int', value: bytesToBigint(body) }, end };
    }
    case TAG_OCTETS:
      return { node: { kind: 'octets', value: body.slice() }, end };
    case TAG_OID: {
      if (len === 0) fail('empty OID');
      if (body[len - 1]! & 0x80) fail('truncated OID arc');
      const vals: bigint[] = [];
      let v = 0n;
      let first = true;
      for (const b of body) {
        if (first && b === 0x80) fail('non-minimal OID arc');
        v = (v << 7n) | BigInt(b & 0x7f);
        first = false;
        if (!(b & 0x80)) {
          vals.push(v);
          v = 0n;
          first = true;
        }
      }
      const a0 = vals[0]! < 80n ? vals[0]! / 40n : 2n;
      const arcs = [a0, vals[0]! - a0 * 40n, ...vals.slice(1)];
      return { node: { kind: 'oid', value: arcs.join('.') }, end };
    }
    case TAG_SEQ: {
      const items: DerNode[] = [];
      let p = off;
      while (p < end) {
        const r = parseAt(buf, p, depth + 1, end);
        items.push(r.node);
        p = r.end;
      }
      return { node: { kind: 'seq', items }, end };
    }
    default:
      fail(`unexpected tag 0x${tag.toString(16)}`);
  }
}

/** Decodes exactly one DER value spanning all of `buf`. */
export function derDecode(buf: Uint8Array): DerNode {
  if (!(buf instanceof Uint8Array)) fail('input must be a Uint8Array');
  const { node, end } = parseAt(buf, 0, 0);
  if (end !== buf.length) fail('trailing bytes');
  return node;
}

// --- typed accessors used by the structure codecs ---------------------------------------

export function asSeq(n: DerNode | undefined, count: number, what: string): DerNode[] {
  if (!n || n.kind !== 'seq' || n.items.length !== count) fail(`${what}: expected SEQUENCE of ${count}`);
  return n.items;
}
export function asInt(n: DerNode | undefined, what: string): bigint {
  if (!n || n.kind !== 'int') fail(`${what}: expected INTEGER`);
  return n.value;
}
export function asOctets(n: DerNode | undefined, what: string): Uint8Array {
  if (!n || n.kind !== 'octets') fail(`${what}: expected OCTET STRING`);
  return n.value;
}
export function asOid(n: DerNode | undefined, what: string): string {
  if (!n || n.kind !== 'oid') fail(`${what}: expected OBJECT IDENTIFIER`);
  return n.value;
}
