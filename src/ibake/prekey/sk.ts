// Deferred delivery v2's key derivation and the initiator's prekey acceptance (DESIGN §3):
//   SK = HKDF-SHA-256(IKM = SEC1([e_i]·prekey_j) (65 octets), salt = RAND of I_MESSAGE_1,
//        info = "MIKEY-IBAKE-V02 DEFERRED SK" ‖ len16(IDRi) ‖ IDRi ‖ len16(IDRr) ‖ IDRr ‖
//               CSB ID (u32) ‖ prekey id (u32) ‖ SEC1(e_i·P) (65) ‖ SEC1(prekey_j) (65), L = 32)
// where IDRr is the ADDRESSED user (the owner of the prekey), not the mailbox. The initiator
// computes it from e_i and the prekey's public key; the user B later from the prekey's private
// half and e_i·P (carried in the ESK). The KMS can decrypt the ESK and sees e_i·P, but without
// e_i or the prekey's private half it cannot form the ECDH value: no passive escrow.
// PrekeySeen: the initiator's memory of (user, prekey id) pairs it has used, until their expiry,
// so a mailbox that hands out the same prekey twice is refused (bounded; fails closed).
import { hkdfSync } from 'node:crypto';
import { computeKSession, computeKSessionWith, type P256Mul } from '../ecdh.js';
import { IbakeError } from '../errors.js';
import { PROFILE } from '../wire.js';

const INFO_LABEL = new TextEncoder().encode('MIKEY-IBAKE-V02 DEFERRED SK');

export interface DeferredSkInput {
  /** Our P-256 secret: e_i (initiator) or the prekey's private half (user). */
  secret: Uint8Array;
  /** The other public point: the prekey (initiator) or e_i·P (user). */
  peer: Uint8Array;
  idi: string;
  /** The addressed user (owner of the prekey). */
  idr: string;
  csbId: number;
  rand: Uint8Array;
  prekeyId: number;
  /** e_i·P and the prekey's public key, SEC1 uncompressed. */
  ei: Uint8Array;
  prekey: Uint8Array;
}

function len16(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + b.length);
  new DataView(out.buffer).setUint16(0, b.length);
  out.set(b, 2);
  return out;
}

/** The HKDF info string (exported for the documentation test). */
export function deferredSkInfo(x: Omit<DeferredSkInput, 'secret' | 'peer' | 'rand'>): Uint8Array {
  const enc = new TextEncoder();
  const nums = new Uint8Array(8);
  const dv = new DataView(nums.buffer);
  dv.setUint32(0, x.csbId >>> 0);
  dv.setUint32(4, x.prekeyId >>> 0);
  return Buffer.concat([INFO_LABEL, len16(enc.encode(x.idi)), len16(enc.encode(x.idr)), nums, x.ei, x.prekey]);
}

/** SK of a v2 deferred call (PROFILE.skLen octets); the ECDH value is wiped. */
export function deriveDeferredSk(x: DeferredSkInput): Uint8Array {
  return skFrom(x, computeKSession(x.secret, x.peer));
}

/** deriveDeferredSk with the ECDH off this thread (Engine.p256Mul), or on it without `mul`. */
export async function deriveDeferredSkWith(mul: P256Mul | undefined, x: DeferredSkInput): Promise<Uint8Array> {
  if (!mul) return deriveDeferredSk(x);
  return skFrom(x, await computeKSessionWith(mul, x.secret, x.peer));
}

function skFrom(x: DeferredSkInput, dh: Uint8Array): Uint8Array {
  try {
    if (x.ei.length !== 65 || x.prekey.length !== 65) throw new IbakeError('IBAKE_BAD_INPUT', 'e_i·P and the prekey must be 65-octet SEC1 points');
    return new Uint8Array(hkdfSync('sha256', dh, x.rand, deferredSkInfo(x), PROFILE.skLen));
  } finally {
    dh.fill(0);
  }
}

export class PrekeySeen {
  readonly #seen = new Map<string, number>();
  constructor(private readonly max = 100_000) {}

  /** Records (uri, id) until expiryS; IBAKE_PREKEY_INVALID ('reused-id') if already seen. */
  note(uri: string, id: number, expiryS: number, nowMs: number): void {
    const k = `${id} ${uri}`;
    const until = this.#seen.get(k);
    if (until !== undefined && until * 1000 > nowMs) {
      throw new IbakeError('IBAKE_PREKEY_INVALID', `prekey ${id} of ${uri} was offered before (replayed by the mailbox?)`, { reason: 'reused-id' });
    }
    if (this.#seen.size >= this.max) {
      for (const [key, t] of this.#seen) if (t * 1000 <= nowMs) this.#seen.delete(key);
      if (this.#seen.size >= this.max) throw new IbakeError('IBAKE_BUSY', 'prekey replay memory is full');
    }
    this.#seen.set(k, expiryS);
  }
}
