// K_SESSION and everything one I/R exchange derives from it, as one pure computation on plain
// data: K_SESSION = [secret]peerPoint (SEC1 uncompressed, src/ibake/ecdh.ts), then MPK, TGK and
// the R_MESSAGE_2 auth key (RFC 6267 §5.1), and optionally the SRTP master keys/salts from the
// TGK. Plain data in and out, so it can run ahead of need (src/ibake/ahead.ts) or in line.
import { deriveSessionKeys, wipeKeys, type SessionKeys } from '../mikey/keys.js';
import { computeKSession, computeKSessionWith, type P256Mul } from './ecdh.js';
import { deriveCsKeys, wipeCsKeys, type CryptoSessionKeys } from './output.js';

export interface ExchangeInput {
  /** our ephemeral secret (x or y), 32 octets */
  secret: Uint8Array;
  /** the peer's ECCPT point (validated again by computeKSession) */
  peerPoint: Uint8Array;
  /** our own public point (a peer point equal to it is refused: reflection) */
  ownPoint: Uint8Array;
  prf: number;
  csbId: number;
  rand: Uint8Array;
  /** auth key length of the V payload (our profile: 32) */
  authLen: number;
  /** derive the SRTP keys from the TGK for these crypto sessions */
  cs?: { map: ReadonlyArray<{ ssrc: number; roc: number }>; profile: string };
  /** keep a copy of K_SESSION (only for the revealSecrets debugging hook) */
  reveal?: boolean;
}

export interface ExchangeKeys {
  sess: SessionKeys;
  cs?: CryptoSessionKeys[];
  kSession?: Uint8Array;
}

/** Throws the uniform auth failure of computeKSession for a bad point. */
export function computeExchangeKeys(x: ExchangeInput): ExchangeKeys {
  return deriveExchangeKeys(x, computeKSession(x.secret, x.peerPoint, x.ownPoint));
}

/** computeExchangeKeys with K_SESSION from `mul` (ecdh.ts computeKSessionWith: off this thread). */
export async function computeExchangeKeysWith(mul: P256Mul, x: ExchangeInput): Promise<ExchangeKeys> {
  return deriveExchangeKeys(x, await computeKSessionWith(mul, x.secret, x.peerPoint, x.ownPoint));
}

/** Everything derived from K_SESSION `k` (wiped here). */
function deriveExchangeKeys(x: ExchangeInput, k: Uint8Array): ExchangeKeys {
  try {
    const sess = deriveSessionKeys(x.prf, k, x.csbId, x.rand, { auth: x.authLen });
    const out: ExchangeKeys = { sess };
    if (x.cs) out.cs = deriveCsKeys(x.prf, sess.tgk, x.csbId, x.rand, x.cs.map, x.cs.profile, 'ibake');
    if (x.reveal) out.kSession = k.slice();
    return out;
  } finally {
    k.fill(0);
  }
}

export function wipeExchangeKeys(k: ExchangeKeys): void {
  wipeKeys(k.sess);
  wipeCsKeys(k.cs);
  k.kSession?.fill(0);
}
