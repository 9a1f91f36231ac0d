// The per-session state objects: plain data (numbers, strings, Uint8Arrays), so a session can
// be serialised (msgpack / structured clone) and restored. Keyed by (CSB ID, peer identity).
// Secrets inside (x, y, K_SESSION-derived keys, SK) are wiped when the state is removed.
import type { CryptoSessionKeys, KeySource } from './output.js';
import type { AnswerKind } from './policy.js';
import type { SrtpIdEntry } from '../mikey/index.js';

/** Initiator, after I_MESSAGE_1: one per CSB, keyed by (CSB ID, addressed identity). */
export interface OfferState {
  kind: 'offer';
  csbId: number;
  peer: string; // addressed identity
  self: string;
  deadline: number;
  x: Uint8Array;
  xP: Uint8Array;
  rand: Uint8Array;
  t: Uint8Array; // NTP T of I_MESSAGE_1
  csMap: SrtpIdEntry[];
  profile: string;
}

/** Initiator, per answering responder (forks give several), keyed by (CSB ID, answering identity). */
export interface InitiatorState {
  kind: 'initiator';
  csbId: number;
  peer: string; // answering identity (IDRr of R_MESSAGE_1)
  addressed: string;
  self: string;
  deadline: number;
  state: 'sent-i2' | 'established';
  mode: AnswerKind;
  rand: Uint8Array;
  t2: Uint8Array; // NTP T of I_MESSAGE_2 (R_MESSAGE_2 copies it)
  lastT: Uint8Array; // newest T accepted for this CSB (re-keying must be newer)
  csMap: SrtpIdEntry[];
  profile: string;
  xP: Uint8Array;
  yP: Uint8Array;
  echoedInR1: boolean;
  /**
   * Our x until R_MESSAGE_2 is processed: K_SESSION (and MPK/TGK) are derived in idle time
   * after I_MESSAGE_2 went out, or from x if that work is not there (state restored elsewhere).
   */
  x?: Uint8Array;
  /** N_c of I_MESSAGE_2 (profile v2) until R_MESSAGE_2 is processed */
  nc?: Uint8Array;
  tgk?: Uint8Array;
  sk?: Uint8Array; // deferred delivery: the SK keying the media
  /** deferred delivery: v2 (a signed prekey was used: no IBAKE echo in R_MESSAGE_2) or v1 escrowed */
  deferred?: 'v2' | 'escrowed';
  /** deferred v2: the prekey record used (its signature check must have passed before the keys are released) */
  prekey?: Uint8Array;
  keys?: CryptoSessionKeys[];
  keySource?: KeySource;
  /** CSB update we sent (re-keying), until the peer's R_MESSAGE_1 */
  update?: UpdateSent;
  /**
   * CSB updates we answered, until the peer confirms one (then its keys replace ours). Several:
   * a U1 is unauthenticated, so a forged one must not displace the genuine (update.ts).
   */
  pending?: UpdatePending[];
}

/** A CSB update we sent: our new ephemeral, its T and the N_c it carries. */
export interface UpdateSent {
  x: Uint8Array;
  xP: Uint8Array;
  t: Uint8Array;
  nc: Uint8Array;
}

/** A CSB update we answered: the new keys, used only once the sender's confirmation verifies. */
export interface UpdatePending {
  t: Uint8Array;
  csMap: SrtpIdEntry[];
  tgk: Uint8Array;
  authKey: Uint8Array;
  keys: CryptoSessionKeys[];
  peerPoint: Uint8Array;
  ownPoint: Uint8Array;
}

/** Responder, keyed by (CSB ID, IDRi). */
export interface ResponderState {
  kind: 'responder';
  csbId: number;
  peer: string; // IDRi
  self: string; // the identity we answered with (IDRr of R_MESSAGE_1)
  addressed: string; // IDRr of I_MESSAGE_1
  deadline: number;
  state: 'sent-r1' | 'established';
  blind: boolean; // could not decrypt I_MESSAGE_1 (retarget target / mailbox)
  rand: Uint8Array;
  t: Uint8Array;
  lastT: Uint8Array;
  prf: number;
  csMap: SrtpIdEntry[];
  profile: string;
  y: Uint8Array;
  yP: Uint8Array;
  xP?: Uint8Array;
  keys?: CryptoSessionKeys[];
  keySource?: KeySource;
  /** responder-initiated CSB update we sent: our new y' (field names shared with the initiator's) */
  update?: UpdateSent;
  /** CSB updates we answered, until the peer confirms one */
  pending?: UpdatePending[];
  /** mailbox: the I_MESSAGE_2 to hand to the addressed user later */
  stored?: Uint8Array;
  /** mailbox, deferred v2: the prekey id handed out in R_MESSAGE_1 (R_MESSAGE_2 then has no IBAKE) */
  prekeyId?: number;
  tgk?: Uint8Array;
}

export type AnyState = OfferState | InitiatorState | ResponderState;

export function wipeState(s: AnyState): void {
  for (const v of Object.values(s)) if (v instanceof Uint8Array && v !== (s as OfferState).xP) v.fill(0);
  const k = (s as InitiatorState).keys;
  for (const c of k ?? []) {
    c.masterKey.fill(0);
    c.masterSalt.fill(0);
  }
  const u = (s as InitiatorState).update;
  if (u) wipeUpdate(u);
  for (const p of (s as InitiatorState).pending ?? []) wipePending(p);
}

export function wipeUpdate(u: UpdateSent): void {
  u.x.fill(0);
  u.nc.fill(0);
}

export function wipePending(p: UpdatePending): void {
  p.tgk.fill(0);
  p.authKey.fill(0);
  for (const c of p.keys) {
    c.masterKey.fill(0);
    c.masterSalt.fill(0);
  }
}
