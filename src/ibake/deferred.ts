// Deferred delivery, the user's side (DESIGN §3, RFC 6267 §7.5): the mailbox M stored the
// I_MESSAGE_2 of a call it answered for user B; B later opens its ESK = IBE(K_PUB_B, IDRi ‖ SK)
// with its own private key for the period of that message's T, checks that the identity inside
// the ESK equals the message's IDRi, and derives the SRTP keys of the recorded media with SK
// used as the TGK (RFC 3830 TEK/salt derivation with the call's CSB ID and RAND). No freshness
// window applies: the message is old by design. M never learns SK (it is encrypted to B).
import type { EskPayload, IdrPayload, IbakePayload, RandPayload, TPayload } from '../mikey/index.js';
import { IbakeError, authFailure } from './errors.js';
import { ntpToMs } from './freshness.js';
import type { IbePort } from './ibe-port.js';
import { readEskPlain } from './inner.js';
import { DEFAULT_PROFILE, SRTP_PROFILES, deriveCsKeys, type CryptoSessionKeys } from './output.js';
import { DT, PROFILE, ROLE, bigToNtp, decode, malformed, shape, srtpMap, uriOf } from './wire.js';

export interface OpenedDeferred {
  csbId: number;
  /** The caller, as named inside the ESK (equal to the message's IDRi). */
  from: string;
  /** The mailbox that stored it (the message's IDRr). */
  mailbox: string;
  keys: CryptoSessionKeys[];
}

export async function openDeferred(
  ibe: IbePort,
  user: string,
  storedIMessage2: Uint8Array,
  opts: { profile?: string; now?: () => number } = {},
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
  try {
    const { idi, sk } = readEskPlain(plain);
    if (idi !== from) throw authFailure('identity-mismatch');
    const keys = deriveCsKeys(msg.header.prf, sk, msg.header.csbId, randP!.rand, srtpMap(msg), profile, 'deferred-sk');
    return { csbId: msg.header.csbId, from, mailbox: uriOf(idrP!), keys };
  } finally {
    plain.fill(0);
  }
}
