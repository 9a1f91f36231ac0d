// The DER BFCiphertextBlock of ciphertext.ts on the hot path, straight between octets and DER:
// U's coordinates stay big-endian octets instead of going through bigints, and the encoding is
// written into one buffer. Same bytes and the same strictness as encodeCiphertext /
// decodeCiphertext (src/ibe/der.ts's rules: definite minimal lengths, minimal non-negative
// INTEGERs, no trailing bytes); test/ibe-ciphertext-octets.test.ts holds the two paths equal on
// random values and on every single-octet change, truncation and extension of valid encodings.
import { copyBytes, freshBytes } from '../util/byte-slab.js';
import { BF_VERSION } from './ciphertext.js';
import { checkIntBody, derHeaderSize, fail, readDerHeader, TAG_INT, TAG_OCTETS, TAG_SEQ, writeDerHeader } from './der.js';
import { IbeError } from './errors.js';

/** Offset of the first significant octet of an unsigned big-endian value (the last one if all are zero). */
function firstSignificant(be: Uint8Array): number {
  let i = 0;
  while (i < be.length - 1 && be[i] === 0) i++;
  return i;
}

/** Length of the minimal INTEGER body for be[from..]: a 0x00 is added when the top bit is set. */
function intBodyLength(be: Uint8Array, from: number): number {
  return be.length - from + (be[from]! & 0x80 ? 1 : 0);
}

function writeInt(out: Uint8Array, o: number, be: Uint8Array, from: number): number {
  const len = intBodyLength(be, from);
  o = writeDerHeader(out, o, TAG_INT, len);
  if (be[from]! & 0x80) out[o++] = 0;
  out.set(be.subarray(from), o);
  return o + be.length - from;
}

/**
 * encodeCiphertext({ ux, uy, v, w }) for x and y given as unsigned big-endian octets (any
 * length, leading zeros allowed), byte for byte.
 */
export function encodeCiphertextOctets(x: Uint8Array, y: Uint8Array, v: Uint8Array, w: Uint8Array): Uint8Array {
  if (x.length === 0 || y.length === 0) throw new IbeError('IBE_BAD_INPUT', 'U coordinates must be at least one octet');
  const fx = firstSignificant(x);
  const fy = firstSignificant(y);
  const lx = intBodyLength(x, fx);
  const ly = intBodyLength(y, fy);
  const uLen = derHeaderSize(lx) + lx + derHeaderSize(ly) + ly;
  const body = 3 + derHeaderSize(uLen) + uLen + derHeaderSize(v.length) + v.length + derHeaderSize(w.length) + w.length;
  const out = freshBytes(derHeaderSize(body) + body);
  let o = writeDerHeader(out, 0, TAG_SEQ, body);
  o = writeDerHeader(out, o, TAG_INT, 1);
  out[o++] = Number(BF_VERSION);
  o = writeDerHeader(out, o, TAG_SEQ, uLen);
  o = writeInt(out, o, x, fx);
  o = writeInt(out, o, y, fy);
  o = writeDerHeader(out, o, TAG_OCTETS, v.length);
  out.set(v, o);
  o = writeDerHeader(out, o + v.length, TAG_OCTETS, w.length);
  out.set(w, o);
  return out;
}

/** The element of `tag` at buf[pos] inside a parent ending at `end`: its body bounds. */
function element(buf: Uint8Array, pos: number, end: number, tag: number, what: string): { off: number; end: number } {
  const h = readDerHeader(buf, pos, end);
  if (h.tag !== tag) fail(`${what}: unexpected tag 0x${h.tag.toString(16)}`);
  return h;
}

/** The value of a minimal non-negative INTEGER body without its sign octet. */
function unsigned(body: Uint8Array): Uint8Array {
  checkIntBody(body);
  return body.length > 1 && body[0] === 0 ? body.subarray(1) : body;
}

export interface CiphertextOctets {
  /** U's coordinates: minimal unsigned big-endian octets (views into the input) */
  x: Uint8Array;
  y: Uint8Array;
  /** copies */
  v: Uint8Array;
  w: Uint8Array;
}

/** decodeCiphertext with U's coordinates as octets; rejects exactly what it rejects (IBE_BAD_CIPHERTEXT). */
export function decodeCiphertextOctets(bytes: Uint8Array): CiphertextOctets {
  try {
    if (!(bytes instanceof Uint8Array)) fail('input must be a Uint8Array');
    const top = element(bytes, 0, bytes.length, TAG_SEQ, 'BFCiphertextBlock');
    if (top.end !== bytes.length) fail('trailing bytes');
    const ver = element(bytes, top.off, top.end, TAG_INT, 'version');
    const vb = unsigned(bytes.subarray(ver.off, ver.end));
    if (vb.length !== 1 || vb[0] !== Number(BF_VERSION)) throw new IbeError('IBE_BAD_CIPHERTEXT', 'unsupported version');
    const u = element(bytes, ver.end, top.end, TAG_SEQ, 'FpPoint');
    const ex = element(bytes, u.off, u.end, TAG_INT, 'x');
    const ey = element(bytes, ex.end, u.end, TAG_INT, 'y');
    if (ey.end !== u.end) fail('FpPoint: expected SEQUENCE of 2');
    const ev = element(bytes, u.end, top.end, TAG_OCTETS, 'v');
    const ew = element(bytes, ev.end, top.end, TAG_OCTETS, 'w');
    if (ew.end !== top.end) fail('BFCiphertextBlock: expected SEQUENCE of 4');
    return {
      x: unsigned(bytes.subarray(ex.off, ex.end)),
      y: unsigned(bytes.subarray(ey.off, ey.end)),
      v: copyBytes(bytes, ev.off, ev.end),
      w: copyBytes(bytes, ew.off, ew.end),
    };
  } catch (e) {
    if (e instanceof IbeError) throw new IbeError('IBE_BAD_CIPHERTEXT', `bad BFCiphertextBlock: ${e.message}`);
    throw e;
  }
}
