// Client side of the KMS exchange: requestPrivateKey builds a REQUEST_KEY_PSK (or, with `pke`,
// a signed REQUEST_KEY_PKE) for one identity and period, POSTs it, checks that the REQUEST_KEY_RESP answers exactly that request (HDR, T,
// identities, V MAC under the PSK), decrypts the KEMAC and — before returning anything — checks
// the key with the pairing e(P, S_ID) = e(P_pub, Q_ID) against the caller's pinned parameters.
// KMS errors come back as KmsError with a specific code. createKeyRenewer wires it into a
// KeyRenewer that keeps an identity's keys current.
import { randomBytes, X509Certificate } from 'node:crypto';
import type { Engine } from '../engine/types.js';
import { identityFor, parseDate, validateUri, verifyPrivateKey, verifySigningKey, type IbeParams, type Identity } from '../ibe/index.js';
import { KmsError, type KmsErrorCode } from './errors.js';
import { postMikey, type PostOptions } from './http-client.js';
import { MIKEY_MEDIA_TYPE } from './http-server.js';
import { decodeErrorMessage, decodeKeyResponse, encodeKeyRequest, encodeKeyRequestPke, Err } from './messages.js';
import { publicKeyOf, requireRsa, rsaPrivateKey } from './pke.js';
import { msToNtp64 } from './ntp.js';
import { periodNtp, periodWindow } from './period.js';
import { KeyRenewer, type HeldKey, type KeyRenewerOptions, type PeriodWindow } from './renewer.js';

export { KeyRenewer, type HeldKey, type KeyRenewerOptions, type PeriodWindow } from './renewer.js';

export interface RequestKeyOptions {
  /** KMS endpoint, e.g. https://kms.example.org/mikey */
  url: string;
  /** The user's identity URI, e.g. sip:alice@example.org */
  identity: string;
  /** The user's PSK (raw octets or hex): REQUEST_KEY_PSK. Give this or `pke`. */
  psk?: Uint8Array | string;
  /**
   * Public-key protection instead of a PSK (REQUEST_KEY_PKE): the KMS's RSA public key (PEM or
   * certificate), the user's RSA private signing key (PEM), optionally the user's certificate
   * (PEM, sent in a CERT payload) and the SIGN type (0 PKCS#1 v1.5, default; 1 PSS).
   */
  pke?: { kmsPublicKey: string | Uint8Array; signKey: string | Uint8Array; cert?: string | Uint8Array; sType?: 0 | 1 };
  /** The KMS public parameters, obtained and pinned out of band (the key is verified against them). */
  params: IbeParams;
  /** A time inside the wanted period (Date, ms, or YYYY-MM-DD); default now. Current or next period. */
  date?: Date | number | string;
  /** PEM CA certificate(s) to trust for https. */
  ca?: PostOptions['ca'];
  /** Name of the PSK in the KMS users file, if not the identity itself (sent as IDRpsk). */
  pskName?: string;
  engine?: Engine;
  timeoutMs?: number;
  /** PRF func (0 MIKEY-1, default; 1 HMAC-SHA-256) and V auth alg (1 HMAC-SHA-1, default; 2 HMAC-SHA-256). */
  prf?: 0 | 1;
  authAlg?: 1 | 2;
  /**
   * Also ask for the identity's Cha–Cheon signing key (deferred delivery v2: prekey bundles),
   * in the same exchange; it is checked with e(P, d) = e(P_pub, Q_sig) like the decryption key.
   * Default false (the request and the response are then exactly as before).
   */
  signing?: boolean;
  /** Clock (ms), for tests. */
  now?: () => number;
}

export interface ObtainedKey {
  /** Period start, YYYY-MM-DD (UTC). */
  period: string;
  window: PeriodWindow;
  /** The identity octets the key belongs to (URI ‖ 0x00 ‖ period). */
  identity: Identity;
  /** Verified private key S_ID (bls12381-bf: 96-octet compressed G2). Zero it when done. */
  key: Uint8Array;
  /** With `signing`: the verified signing key d (96-octet compressed G2). Zero it when done. */
  signingKey?: Uint8Array;
}

function pskBytes(psk: Uint8Array | string): Uint8Array {
  if (psk instanceof Uint8Array) {
    if (psk.length < 16) throw new KmsError('KMS_CONFIG', 'PSK must be at least 16 octets');
    return psk;
  }
  if (typeof psk !== 'string' || !/^([0-9a-fA-F]{2}){16,64}$/.test(psk)) throw new KmsError('KMS_CONFIG', 'PSK must be 16..64 octets of hex');
  return new Uint8Array(Buffer.from(psk, 'hex'));
}

function certToDer(c: string | Uint8Array): Uint8Array {
  try {
    return new Uint8Array(new X509Certificate(typeof c === 'string' ? c : Buffer.from(c)).raw);
  } catch {
    throw new KmsError('KMS_CONFIG', 'cert is not an X.509 certificate');
  }
}

function toMs(d: Date | number | string): number {
  if (typeof d === 'string') return parseDate(d).getTime();
  const ms = typeof d === 'number' ? d : d.getTime();
  if (!Number.isFinite(ms)) throw new KmsError('KMS_CONFIG', 'date is not a valid time');
  return ms;
}

/** KmsError for a non-200 KMS answer (HTTP status + RFC 3830 ERR number). */
export function errorFromAnswer(status: number, body: Uint8Array, retryAfterS?: number): KmsError {
  const errs = decodeErrorMessage(body);
  const errNo = errs?.[0];
  let code: KmsErrorCode;
  switch (status) {
    case 400:
      code = errNo === Err.PRF || errNo === Err.MAC || errNo === Err.EA || errNo === Err.DT ? 'KMS_UNSUPPORTED' : 'KMS_BAD_REQUEST';
      break;
    case 403:
      code = errNo === Err.TS ? 'KMS_INVALID_TS' : 'KMS_AUTH_FAILED';
      break;
    case 409:
      code = 'KMS_REPLAY';
      break;
    case 422:
      code = 'KMS_PERIOD';
      break;
    case 429:
      code = 'KMS_RATE_LIMITED';
      break;
    case 503:
      code = 'KMS_OVERLOADED';
      break;
    case 500:
      code = 'KMS_SERVER_ERROR';
      break;
    default:
      code = 'KMS_TRANSPORT';
  }
  const what: Record<string, string> = {
    KMS_AUTH_FAILED: 'KMS refused authentication (unknown user, wrong PSK, or identity not authorised)',
    KMS_INVALID_TS: 'KMS rejected the timestamp (clock skew too large?)',
    KMS_REPLAY: 'KMS saw this request before (replay)',
    KMS_PERIOD: 'KMS does not issue keys for that period now',
    KMS_RATE_LIMITED: 'KMS rate limit reached',
    KMS_OVERLOADED: 'KMS is overloaded',
    KMS_SERVER_ERROR: 'KMS internal error',
    KMS_UNSUPPORTED: 'KMS does not support the request parameters',
    KMS_BAD_REQUEST: 'KMS could not process the request',
    KMS_TRANSPORT: `unexpected HTTP status ${status} from the KMS`,
  };
  return new KmsError(code, `${what[code]} (HTTP ${status}${errNo !== undefined ? `, MIKEY ERR ${errNo}` : ''})`, {
    httpStatus: status,
    ...(errNo !== undefined ? { mikeyError: errNo } : {}),
    ...(retryAfterS !== undefined ? { retryAfterMs: retryAfterS * 1000 } : {}),
  });
}

/** Requests, checks, decrypts and verifies the private key of `identity` for one period. */
export async function requestPrivateKey(o: RequestKeyOptions): Promise<ObtainedKey> {
  if (!o || typeof o !== 'object') throw new KmsError('KMS_CONFIG', 'options required');
  try {
    validateUri(o.identity);
  } catch (e) {
    throw new KmsError('KMS_CONFIG', `identity: ${(e as Error).message}`);
  }
  if (!o.params || typeof o.params !== 'object' || typeof o.params.kmsId !== 'string') throw new KmsError('KMS_CONFIG', 'params (the KMS public parameters) are required');
  if ((o.psk === undefined) === (o.pke === undefined)) throw new KmsError('KMS_CONFIG', 'give exactly one of psk and pke');
  const now = (o.now ?? Date.now)();
  const window = periodWindow(o.date === undefined ? now : toMs(o.date), o.params.period);
  const interval = periodNtp(window);
  const csbId = randomBytes(4).readUInt32BE(0);
  const rand = new Uint8Array(randomBytes(16));
  const tNtp = msToNtp64(now);
  const prf = o.prf ?? 0;
  let authAlg: number = o.authAlg ?? 1;
  if (o.signing === true && o.params.suite?.suite !== 'bls12381-bf') throw new KmsError('KMS_CONFIG', 'signing keys need the bls12381-bf suite');
  const wanted = [{ identity: o.identity, ...interval }, ...(o.signing === true ? [{ identity: o.identity, use: 'sign' as const, ...interval }] : [])];
  let body: Uint8Array;
  let secret: Uint8Array;
  let ownSecret = true;
  if (o.pke) {
    const kmsPublic = publicKeyOf(o.pke.kmsPublicKey, 'KMS public key');
    requireRsa(kmsPublic, 'KMS public key');
    const signKey = rsaPrivateKey(o.pke.signKey, 'signing key');
    const certDer = o.pke.cert === undefined ? undefined : certToDer(o.pke.cert);
    const r = encodeKeyRequestPke(
      { csbId, prf, tNtp, rand, identities: [o.identity], kmsId: o.params.kmsId, wanted },
      { kmsPublic, signKey, ...(certDer ? { certDer } : {}), ...(o.pke.sType !== undefined ? { sType: o.pke.sType } : {}) },
    );
    body = r.bytes;
    secret = r.envKey;
    authAlg = 1;
  } else {
    secret = pskBytes(o.psk!);
    ownSecret = !(o.psk instanceof Uint8Array);
    body = encodeKeyRequest(
      { csbId, prf, authAlg, tNtp, rand, identities: [o.identity], kmsId: o.params.kmsId, ...(o.pskName ? { pskName: o.pskName } : {}), wanted },
      secret,
    );
  }
  const psk = secret;
  let r;
  try {
    r = await postMikey(o.url, body, { ...(o.ca !== undefined ? { ca: o.ca } : {}), ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) });
  } catch (e) {
    if (ownSecret) psk.fill(0);
    throw e;
  }
  if (r.status !== 200) {
    if (ownSecret) psk.fill(0);
    throw errorFromAnswer(r.status, r.body, r.retryAfter);
  }
  let issued;
  try {
    if (!r.contentType || r.contentType.split(';')[0]!.trim().toLowerCase() !== MIKEY_MEDIA_TYPE) {
      throw new KmsError('KMS_BAD_RESPONSE', 'KMS answer is not application/mikey', { httpStatus: 200 });
    }
    issued = decodeKeyResponse(r.body, { csbId, prf, authAlg, tNtp, rand, identities: [o.identity], kmsId: o.params.kmsId }, psk);
  } finally {
    r.body.fill(0);
    if (ownSecret) psk.fill(0);
  }
  const ours = (use: 'decrypt' | 'sign') =>
    issued.find((k) => k.identity === o.identity && (k.use ?? 'decrypt') === use && k.fromNtp === interval.fromNtp && k.toNtp === interval.toNtp);
  const mine = ours('decrypt');
  const sig = o.signing === true ? ours('sign') : undefined;
  for (const k of issued) if (k !== mine && k !== sig) k.key.fill(0);
  const wipe = () => {
    mine?.key.fill(0);
    sig?.key.fill(0);
  };
  if (!mine || (o.signing === true && !sig)) {
    wipe();
    throw new KmsError('KMS_BAD_RESPONSE', `KMS response has no ${mine ? 'signing ' : ''}key for ${o.identity} in period ${window.label}`);
  }
  const identity = identityFor(o.identity, window.startMs, o.params.period);
  // Both keys pass the pairing check against the pinned parameters before either is returned.
  const check = async (f: typeof verifyPrivateKey, key: Uint8Array): Promise<boolean> => {
    try {
      return await f(o.params, identity.bytes, key, o.engine);
    } catch {
      return false;
    }
  };
  const [okKey, okSig] = await Promise.all([check(verifyPrivateKey, mine.key), sig ? check(verifySigningKey, sig.key) : true]);
  if (!okKey || !okSig) {
    wipe();
    const which = okKey ? 'signing key' : 'key';
    const eq = okKey ? 'e(P, d) = e(P_pub, Q_sig)' : 'e(P, S) = e(P_pub, Q)';
    throw new KmsError('KMS_KEY_INVALID', `the ${which} issued for ${o.identity} (${window.label}) fails the pairing check ${eq}`);
  }
  return { period: window.label, window, identity, key: mine.key, ...(sig ? { signingKey: sig.key } : {}) };
}

export interface RenewerClientOptions extends Omit<RequestKeyOptions, 'date'>, Omit<KeyRenewerOptions, 'fetch' | 'periodOf' | 'now'> {}

/** A KeyRenewer fetching `identity`'s keys from the KMS with requestPrivateKey. Call start(). */
export function createKeyRenewer(o: RenewerClientOptions): KeyRenewer {
  const kind = o.params.period;
  const { leadMs, retryMs, maxRetryMs, graceMs, timers, onKey, onError, ...req } = o;
  return new KeyRenewer({
    periodOf: (ms) => periodWindow(ms, kind),
    fetch: async (atMs): Promise<HeldKey> => {
      const k = await requestPrivateKey({ ...req, date: atMs });
      return { period: k.window, key: k.key };
    },
    ...(o.now ? { now: o.now } : {}),
    ...(leadMs !== undefined ? { leadMs } : {}),
    ...(retryMs !== undefined ? { retryMs } : {}),
    ...(maxRetryMs !== undefined ? { maxRetryMs } : {}),
    ...(graceMs !== undefined ? { graceMs } : {}),
    ...(timers ? { timers } : {}),
    ...(onKey ? { onKey } : {}),
    ...(onError ? { onError } : {}),
  });
}
