// K_SESSION and everything one I/R exchange derives from it, as one pure computation on plain
// data: the point [secret]peerPoint (SEC1 uncompressed, src/ibake/ecdh.ts), K_SESSION = the
// profile-v2 hash over it, both identities and N_c (binding.ts), then MPK, TGK and
// the R_MESSAGE_2 auth key (RFC 6267 §5.1), and optionally the SRTP master keys/salts from the
// TGK. Plain data in and out, so it can run ahead of need (src/ibake/ahead.ts) or in line.
import { deriveSessionKeys, wipeKeys, type SessionKeys } from '../mikey/keys.js';
import { bindKSession, type SessionBinding } from './binding.js';
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
  /**
   * The profile-v2 binding (identities and N_c). Absent only for the internal v1 derivation
   * (K_SESSION = the point) that bench/call.ts measures against; never reachable from the
   * daemon or the CLI (src/ibake/profile-v1.ts).
   */
  binding?: SessionBinding;
  /** keep copies of K_SESSION and the point (only for the revealSecrets debugging hook) */
  reveal?: boolean;
}

export interface ExchangeKeys {
  sess: SessionKeys;
  cs?: CryptoSessionKeys[];
  kSession?: Uint8Array;
  /** with `reveal`: the ECDH point [x][y]P the K_SESSION hash was taken over */
  point?: Uint8Array;
}

/** Throws the uniform auth failure of computeKSession for a bad point. */
export function computeExchangeKeys(x: ExchangeInput): ExchangeKeys {
  return keysFromPoint(x, computeKSession(x.secret, x.peerPoint, x.ownPoint));
}

/** computeExchangeKeys with K_SESSION from `mul` (ecdh.ts computeKSessionWith: off this thread). */
export async function computeExchangeKeysWith(mul: P256Mul, x: ExchangeInput): Promise<ExchangeKeys> {
  return keysFromPoint(x, await computeKSessionWith(mul, x.secret, x.peerPoint, x.ownPoint));
}

/** Everything derived from the ECDH point (wiped here): K_SESSION, then its keys. */
export function keysFromPoint(x: ExchangeInput, point: Uint8Array): ExchangeKeys {
  let k: Uint8Array | undefined;
  try {
    k = x.binding ? bindKSession(point, x.binding) : point;
    const sess = deriveSessionKeys(x.prf, k, x.csbId, x.rand, { auth: x.authLen }, x.binding ? 'v2' : 'point');
    const out: ExchangeKeys = { sess };
    if (x.cs) out.cs = deriveCsKeys(x.prf, sess.tgk, x.csbId, x.rand, x.cs.map, x.cs.profile, 'ibake');
    if (x.reveal) {
      out.kSession = k.slice();
      out.point = point.slice();
    }
    return out;
  } finally {
    k?.fill(0);
    point.fill(0);
  }
}

export function wipeExchangeKeys(k: ExchangeKeys): void {
  wipeKeys(k.sess);
  wipeCsKeys(k.cs);
  k.kSession?.fill(0);
  k.point?.fill(0);
}
