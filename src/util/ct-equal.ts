// Constant-time equality of two byte strings of public length (MAC tags, echoed points, RAND).
// Written here rather than node:crypto's timingSafeEqual: that one needs each argument's
// ArrayBuffer, and asking a typed array of at most 64 octets for it moves the array out of V8's
// heap (a backing store of its own per argument, swept and freed later by the GC); the tags
// and points compared per call are that small. The loop reads every octet and never branches
// on the data, as @noble/curves' equalBytes does.

/** True when `a` and `b` have the same length and octets; the time depends on the length only. */
export function ctEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) throw new TypeError('ctEqual: Uint8Array arguments expected');
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
