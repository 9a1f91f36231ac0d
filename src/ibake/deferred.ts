// Deferred delivery, the user's side (DESIGN §3, RFC 6267 §7.5): the mailbox M stored the
// I_MESSAGE_2 of a call it answered for user B; B later opens its ESK with its own private key
// for the period of that message's T and checks that the identity inside the ESK equals the
// message's IDRi. v2 (docs/profile.md §6.4): the ESK holds IDRi ‖ e_i·P ‖ prekey id; B takes that
// prekey's private half out of its store (removing it: forward secrecy), and SK = HKDF over
// ECDH(prekey, e_i·P) and the call's identities, CSB ID and RAND. v1 (escrowed, only if the
// caller's policy allowed it): the ESK holds SK itself, so the KMS can read it too; the result
// says so. The SRTP keys of the recorded media come from SK used as the TGK (RFC 3830 TEK/salt
// derivation with the call's CSB ID and RAND). No freshness window applies: the message is old
// by design. M never learns SK.
import type { EskPayload, IdrPayload, IbakePayload, RandPayload, TPayload } from '../mikey/index.js';
import { IbakeError, authFailure } from './errors.js';
import { ntpToMs } from './freshness.js';
import type { IbePort } from './ibe-port.js';
import { readEsk } from './inner.js';
import type { PrekeyStore } from './prekey/store.js';
import { deriveDeferredSkWith } from './prekey/sk.js';
import { assertP256Point, type P256Mul } from './ecdh.js';
import { DEFAULT_PROFILE, SRTP_PROFILES, deriveCsKeys, type CryptoSessionKeys } from './output.js';
import { DT, PROFILE, ROLE, bigToNtp, decode, malformed, shape, srtpMap, uriOf } from './wire.js';

export interface OpenedDeferred {
  csbId: number;
  /** The caller, as named inside the ESK (equal to the message's IDRi). */
  from: string;
  /** The mailbox that stored it (the message's IDRr). */
  mailbox: string;
  keys: CryptoSessionKeys[];
  /** v1 ESK (SK inside, readable by the KMS); absent for v2. */
  escrowed?: true;
  /** v2: the prekey used (its private half is gone from the store now). */
  prekeyId?: number;
}

export async function openDeferred(
  ibe: IbePort,
  user: string,
  storedIMessage2: Uint8Array,
  opts: { profile?: string; now?: () => number; prekeys?: PrekeyStore; p256?: P256Mul } = {},
): Promise<OpenedDeferred> {
  const msg = decode(storedIMessage2);
  if (msg.header.dataType !== DT.I_MESSAGE_2) throw malformed('not an I_MESSAGE_2');
  const [[tP], [randP], [idiP], [idrP], , eskPs] = shape(msg, ['T', 'RAND', 'IDR', 'IDR', 'IBAKE', 'ESK?']) as [
    [TPayload], [RandPayload], [IdrPayload], [IdrPayload], IbakePayload[], EskPayload[],
  ];
  if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
  if (!eskPs[0]) throw new IbakeError('IBAKE_NO_SESSION', 'the stored message carries no ESK');
  if (msg.header.prf !== PROFILE.prf || tP!.tsType !== PROFILE.tsType) throw malformed('profile');
  const profile = opts.profile ?? DEFAULT_PROFILE;
  if (!SRTP_PROFILES[profile]) throw new IbakeError('IBAKE_BAD_INPUT', 'unknown SRTP profile');
  const from = uriOf(idiP!);
  const tMs = ntpToMs(bigToNtp(tP!.value), (opts.now ?? Date.now)());
  let plain: Uint8Array;
  try {
    plain = await ibe.decrypt(user, tMs, eskPs[0].encrData);
  } catch (e) {
    if (e instanceof IbakeError && e.code === 'IBAKE_NO_KEY') throw e;
    throw authFailure('esk');
  }
  let esk;
  try {
    esk = readEsk(plain);
    if (esk.idi !== from) throw authFailure('identity-mismatch');
  } catch (e) {
    plain.fill(0);
    throw e;
  }
  const csMap = srtpMap(msg);
  const csbId = msg.header.csbId;
  const rand = randP!.rand;
  try {
    if (esk.v === 1) {
      const keys = deriveCsKeys(msg.header.prf, esk.sk, csbId, rand, csMap, profile, 'deferred-sk');
      return { csbId, from, mailbox: uriOf(idrP!), keys, escrowed: true };
    }
    if (!opts.prekeys) throw new IbakeError('IBAKE_NO_PREKEY', 'a v2 deferred message needs the prekey store (opts.prekeys)');
    assertP256Point(esk.ei); // before the prekey is taken out of the store
    const { secret, record } = await opts.prekeys.take(user, esk.prekeyId);
    let sk: Uint8Array | undefined;
    try {
      sk = await deriveDeferredSkWith(opts.p256, { secret, peer: esk.ei, idi: from, idr: user, csbId, rand, prekeyId: esk.prekeyId, ei: esk.ei, prekey: record.publicKey });
      const keys = deriveCsKeys(msg.header.prf, sk, csbId, rand, csMap, profile, 'deferred-sk');
      return { csbId, from, mailbox: uriOf(idrP!), keys, prekeyId: esk.prekeyId };
    } finally {
      secret.fill(0);
      sk?.fill(0);
    }
  } finally {
    plain.fill(0);
  }
}
