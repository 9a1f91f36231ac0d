// HMAC-SHA-256 (RFC 2104 / FIPS 180-4) for the MIKEY PRF and MACs, in plain JavaScript with the
// key's inner and outer pad states computed once. The PRF of our profile (PRF-HMAC-SHA-256,
// RFC 6043 §6.1) runs about two dozen HMACs with the same few keys per exchange, each over one
// or two blocks: node:crypto's createHmac costs ~4 µs per call in object setup alone, this
// about 1 µs. Checked against node:crypto on random keys and messages (test/mikey-hmac.test.ts).
// Secret state (pads, chaining values, schedule, key block) is wiped by `wipe()` / after every
// call. Module-level scratch: one computation at a time per thread (nothing here awaits).
// An engine can lend a faster compression (`useSha256Blocks`: the native addon runs OpenSSL's,
// with the CPU's SHA extensions, ~35 ns a block against ~380 ns here); the bytes are the same
// (test/mikey-hmac.test.ts runs every check on both paths).

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
/** Scratch chaining value, inner digest and key block of one computation (wiped after it). */
const H = new Int32Array(8);
const MID = new Uint8Array(32);
const KEY = new Uint8Array(BLOCK);

/** The padding's last 8 octets: `total` octets as a big-endian bit count, ending at buf[end]. */
function putBitLength(buf: Uint8Array, end: number, total: number): void {
  const bits = total * 8;
  const hi = Math.floor(bits / 0x100000000);
  const lo = bits >>> 0;
  buf[end - 8] = hi >>> 24;
  buf[end - 7] = hi >>> 16;
  buf[end - 6] = hi >>> 8;
  buf[end - 5] = hi;
  buf[end - 4] = lo >>> 24;
  buf[end - 3] = lo >>> 16;
  buf[end - 2] = lo >>> 8;
  buf[end - 1] = lo;
}

/** The digest: the 8 words of `h`, big-endian, into out[outOff, outOff + 32). */
function putDigest(h: Int32Array, out: Uint8Array, outOff: number): void {
  for (let i = 0; i < 8; i++) {
    const v = h[i]!;
    out[outOff + 4 * i] = v >>> 24;
    out[outOff + 4 * i + 1] = v >>> 16;
    out[outOff + 4 * i + 2] = v >>> 8;
    out[outOff + 4 * i + 3] = v;
  }
}

/**
 * Absorbs `p` into `h`: whole blocks straight from `p`, the rest buffered in TAIL, which holds
 * `fill` octets before; returns how many it holds after.
 */
function absorb(h: Int32Array, p: Uint8Array, fill: number): number {
  let i = 0;
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
  return fill;
}

/**
 * Finishes `h`, which has absorbed `total` octets in all (the blocks before plus the `fill`
 * octets in TAIL): padding and length, the digest into `out` (32 octets at `outOff`); wipes
 * TAIL and W.
 */
function finish(h: Int32Array, fill: number, total: number, out: Uint8Array, outOff: number): void {
  TAIL[fill++] = 0x80;
  const end = fill > BLOCK - 8 ? 2 * BLOCK : BLOCK;
  TAIL.fill(0, fill, end - 8);
  putBitLength(TAIL, end, total);
  compress(h, TAIL, 0);
  if (end === 2 * BLOCK) compress(h, TAIL, BLOCK);
  putDigest(h, out, outOff);
  TAIL.fill(0);
  W.fill(0);
}

/** `blocks` compressions of buf[32 ..] into the chaining value at buf[0, 32) (host-order words). */
export type Sha256BlocksFn = (buf: Uint8Array, blocks: number) => void;
let blocksFn: Sha256BlocksFn | undefined;
/** Longest padded input of the lent compression, in blocks (longer inputs run here). */
const ACC_BLOCKS = 32;
/** Scratch of the lent compression: the chaining value, then the padded blocks. Over 64 octets,
 *  so it has an ArrayBuffer of its own from the start (the native side reads it in place). */
const ACC = new Uint8Array(32 + 64 * ACC_BLOCKS);
const ACC32 = new Int32Array(ACC.buffer, 0, 8);
let accPos = 32;

/** Lends this module a SHA-256 compression (an engine's; undefined: back to JavaScript's). */
export function useSha256Blocks(fn: Sha256BlocksFn | undefined): void {
  blocksFn = fn;
}

/** Whether a lent compression is in use. */
export function sha256BlocksLent(): boolean {
  return blocksFn !== undefined;
}

function accStart(h: Int32Array, hOff: number): void {
  for (let i = 0; i < 8; i++) ACC32[i] = h[hOff + i]!;
  accPos = 32;
}

/** Appends `p`; false (the scratch wiped) when the padded input would not fit. */
function accPut(p: Uint8Array): boolean {
  if (accPos + p.length + 9 > ACC.length) {
    ACC.fill(0, 0, accPos);
    return false;
  }
  ACC.set(p, accPos); // from a small on-heap array too: set() copies without moving it out
  accPos += p.length;
  return true;
}

/** Pads (`total` octets hashed in all), compresses through the lent function, writes the digest; wipes the scratch. */
function accEnd(total: number, out: Uint8Array, outOff: number): void {
  const blocks = Math.ceil((accPos - 32 + 9) / 64);
  const end = 32 + 64 * blocks;
  ACC[accPos] = 0x80;
  ACC.fill(0, accPos + 1, end - 8);
  putBitLength(ACC, end, total);
  blocksFn!(ACC, blocks);
  putDigest(ACC32, out, outOff);
  ACC.fill(0, 0, end);
}

/** One lent compression of KEY into the state that starts from IV, written to pads[off, off + 8). */
function accKeyBlock(pads: Int32Array, off: number): void {
  accStart(IV, 0);
  ACC.set(KEY, 32);
  blocksFn!(ACC, 1);
  for (let i = 0; i < 8; i++) pads[off + i] = ACC32[i]!;
  ACC.fill(0, 0, 96);
}

/** SHA-256 of the concatenation of `parts` (32 octets). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(32);
  if (blocksFn) {
    accStart(IV, 0);
    let total = 0;
    let fits = true;
    for (const p of parts) {
      if (!(fits = accPut(p))) break;
      total += p.length;
    }
    if (fits) {
      accEnd(total, out, 0);
      return out;
    }
  }
  H.set(IV);
  let total = 0;
  let fill = 0;
  for (const p of parts) {
    fill = absorb(H, p, fill);
    total += p.length;
  }
  finish(H, fill, total, out, 0);
  H.fill(0);
  return out;
}

/**
 * An HMAC-SHA-256 key with its pad states precomputed; `wipe()` when done with it. One typed
 * array per key (the two states) and one per result: the PRF makes a dozen keys and thirty
 * MACs per exchange, and their garbage is a measurable part of the daemon's collection work.
 */
export class HmacSha256Key {
  /** inner pad state at [0, 8), outer at [8, 16) */
  private readonly pads = new Int32Array(16);

  constructor(key: Uint8Array) {
    if (key.length > BLOCK) {
      const d = sha256(key);
      for (let i = 0; i < 32; i++) KEY[i] = d[i]!;
      d.fill(0);
    } else {
      for (let i = 0; i < key.length; i++) KEY[i] = key[i]!;
    }
    for (let i = 0; i < BLOCK; i++) KEY[i]! ^= 0x36;
    this.padState(0);
    for (let i = 0; i < BLOCK; i++) KEY[i]! ^= 0x36 ^ 0x5c;
    this.padState(8);
    KEY.fill(0);
    H.fill(0);
    W.fill(0);
  }

  /** The state after the padded key block in KEY, into pads[off, off + 8). */
  private padState(off: number): void {
    if (blocksFn) return accKeyBlock(this.pads, off);
    H.set(IV);
    compress(H, KEY, 0);
    for (let i = 0; i < 8; i++) this.pads[off + i] = H[i]!;
  }

  /** HMAC(key, parts[0] ‖ parts[1] ‖ …), 32 octets. */
  mac(...parts: Uint8Array[]): Uint8Array {
    if (blocksFn) {
      accStart(this.pads, 0);
      let total = BLOCK;
      let fits = true;
      for (const p of parts) {
        if (!(fits = accPut(p))) break;
        total += p.length;
      }
      if (fits) return this.accOuter(total);
    }
    for (let i = 0; i < 8; i++) H[i] = this.pads[i]!;
    let total = BLOCK;
    let fill = 0;
    for (const p of parts) {
      fill = absorb(H, p, fill);
      total += p.length;
    }
    return this.outer(fill, total);
  }

  /** HMAC(key, a ‖ b), 32 octets: mac() without the argument array (the PRF's two shapes). */
  mac2(a: Uint8Array, b?: Uint8Array): Uint8Array {
    if (blocksFn) {
      accStart(this.pads, 0);
      if (accPut(a) && (!b || accPut(b))) return this.accOuter(BLOCK + a.length + (b ? b.length : 0));
    }
    for (let i = 0; i < 8; i++) H[i] = this.pads[i]!;
    let fill = absorb(H, a, 0);
    if (b) fill = absorb(H, b, fill);
    return this.outer(fill, BLOCK + a.length + (b ? b.length : 0));
  }

  /** accelerated outer(): the inner input is in the scratch, `total` octets in all. */
  private accOuter(total: number): Uint8Array {
    accEnd(total, MID, 0);
    accStart(this.pads, 8);
    accPut(MID);
    const out = new Uint8Array(32);
    accEnd(BLOCK + 32, out, 0);
    MID.fill(0);
    return out;
  }

  /** Finishes the inner hash (H, `fill` octets in TAIL, `total` in all) and runs the outer one over it. */
  private outer(fill: number, total: number): Uint8Array {
    finish(H, fill, total, MID, 0);
    for (let i = 0; i < 8; i++) H[i] = this.pads[8 + i]!;
    const out = new Uint8Array(32);
    finish(H, absorb(H, MID, 0), BLOCK + 32, out, 0);
    H.fill(0);
    MID.fill(0);
    return out;
  }

  wipe(): void {
    this.pads.fill(0);
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
