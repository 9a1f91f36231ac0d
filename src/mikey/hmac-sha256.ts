// HMAC-SHA-256 (RFC 2104 / FIPS 180-4) for the MIKEY PRF and MACs, in plain JavaScript with the
// key's inner and outer pad states computed once. The PRF of our profile (PRF-HMAC-SHA-256,
// RFC 6043 §6.1) runs about two dozen HMACs with the same few keys per exchange, each over one
// or two blocks: node:crypto's createHmac costs ~4 µs per call in object setup alone, this
// about 1 µs. Checked against node:crypto on random keys and messages (test/mikey-hmac.test.ts).
// Secret state (pads, chaining values, schedule) is wiped by `wipe()` / after every call.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const BLOCK = 64;

/** The 64-word message schedule; one per module, wiped after every use. */
const W = new Int32Array(64);

/** One compression of the 64-octet block at `b[off..off+64)` into `h`. */
function compress(h: Int32Array, b: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++, off += 4) W[i] = (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = h[0]!, bb = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = bb;
    bb = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + bb) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + hh) | 0;
}

/** Scratch for the padded tail (at most two blocks). */
const TAIL = new Uint8Array(2 * BLOCK);

/**
 * Continues `h` (which has already absorbed `done` octets, a multiple of 64) over `parts`
 * and finishes it (padding and length), writing the digest into `out` (32 octets at `outOff`).
 */
function finish(h: Int32Array, done: number, parts: readonly Uint8Array[], out: Uint8Array, outOff: number): void {
  let fill = 0; // octets buffered in TAIL
  let total = done;
  for (const p of parts) {
    let i = 0;
    total += p.length;
    // Octets are copied one by one, not with TAIL.set(p.subarray(…)): a subarray of a small
    // array (≤ 64 octets, kept inside V8's heap) first moves it to a malloc'ed buffer of its own,
    // and this runs a few dozen times per exchange.
    if (fill > 0) {
      const n = Math.min(BLOCK - fill, p.length);
      for (let j = 0; j < n; j++) TAIL[fill + j] = p[j]!;
      fill += n;
      i = n;
      if (fill === BLOCK) {
        compress(h, TAIL, 0);
        fill = 0;
      }
    }
    for (; i + BLOCK <= p.length; i += BLOCK) compress(h, p, i);
    for (; i < p.length; i++) TAIL[fill++] = p[i]!;
  }
  TAIL[fill++] = 0x80;
  const end = fill > BLOCK - 8 ? 2 * BLOCK : BLOCK;
  TAIL.fill(0, fill, end - 8);
  const bits = total * 8;
  const hi = Math.floor(bits / 0x100000000);
  const lo = bits >>> 0;
  TAIL[end - 8] = hi >>> 24;
  TAIL[end - 7] = hi >>> 16;
  TAIL[end - 6] = hi >>> 8;
  TAIL[end - 5] = hi;
  TAIL[end - 4] = lo >>> 24;
  TAIL[end - 3] = lo >>> 16;
  TAIL[end - 2] = lo >>> 8;
  TAIL[end - 1] = lo;
  compress(h, TAIL, 0);
  if (end === 2 * BLOCK) compress(h, TAIL, BLOCK);
  for (let i = 0; i < 8; i++) {
    const v = h[i]!;
    out[outOff + 4 * i] = v >>> 24;
    out[outOff + 4 * i + 1] = v >>> 16;
    out[outOff + 4 * i + 2] = v >>> 8;
    out[outOff + 4 * i + 3] = v;
  }
  TAIL.fill(0);
  W.fill(0);
}

/** SHA-256 of the concatenation of `parts` (32 octets). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = IV.slice();
  const out = new Uint8Array(32);
  finish(h, 0, parts, out, 0);
  h.fill(0);
  return out;
}

/** An HMAC-SHA-256 key with its pad states precomputed; `wipe()` when done with it. */
export class HmacSha256Key {
  private readonly inner = IV.slice();
  private readonly outer = IV.slice();
  private readonly h = new Int32Array(8);
  private readonly mid = new Uint8Array(32);

  constructor(key: Uint8Array) {
    const k = new Uint8Array(BLOCK);
    k.set(key.length > BLOCK ? sha256(key) : key);
    for (let i = 0; i < BLOCK; i++) k[i]! ^= 0x36;
    compress(this.inner, k, 0);
    for (let i = 0; i < BLOCK; i++) k[i]! ^= 0x36 ^ 0x5c;
    compress(this.outer, k, 0);
    k.fill(0);
    W.fill(0);
  }

  /** HMAC(key, parts[0] ‖ parts[1] ‖ …), 32 octets. */
  mac(...parts: Uint8Array[]): Uint8Array {
    const out = new Uint8Array(32);
    this.h.set(this.inner);
    finish(this.h, BLOCK, parts, this.mid, 0);
    this.h.set(this.outer);
    finish(this.h, BLOCK, [this.mid], out, 0);
    this.h.fill(0);
    this.mid.fill(0);
    return out;
  }

  wipe(): void {
    this.inner.fill(0);
    this.outer.fill(0);
  }
}

/** One-shot HMAC-SHA-256. */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const k = new HmacSha256Key(key);
  try {
    return k.mac(...parts);
  } finally {
    k.wipe();
  }
}
