// Small byte arguments of native calls, passed through one off-heap scratch buffer. V8 keeps a
// typed array of at most 64 octets inside its own heap, and N-API can give native code a
// pointer to it only after moving it out: a new malloc'd backing store for that array, which
// the garbage collector sweeps and frees later (about 0.6 µs in all per array, measured in the
// daemon; a call passed 8 such arrays: keys' V, rho, scalars, splices). The addon copies every
// argument before run/runInline returns (native/src/addon.cc read_call), so one scratch serves
// every call: the small arguments are copied into it, and the octets used are zeroed as soon as
// the addon has taken them (they may be secret: rho, scalars).
import { V8_MAX_IN_HEAP_OCTETS } from '../../util/byte-slab.js';
const MAX_SMALL = V8_MAX_IN_HEAP_OCTETS; // larger arrays are off-heap already
const SLOT = MAX_SMALL;

export class SmallArgs {
  // One slot per argument; calls take at most 16 (native kMaxArgs is larger, but such calls
  // carry big arguments: MultiPairing's points are 96 and 192 octets).
  private readonly scratch = new Uint8Array(new ArrayBuffer(SLOT * 16));

  /**
   * Runs `fn` with `args`, each Uint8Array of at most 64 octets replaced by a copy in the
   * scratch; the scratch is zeroed when `fn` returns or throws. `fn` must hand the arguments to
   * the addon synchronously and keep no reference to them.
   */
  with<T>(args: readonly unknown[], fn: (args: unknown[]) => T): T {
    let used = 0;
    const out = new Array<unknown>(args.length);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      // (empty ones, detached ones among them, go as they are: the addon reports their length)
      if (a instanceof Uint8Array && a.length > 0 && a.length <= MAX_SMALL && used < this.scratch.length) {
        const view = this.scratch.subarray(used, used + a.length);
        view.set(a);
        out[i] = view;
        used += SLOT;
      } else out[i] = a;
    }
    try {
      return fn(out);
    } finally {
      if (used > 0) this.scratch.fill(0, 0, used);
    }
  }
}
