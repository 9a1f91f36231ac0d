// Fresh byte arrays of 65 to 2 048 octets carved from shared 8 KiB ArrayBuffers. V8 keeps a
// typed array of at most 64 octets inside its heap; every larger `new Uint8Array(n)` or
// `slice()` gets a malloc'ed backing store of its own, an ArrayBuffer and its extension, which
// the garbage collector sweeps and frees later: about 1 µs each in a loop, against some 40 ns
// for a view on an existing buffer. A call's codec makes a few dozen such arrays (each encoded
// or decoded MIKEY message, inner chain, V-MAC input, ciphertext, result), most of them dead a
// moment later. Here they are views on a slab instead, so one backing store serves many.
//
// The arrays behave like `new Uint8Array(n)`: plain Uint8Array (not Buffer, whose slice() is a
// view), zero-filled (a slab is fresh memory, and no octet of it is handed out twice), owned by
// the caller. A slab is freed when the last view on it dies, so one long-lived array keeps at
// most 8 KiB alive. Node's Buffer pool does the same for Buffer.allocUnsafe, but hands out
// Buffers of unzeroed, reused memory, hence this module.
//
// What differs from an array of its own is `.buffer`: the whole slab. Nothing may transfer it,
// read it without the view's bounds, or post the view through structured clone (which copies
// the whole buffer, other arrays' octets with it): a worker's posts go through compactForPost
// (daemon/batch-post.ts), which copies views into arrays of their own.
const SLAB_OCTETS = 8192;
/** Above this, a request gets a buffer of its own (at most a quarter of a slab is wasted). */
export const MAX_SLAB_ARRAY = 2048;
/**
 * V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP: a typed array of at most this many octets lives inside V8's
 * heap (cheap to make; asking for its `.buffer`, or handing it to native code, moves it out).
 */
export const V8_MAX_IN_HEAP_OCTETS = 64;
const IN_HEAP = V8_MAX_IN_HEAP_OCTETS;

let slab = new ArrayBuffer(0);
let used = SLAB_OCTETS; // the first request opens a slab

/** A zero-filled Uint8Array of `n` octets (from a slab when 64 < n ≤ MAX_SLAB_ARRAY). */
export function freshBytes(n: number): Uint8Array {
  if (n <= IN_HEAP || n > MAX_SLAB_ARRAY) return new Uint8Array(n);
  if (used + n > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_OCTETS);
    used = 0;
  }
  const out = new Uint8Array(slab, used, n);
  used += (n + 7) & ~7; // 8-octet aligned, like a buffer of its own
  return out;
}

/** A copy of `src[start, end)` as a new array (freshBytes). */
export function copyBytes(src: Uint8Array, start = 0, end = src.length): Uint8Array {
  const n = end - start;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || n < 0 || end > src.length) {
    throw new RangeError(`copyBytes: [${start}, ${end}) is outside an array of ${src.length} octets`);
  }
  const out = freshBytes(n);
  if (n <= IN_HEAP) {
    // octet by octet: subarray() of a small in-heap `src` would move it out of V8's heap
    for (let i = 0; i < n; i++) out[i] = src[start + i]!;
  } else out.set(src.subarray(start, end));
  return out;
}
