// A Map key for *public* octets (identities, headers): one character per octet (a one-byte
// string), built without a Buffer. A hex string through Buffer.from(b).toString('hex') cost a
// copy, a Buffer object and a string twice as long to hash, on every cache lookup of an IBE
// recipient (several per call). Never use it for secrets: a string cannot be wiped.

/** Octets per String.fromCharCode call (arguments are pushed on the stack). */
const CHUNK = 4096;

/** The octets of `b` as a string of char codes 0–255: equal strings exactly for equal octets. */
export function bytesKey(b: Uint8Array): string {
  if (!(b instanceof Uint8Array)) throw new TypeError('bytesKey: a Uint8Array expected');
  if (b.length <= CHUNK) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < b.length; i += CHUNK) s += String.fromCharCode.apply(null, b.subarray(i, i + CHUNK) as unknown as number[]);
  return s;
}
