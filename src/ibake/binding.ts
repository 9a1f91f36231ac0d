// Profile v2 session binding (DESIGN §3 "Session binding", "Clear fields bound to the
// ciphertext"; docs/profile.md §5): the MIKEY PRF's input key is a hash over the ECDH point, both
// final identities and the initiator's secret N_c, so a relaying party or a sibling device that
// never read I_MESSAGE_2 ends with other keys; and the clear CSB ID, T and RAND of I_MESSAGE_1
// are hashed into its IBE plaintext (echoed by R_MESSAGE_1), so an old ciphertext under fresh
// clear fields fails. Pure functions on octets; SHA-256 of the MIKEY layer (hmac-sha256.ts:
// short inputs, where node:crypto's createHash costs more in object setup than in hashing).
import { randomOctets } from '../util/random.js';
import { sha256 } from '../mikey/hmac-sha256.js';
import { IbakeError } from './errors.js';
import { uriBytes } from './wire.js';

export const K_SESSION_LABEL = 'MIKEY-IBAKE-V02 K_SESSION';
export const CLEAR_BINDING_LABEL = 'MIKEY-IBAKE-V02 CLEAR';
const K_SESSION_LABEL_OCTETS = new TextEncoder().encode(K_SESSION_LABEL);
const CLEAR_BINDING_LABEL_OCTETS = new TextEncoder().encode(CLEAR_BINDING_LABEL);
/** N_c: 32 fresh octets (RANDR sub-payload, docs/profile.md §3.1). */
export const NC_LEN = 32;
/** The clear-field binding: SHA-256 output (EXT sub-payload, type CLEAR_BINDING_EXT). */
export const BINDING_LEN = 32;
/** General Extension type of the clear-field binding (RFC 3830 private-use range). */
export const CLEAR_BINDING_EXT = 241;


/** The inputs of the v2 K_SESSION besides the point: what each side must agree on. */
export interface SessionBinding {
  /** the initiator's URI (IDRi) */
  idi: string;
  /** the identity that really answered (IDRr of R_MESSAGE_1) */
  idr: string;
  /** the initiator's secret from I_MESSAGE_2 (or the update sender's, in a CSB update) */
  nc: Uint8Array;
}

function len16(b: Uint8Array): Uint8Array {
  if (b.length > 0xffff) throw new IbakeError('IBAKE_BAD_INPUT', 'identity longer than 65535 octets');
  return Uint8Array.of(b.length >> 8, b.length & 0xff);
}

/**
 * K_SESSION = SHA-256("MIKEY-IBAKE-V02 K_SESSION" ‖ SEC1([x][y]P) ‖ len16(IDRi) ‖ IDRi ‖
 * len16(IDRr) ‖ IDRr ‖ N_c), identities as their UTF-8 ID data. `point` is not wiped here.
 */
export function bindKSession(point: Uint8Array, b: SessionBinding): Uint8Array {
  if (b.nc.length !== NC_LEN) throw new IbakeError('IBAKE_BAD_INPUT', `N_c must be ${NC_LEN} octets`);
  const i = uriBytes(b.idi);
  const r = uriBytes(b.idr);
  return sha256(K_SESSION_LABEL_OCTETS, point, len16(i), i, len16(r), r, b.nc);
}

/** SHA-256("MIKEY-IBAKE-V02 CLEAR" ‖ CSB ID (4) ‖ T (8) ‖ RAND): goes inside I_MESSAGE_1's plaintext. */
export function clearBinding(csbId: number, t: Uint8Array, rand: Uint8Array): Uint8Array {
  const id = Uint8Array.of(csbId >>> 24, csbId >>> 16, csbId >>> 8, csbId); // no DataView: see ntp.ts u64Bytes
  return sha256(CLEAR_BINDING_LABEL_OCTETS, id, t, rand);
}

/** A fresh N_c from the OS CSPRNG (through OpenSSL's DRBG, drawn from the pool of util/random.ts). */
export function freshNc(): Uint8Array {
  return randomOctets(NC_LEN);
}
