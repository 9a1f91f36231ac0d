// The KMS's answer to one application/mikey body (RFC 6267 §4.1.3), independent of HTTP.
// Order of checks, cheapest and least revealing first (security.md §3.1, §3.4, top-10 #7):
//   decode (ERR 13/11/2/3) -> T inside the skew window and after the restart floor (ERR 1)
//   -> IDRkms is us (ERR 7) -> PSK lookup + V MAC (ERR 0; unknown user and wrong MAC look the
//   same, including a dummy MAC for unknown users), or for REQUEST_KEY_PKE the signature with
//   the user's pinned key and only then the envelope decryption -> replay cache (ERR 1, HTTP 409; only
//   authenticated requests enter it) -> per-user token bucket (HTTP 429) -> authorisation of
//   every identity (ERR 7) -> period window: current, next, or previous within the skew (ERR 1,
//   HTTP 422) -> bounded extraction queue (HTTP 503) -> extract, REQUEST_KEY_RESP, audit log.
// Nothing secret reaches the log; private keys and derived keys are zeroed after encoding.
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Engine } from '../engine/types.js';
import { extract, extractSigningKey, identityFor, type IbeParams } from '../ibe/index.js';
import { KmsError, type KmsErrorCode } from './errors.js';
import type { MikeyHttpAnswer } from './http-server.js';
import { keyId, type KmsLogger } from './issuance-log.js';
import {
  decodeKeyRequest, encodeErrorMessage, encodeKeyResponse, Err, verifyKeyRequest, verifyKeyRequestSignature, type IssuedKey, type ParsedKeyRequest,
  type WantedKey,
} from './messages.js';
import { msToNtp64, ntp64ToMs, u64Bytes } from './ntp.js';
import { nextPeriod, periodNtp, periodWindow } from './period.js';
import { envelopeDecrypt } from './pke.js';
import type { PskStore } from './psk-store.js';
import { TokenBucketLimiter, type RateLimitOptions } from './rate-limit.js';
import { ReplayCache } from './replay-cache.js';
import type { PeriodWindow } from './renewer.js';
import { FifoGate } from '../util/fifo-gate.js';

export interface KmsServiceOptions {
  master: Uint8Array;
  params: IbeParams;
  users: PskStore;
  engine?: Engine;
  log: KmsLogger;
  /** Allowed |T - now|, ms (default 5 min). */
  skewMs?: number;
  /** Per-user token bucket (default burst 10, 0.2/s); false disables. */
  perUser?: Partial<Omit<RateLimitOptions, 'now'>> | false;
  replayCacheSize?: number;
  /** Extractions running at once (default 2) and waiting (default 64) before 503. */
  maxConcurrent?: number;
  maxQueued?: number;
  /** The KMS's RSA private key; enables REQUEST_KEY_PKE. */
  pkeKey?: KeyObject;
  /** KEMAC Encr alg of responses: 1 AES-CM-128 (default), 3 AES-CM-256, 2 AES-KW-128. */
  encrAlg?: number;
  now?: () => number;
}

/** HTTP status per error code. */
const STATUS: Record<KmsErrorCode, number> = {
  KMS_BAD_REQUEST: 400,
  KMS_UNSUPPORTED: 400,
  KMS_AUTH_FAILED: 403,
  KMS_INVALID_TS: 403,
  KMS_REPLAY: 409,
  KMS_PERIOD: 422,
  KMS_RATE_LIMITED: 429,
  KMS_OVERLOADED: 503,
  KMS_SERVER_ERROR: 500,
  KMS_CONFIG: 500,
  KMS_TRANSPORT: 500,
  KMS_BAD_RESPONSE: 500,
  KMS_KEY_INVALID: 500,
};

/** Default ERR number per error code, when the thrower did not pick one. */
const DEFAULT_ERR: Partial<Record<KmsErrorCode, number>> = {
  KMS_AUTH_FAILED: Err.AUTH,
  KMS_INVALID_TS: Err.TS,
  KMS_REPLAY: Err.TS,
  KMS_PERIOD: Err.TS,
  KMS_BAD_REQUEST: Err.UNSUPPORTED_MSG,
};

export class KmsService {
  readonly #o: KmsServiceOptions;
  readonly #master: Uint8Array;
  readonly #skew: number;
  readonly #now: () => number;
  readonly #floor: number;
  readonly #replay: ReplayCache;
  readonly #perUser?: TokenBucketLimiter;
  readonly #gate: FifoGate;
  readonly #pkePublic?: KeyObject;
  #users: PskStore;
  #closed = false;

  constructor(o: KmsServiceOptions) {
    this.#o = o;
    this.#master = o.master.slice();
    this.#users = o.users;
    this.#now = o.now ?? Date.now;
    this.#skew = o.skewMs ?? 5 * 60_000;
    if (!Number.isFinite(this.#skew) || this.#skew < 1000) throw new KmsError('KMS_CONFIG', 'skewMs must be >= 1000');
    // The replay cache is empty after a restart: refuse timestamps from before we started.
    this.#floor = this.#now();
    if (o.pkeKey) this.#pkePublic = createPublicKey(o.pkeKey);
    this.#replay = new ReplayCache({ maxEntries: o.replayCacheSize ?? 100_000, now: this.#now });
    if (o.perUser !== false) this.#perUser = new TokenBucketLimiter({ burst: 10, perSecond: 0.2, ...o.perUser, now: this.#now });
    const mc = o.maxConcurrent ?? 2;
    const mq = o.maxQueued ?? 64;
    if (!Number.isInteger(mc) || mc < 1 || !Number.isInteger(mq) || mq < 0) throw new KmsError('KMS_CONFIG', 'maxConcurrent must be >= 1 and maxQueued >= 0');
    this.#gate = new FifoGate(mc, mq, () => new KmsError('KMS_OVERLOADED', 'KMS is busy'));
  }

  /** Switches to a new users table (requests already past authentication keep the old entry). */
  setUsers(users: PskStore): void {
    this.#users = users;
  }

  /** Zeroes the master secret copy; later requests get 503. */
  close(): void {
    this.#closed = true;
    this.#master.fill(0);
  }

  #nowNtp(): bigint {
    return msToNtp64(this.#now());
  }

  #answerError(e: KmsError, req: ParsedKeyRequest | undefined, client: string, user?: string): MikeyHttpAnswer {
    const status = STATUS[e.code] ?? 500;
    const errNo = e.mikeyError ?? DEFAULT_ERR[e.code] ?? Err.UNSPECIFIED;
    this.#o.log({ event: 'reject', time: new Date(this.#now()).toISOString(), client, reason: e.code, status, ...(user ? { user } : {}) });
    const headers: Record<string, string> = {};
    if (e.code === 'KMS_RATE_LIMITED' || e.code === 'KMS_OVERLOADED') headers['Retry-After'] = String(Math.max(1, Math.ceil((e.retryAfterMs ?? 1000) / 1000)));
    return { status, body: encodeErrorMessage(errNo, this.#nowNtp(), req?.message.header), headers };
  }

  /** Answers one request body from `client`. Never throws. */
  async handle(body: Uint8Array, client: string): Promise<MikeyHttpAnswer> {
    let req: ParsedKeyRequest | undefined;
    let user: string | undefined;
    let secret: Uint8Array | undefined;
    let envKey: Uint8Array | undefined;
    try {
      if (this.#closed) throw new KmsError('KMS_OVERLOADED', 'KMS is shutting down');
      req = decodeKeyRequest(body);
      this.#checkTime(req);
      if (req.kmsId !== this.#o.params.kmsId) throw new KmsError('KMS_BAD_REQUEST', 'request is addressed to another KMS', { mikeyError: Err.ID });
      const entry = this.#users.lookup(req.pskName);
      if (req.auth.kind === 'psk') {
        if (!entry?.psk) {
          verifyKeyRequest(req, randomBytes(32)); // same work as a real check: no user-enumeration timing
          throw new KmsError('KMS_AUTH_FAILED', 'authentication failed');
        }
        if (!verifyKeyRequest(req, entry.psk)) throw new KmsError('KMS_AUTH_FAILED', 'authentication failed');
        secret = entry.psk;
      } else {
        if (!this.#o.pkeKey) throw new KmsError('KMS_UNSUPPORTED', 'REQUEST_KEY_PKE is not enabled on this KMS', { mikeyError: Err.DT });
        // signature first (authenticates), envelope second (no decryption oracle)
        if (!entry?.signKey) {
          verifyKeyRequestSignature(req, this.#pkePublic!); // same work as a real check (always fails)
          throw new KmsError('KMS_AUTH_FAILED', 'authentication failed');
        }
        if (!verifyKeyRequestSignature(req, entry.signKey)) throw new KmsError('KMS_AUTH_FAILED', 'authentication failed');
        envKey = envelopeDecrypt(this.#o.pkeKey, req.auth.envelope);
        secret = envKey;
      }
      user = entry.name;
      const verdict = this.#replay.checkAndAdd(ReplayCache.key([Buffer.from(entry.name), u32(req.csbId), u64Bytes(req.tNtp), req.rand]), this.#tMs(req) + this.#skew + 1);
      if (verdict === 'replay') throw new KmsError('KMS_REPLAY', 'request was already answered');
      if (verdict === 'full') throw new KmsError('KMS_OVERLOADED', 'replay cache is full');
      if (this.#perUser) {
        const r = this.#perUser.take(entry.name);
        if (!r.ok) throw new KmsError('KMS_RATE_LIMITED', 'too many key requests for this user', { mikeyError: Err.UNSPECIFIED, retryAfterMs: r.retryAfterMs });
      }
      const wanted = this.#wanted(req);
      for (const w of wanted) {
        if (!entry.identities.has(w.identity)) throw new KmsError('KMS_AUTH_FAILED', 'identity not authorised for this PSK', { mikeyError: Err.ID });
        if (w.use === 'sign' && this.#o.params.suite.suite !== 'bls12381-bf') {
          throw new KmsError('KMS_UNSUPPORTED', 'signing keys need the bls12381-bf suite', { mikeyError: Err.DT });
        }
      }
      const periods = wanted.map((w) => this.#period(w));
      const issued: IssuedKey[] = [];
      try {
        await this.#gate.run(async () => {
          for (let i = 0; i < wanted.length; i++) {
            const w = wanted[i]!;
            const id = identityFor(w.identity, periods[i]!.startMs, this.#o.params.period);
            const issue = w.use === 'sign' ? extractSigningKey : extract;
            issued.push({ ...w, key: await issue(this.#master, this.#o.params, id.bytes, this.#o.engine) });
          }
        });
        const resp = encodeKeyResponse(req, issued, secret, this.#o.encrAlg ?? 1);
        const time = new Date(this.#now()).toISOString();
        issued.forEach((k, i) => {
          const period = periods[i]!.label;
          const use = k.use === 'sign' ? { use: 'sign' as const } : {};
          const id = k.use === 'sign' ? `${k.identity}\u0000sign` : k.identity;
          this.#o.log({ event: 'issue', time, client, user: entry.name, identity: k.identity, period, ...use, keyId: keyId(this.#o.params.fingerprint, id, period) });
        });
        return { status: 200, body: resp };
      } finally {
        for (const k of issued) k.key.fill(0);
      }
    } catch (e) {
      if (e instanceof KmsError) return this.#answerError(e, req, client, user);
      const code = (e as { code?: unknown })?.code;
      this.#o.log({ event: 'reject', time: new Date(this.#now()).toISOString(), client, reason: typeof code === 'string' ? `KMS_SERVER_ERROR:${code}` : 'KMS_SERVER_ERROR', status: 500, ...(user ? { user } : {}) });
      return { status: 500, body: encodeErrorMessage(Err.UNSPECIFIED, this.#nowNtp(), req?.message.header) };
    } finally {
      envKey?.fill(0);
    }
  }

  #tMs(req: ParsedKeyRequest): number {
    return ntp64ToMs(req.tNtp, this.#now());
  }

  #checkTime(req: ParsedKeyRequest): void {
    const now = this.#now();
    const t = this.#tMs(req);
    if (Math.abs(t - now) > this.#skew) throw new KmsError('KMS_INVALID_TS', 'timestamp outside the allowed clock skew');
    if (t < this.#floor) throw new KmsError('KMS_INVALID_TS', 'timestamp predates the KMS start (replay cache was reset)');
  }

  /** The keys asked for: the request KEMAC's list, else each identity for the period of T. */
  #wanted(req: ParsedKeyRequest): WantedKey[] {
    if (req.wanted) {
      for (const w of req.wanted) {
        if (!req.identities.includes(w.identity)) throw new KmsError('KMS_BAD_REQUEST', 'KEMAC names an identity missing from the IDR payloads', { mikeyError: Err.ID });
      }
      return req.wanted;
    }
    const p = periodNtp(periodWindow(this.#tMs(req), this.#o.params.period));
    return req.identities.map((identity) => ({ identity, ...p }));
  }

  /** The period a wanted interval names, if it is one we issue now (previous within skew, current, next). */
  #period(w: WantedKey): PeriodWindow {
    const now = this.#now();
    const kind = this.#o.params.period;
    const cur = periodWindow(now, kind);
    const allowed = [periodWindow(now - this.#skew, kind), cur, nextPeriod(cur, kind)];
    const hit = allowed.find((p) => {
      const n = periodNtp(p);
      return n.fromNtp === w.fromNtp && n.toNtp === w.toNtp;
    });
    if (!hit) throw new KmsError('KMS_PERIOD', 'requested key period is not issuable now (only the current and the next period)', { mikeyError: Err.TS });
    return hit;
  }
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v);
  return b;
}
