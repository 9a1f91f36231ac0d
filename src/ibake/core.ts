// What every role of a MIKEY-IBAKE party shares (initiator.ts, responder.ts, update.ts): the
// options and results, the session tables, and the checks each message handler runs in the
// same way — PRF, T window, the replay cache keyed on the IBE ciphertext (before any pairing),
// decryption with the uniform failure, the K_SESSION work started ahead of need, and the V MAC.
// Handlers are functions of this core, so a reader finds a message's handling by its name.
import type { DecodedMessage, SrtpIdEntry, TPayload } from '../mikey/index.js';
import { computeVMac, verifyVMac } from '../mikey/mac.js';
import { exchangeKeysAhead, pointAhead, type IdleJob } from './ahead.js';
import type { SessionBinding } from './binding.js';
import { P256_POINT_BYTES, type P256Mul } from './ecdh.js';
import { ctEqual } from '../util/ct-equal.js';
import { IbakeError, authFailure } from './errors.js';
import { computeExchangeKeys, keysFromPoint, wipeExchangeKeys, type ExchangeInput, type ExchangeKeys } from './exchange-keys.js';
import { FreshnessGuard, msToNtp, type FreshnessOptions } from './freshness.js';
import type { IbePort } from './ibe-port.js';
import type { IbsPort } from './ibs-port.js';
import type { MailboxPrekeys } from './prekey/mailbox.js';
import { PrekeySeen } from './prekey/sk.js';
import { verifierFor, type PrekeyVerifier } from './prekey/record.js';
import { writeInner, type InnerFields } from './inner.js';
import { DEFAULT_PROFILE, SRTP_PROFILES, type CryptoSessionKeys } from './output.js';
import type { AnswerKind, InitiatorPolicy } from './policy.js';
import { type AnyState, type InitiatorState, type OfferState, type ResponderState, wipeState } from './state.js';
import { SessionStore } from './store.js';
import { ERR, PROFILE, bigToNtp, buildErr, malformed, uriBytes } from './wire.js';
import { V1_DERIVATION, type V1Option } from './profile-v1.js';

export interface EndpointOptions {
  /** Our identity URI (IDRi when we call, IDRr when we answer). */
  identity: string;
  ibe: IbePort;
  policy?: InitiatorPolicy;
  /**
   * Identities we answer for besides our own (forking: the common identity every device holds).
   * An I_MESSAGE_1 addressed to one of these is decrypted with its key; we answer as `identity`.
   */
  alsoAnswerFor?: string[];
  /** Answer I_MESSAGE_1s addressed to others that we cannot decrypt (retarget target / mailbox). */
  answerUndecryptable?: boolean;
  /** Mailbox (deferred delivery): store I_MESSAGE_2's ESK for the user; we get no media keys. */
  mailbox?: boolean;
  /**
   * Mailbox, deferred delivery v2: the users' signed prekeys (bundles added with
   * MailboxPrekeys.add); each R_MESSAGE_1 for a user carries one unused prekey of that user.
   * Without one (none configured, or none left) the answer carries no prekey and the caller
   * refuses it unless its policy allows the escrowed v1 flow.
   */
  mailboxPrekeys?: MailboxPrekeys;
  /**
   * Initiator, deferred delivery v2: checks a mailbox's signed prekey against the ADDRESSED
   * user's signing identity (Cha–Cheon, IbsKeyring). Without it no v2 deferred call is possible.
   */
  ibs?: IbsPort;
  /** Pre-encoded content: SRTP master key/salt per crypto session returned in R_MESSAGE_2's KEMAC. */
  preEncoded?: (csMap: SrtpIdEntry[]) => Array<{ masterKey: Uint8Array; masterSalt: Uint8Array }>;
  profile?: string;
  freshness?: FreshnessOptions;
  /** Lifetime of a half-open exchange (ms, default 60 s) and of an established one (default 12 h). */
  handshakeTimeoutMs?: number;
  establishedLifetimeMs?: number;
  /** Size of each session table (default 4096): half-open states beyond it are refused, established ones evicted LRU. */
  maxSessions?: number;
  /** Half-open exchanges per peer identity in each table (default 16): a new one evicts that peer's oldest. */
  maxHalfOpenPerPeer?: number;
  now?: () => number;
  /**
   * P-256 [k]Q off the JavaScript thread for K_SESSION (Engine.p256Mul of the native engine).
   * Default: node:crypto on this thread. Same octets either way.
   */
  p256?: P256Mul;
  /**
   * DANGEROUS, debugging only (`ibake call --reveal-secrets`): receives copies of the initiator's
   * K_SESSION, its inputs (the ECDH point, N_c, both identities as hashed), MPK, TGK and RAND of
   * each exchange. Never set it in production.
   */
  revealSecrets?: (s: RevealedSecrets) => void;
}

export interface RevealedSecrets {
  csbId: number;
  peer: string;
  kSession: Uint8Array;
  /** the inputs of the v2 K_SESSION hash */
  point: Uint8Array;
  nc: Uint8Array;
  idi: string;
  idr: string;
  rand: Uint8Array;
  mpk: Uint8Array;
  tgk: Uint8Array;
}

export type MessageName = 'I_MESSAGE_1' | 'R_MESSAGE_1' | 'I_MESSAGE_2' | 'R_MESSAGE_2' | 'ERROR';

export interface Established {
  csbId: number;
  role: 'initiator' | 'responder';
  peer: string;
  self: string;
  mode: AnswerKind | 'responder';
  keys: CryptoSessionKeys[];
  /** Deferred delivery by the v1 flow (only when the policy allows it): the KMS can read the content. */
  escrowed?: true;
}

export interface ReceiveResult {
  /** Bytes to send back, if any. */
  reply?: Uint8Array;
  replyName?: MessageName;
  /** Set when this message completed (or re-keyed) an exchange: copies of the keys. */
  established?: Established;
  /** Mailbox: the stored I_MESSAGE_2 for the addressed user (no keys for the mailbox). */
  stored?: { forUser: string; from: string; message: Uint8Array };
  /** CSB ID and peer the message belonged to. */
  csbId: number;
  peer: string;
}

export interface InitiateOptions {
  to: string;
  /** SSRCs of the crypto sessions (0 = let the responder choose). Default: [random, 0]. */
  ssrcs?: number[];
  /**
   * The CSB ID to use (1..2^32-1) instead of a random one: the daemon's router chooses it so it
   * can route the exchange's later messages by (identity, CSB ID). Refused if already in use.
   */
  csbId?: number;
}

export type VPayloadFields = { authAlg: number; mac: Uint8Array; offset: number };

/** Constant-time equality of byte strings (the protocol's name for util/ct-equal.ts's). */
export const eq = ctEqual;
export function copyKeys(k: CryptoSessionKeys[]): CryptoSessionKeys[] {
  return k.map((c) => ({ ...c, masterKey: c.masterKey.slice(), masterSalt: c.masterSalt.slice() }));
}
export function wipeKeyList(k: CryptoSessionKeys[] | undefined): void {
  for (const c of k ?? []) {
    c.masterKey.fill(0);
    c.masterSalt.fill(0);
  }
}
export function checkUri(u: unknown, what: string): string {
  if (typeof u !== 'string' || u.length === 0 || u.length > 1024 || u.includes('\0') || !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(u)) {
    throw new IbakeError('IBAKE_BAD_INPUT', `${what} must be a URI`);
  }
  return u;
}

/** The state and checks shared by the initiator, responder and update handlers. */
export class EndpointCore {
  readonly identity: string;
  readonly ibe: IbePort;
  readonly policy: InitiatorPolicy;
  readonly alsoAnswerFor: Set<string>;
  readonly opts: EndpointOptions;
  readonly now: () => number;
  readonly freshness: FreshnessGuard;
  readonly offers: SessionStore<OfferState>;
  readonly initiated: SessionStore<InitiatorState>;
  readonly responded: SessionStore<ResponderState>;
  readonly offerIndex = new Map<number, string>();
  /** Deferred v2: (user, prekey id) pairs this initiator has used, until their expiry. */
  readonly prekeysSeen = new PrekeySeen();
  /** Deferred v2: prekey signature checks in flight, by the initiator state object they belong
   *  to (a cache: a state restored elsewhere re-runs its check from the record it holds). */
  private readonly prekeyChecks = new Map<object, Promise<void>>();
  /** Deferred v2: checks prekey records (and remembers the bundle headers it has verified). */
  readonly prekeyVerifier: PrekeyVerifier | undefined;
  readonly profile: string;
  readonly hsTimeout: number;
  readonly lifetime: number;
  /** Profile v2 binding on (always, but for the internal v1 derivation of the bench A/B). */
  readonly v2: boolean;
  /** K_SESSION work started in idle time, by the state object it belongs to (a cache: a state
   *  table holds one object per (CSB ID, peer), and its removal drops the job): all the keys
   *  (initiator), or the ECDH point only (responder: N_c arrives with I_MESSAGE_2). Keyed by
   *  the object, not by a string made of kind, CSB ID and peer: no key is built per lookup. */
  private readonly ahead = new Map<object, IdleJob<ExchangeKeys> | IdleJob<Uint8Array>>();

  constructor(opts: EndpointOptions) {
    this.identity = checkUri(opts.identity, 'identity');
    this.ibe = opts.ibe;
    this.policy = opts.policy ?? {};
    this.alsoAnswerFor = new Set((opts.alsoAnswerFor ?? []).map((u) => checkUri(u, 'alsoAnswerFor')));
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.profile = opts.profile ?? DEFAULT_PROFILE;
    if (!SRTP_PROFILES[this.profile]) throw new IbakeError('IBAKE_BAD_INPUT', `unknown SRTP profile ${this.profile}`);
    this.hsTimeout = opts.handshakeTimeoutMs ?? 60_000;
    this.lifetime = opts.establishedLifetimeMs ?? 12 * 3600_000;
    this.v2 = (opts as V1Option)[V1_DERIVATION] !== true;
    this.prekeyVerifier = opts.ibs ? verifierFor(opts.ibs) : undefined;
    this.freshness = new FreshnessGuard({ now: this.now, ...opts.freshness });
    const storeOpts = {
      now: this.now,
      maxSessions: opts.maxSessions ?? 4096,
      maxHalfOpenPerPeer: opts.maxHalfOpenPerPeer ?? 256,
      onRemove: (s: object) => {
        this.dropAhead(s as AnyState);
        wipeState(s as AnyState);
      },
    };
    this.offers = new SessionStore<OfferState>(storeOpts);
    this.initiated = new SessionStore<InitiatorState>(storeOpts);
    this.responded = new SessionStore<ResponderState>(storeOpts);
  }

  // ---------------------------------------------------------------- K_SESSION ahead of need

  /** Starts all of an exchange's keys ahead of need (ahead.ts: an IdleJob, in idle time). */
  startAhead(state: { kind: string; csbId: number; peer: string }, input: ExchangeInput): void {
    this.setAhead(state, exchangeKeysAhead(input, this.opts.p256));
  }

  /** Starts only the ECDH point ahead of need (the binding's N_c is not known yet). */
  startPointAhead(state: { kind: string; csbId: number; peer: string }, input: ExchangeInput): void {
    this.setAhead(state, pointAhead(input, this.opts.p256));
  }

  hasAhead(state: { kind: string; csbId: number; peer: string }): boolean {
    return this.ahead.has(state);
  }

  private setAhead(state: { kind: string; csbId: number; peer: string }, job: IdleJob<ExchangeKeys> | IdleJob<Uint8Array>): void {
    this.ahead.get(state)?.drop();
    this.ahead.set(state, job);
  }

  /** The keys computed (or the point computed) ahead for `state`, completed now; else all now. */
  async keysFor(state: { kind: string; csbId: number; peer: string }, input: () => ExchangeInput): Promise<ExchangeKeys> {
    const job = this.ahead.get(state);
    this.ahead.delete(state);
    const got = await job?.take();
    if (got instanceof Uint8Array) {
      let x: ExchangeInput;
      try {
        x = input();
      } catch (e) {
        got.fill(0);
        throw e;
      }
      return keysFromPoint(x, got); // wipes the point
    }
    return got ?? computeExchangeKeys(input());
  }

  /** The in-flight prekey check of `state`, removed from the table (undefined: none there). */
  takePrekeyCheck(state: { kind: string; csbId: number; peer: string }): Promise<void> | undefined {
    const p = this.prekeyChecks.get(state);
    this.prekeyChecks.delete(state);
    return p;
  }

  setPrekeyCheck(state: { kind: string; csbId: number; peer: string }, p: Promise<void>): void {
    p.catch(() => {}); // awaited at R_MESSAGE_2; an early failure must not be unhandled meanwhile
    this.prekeyChecks.set(state, p);
  }

  dropAhead(state: AnyState): void {
    this.prekeyChecks.delete(state);
    this.ahead.get(state)?.drop();
    this.ahead.delete(state);
  }

  /** The v2 binding (or none, for the internal v1 derivation). */
  binding(b: SessionBinding): { binding?: SessionBinding } {
    return this.v2 ? { binding: b } : {};
  }

  // ---------------------------------------------------------------- shared checks

  errReply(msg: DecodedMessage, errNo: number): Uint8Array {
    return buildErr(msg.header.prf, msg.header.csbId, msToNtp(this.now()), errNo);
  }

  /** Rethrows `e` with the uniform Auth-failure reply when it is an auth failure without one. */
  fail(msg: DecodedMessage, e: unknown): never {
    if (e instanceof IbakeError && e.code === 'IBAKE_AUTH_FAILED' && !e.reply) throw authFailure(e.reason as never, this.errReply(msg, ERR.AUTH_FAILURE));
    if (e instanceof IbakeError) throw e;
    throw authFailure('decrypt', this.errReply(msg, ERR.AUTH_FAILURE));
  }

  authFail(msg: DecodedMessage, reason: Parameters<typeof authFailure>[0]): IbakeError {
    return authFailure(reason, this.errReply(msg, ERR.AUTH_FAILURE));
  }

  checkPrf(msg: DecodedMessage): void {
    if (msg.header.prf !== PROFILE.prf) {
      throw new IbakeError('IBAKE_UNSUPPORTED', `PRF func ${msg.header.prf} not in our profile`, { reply: this.errReply(msg, ERR.INVALID_PRF) });
    }
  }

  /** The V bit: 1 in every message that expects an answer (docs/profile.md §2: 0x81). */
  checkVBit(msg: DecodedMessage, want: boolean): void {
    if (msg.header.v !== want) throw malformed(`V bit must be ${want ? 1 : 0}`);
  }

  checkT(msg: DecodedMessage, t: TPayload): number {
    if (t.tsType !== PROFILE.tsType) throw new IbakeError('IBAKE_STALE', 'T must be NTP-UTC', { reply: this.errReply(msg, ERR.INVALID_TS) });
    try {
      return this.freshness.checkTime(bigToNtp(t.value));
    } catch (e) {
      throw new IbakeError('IBAKE_STALE', (e as Error).message, { reply: this.errReply(msg, ERR.INVALID_TS) });
    }
  }

  /**
   * The replay cache, keyed on the IBE ciphertext itself (DESIGN §3): checked before any
   * pairing, so a ciphertext once accepted is refused whatever clear fields (CSB ID, T, RAND)
   * surround it. Returns the entry to record with rememberCiphertext once the message passed
   * every check (a tampered copy that fails does not burn the genuine message).
   */
  checkCiphertext(ct: Uint8Array): string {
    return this.freshness.checkReplay([ct]);
  }

  /** Records an accepted ciphertext until its (verified, bound) T leaves the window. */
  rememberCiphertext(id: string, tMs: number): void {
    this.freshness.remember(id, tMs);
  }

  /**
   * decryptAs(…, peer), and when the port can, in the same engine call the encryption to
   * `peer` (period of `replyTMs`) of writeInner(reply) with the point at `replyAt` replaced by
   * the plaintext's octets at `plainAt` (IbePort.decryptAndReply). `early` is that ciphertext:
   * to be sent only once the plaintext has passed its checks and `echoes` the point we mean to send.
   */
  async decryptReplying(
    msg: DecodedMessage, uri: string, tMs: number, ct: Uint8Array, peer: string, replyTMs: number,
    reply: InnerFields, plainAt: number, replyAt: number,
  ): Promise<{ plain: Uint8Array; early?: Uint8Array }> {
    if (!this.ibe.decryptAndReply) return { plain: await this.decryptAs(msg, uri, tMs, ct, peer) };
    try {
      const r = await this.ibe.decryptAndReply(uri, tMs, ct, peer, replyTMs, writeInner(reply), { from: plainAt, to: replyAt, n: P256_POINT_BYTES });
      return r.reply ? { plain: r.plain, early: r.reply } : { plain: r.plain };
    } catch (e) {
      throw this.decryptError(msg, e);
    }
  }

  /** Decrypts as `uri`; with `prepareFor`, the port may prepare that peer's entry beside it. */
  async decryptAs(msg: DecodedMessage, uri: string, tMs: number, ct: Uint8Array, prepareFor?: string): Promise<Uint8Array> {
    try {
      return await (prepareFor !== undefined && this.ibe.decryptAndPrepare
        ? this.ibe.decryptAndPrepare(uri, tMs, ct, prepareFor)
        : this.ibe.decrypt(uri, tMs, ct));
    } catch (e) {
      throw this.decryptError(msg, e);
    }
  }

  /** A decryption's failure as the peer sees it: no key, or the uniform auth failure. */
  private decryptError(msg: DecodedMessage, e: unknown): IbakeError {
    if (e instanceof IbakeError && e.code === 'IBAKE_NO_KEY') return new IbakeError('IBAKE_NO_KEY', e.message, { reply: this.errReply(msg, ERR.AUTH_FAILURE) });
    return this.authFail(msg, 'decrypt');
  }

  /** Writes the V MAC (last payload, HMAC-SHA-256-256) of `reply` under `authKey`, identities in original roles. */
  signV(reply: Uint8Array, authKey: Uint8Array, idi: string, idr: string): Uint8Array {
    const macOffset = reply.length - PROFILE.vMacLen;
    reply.set(computeVMac(PROFILE.vAuthAlg, authKey, { message: reply, macOffset, identities: [uriBytes(idi), uriBytes(idr)] }), macOffset);
    return reply;
  }

  /** Verifies a received V payload (last, our auth alg) under `authKey`, in constant time. */
  checkV(msg: DecodedMessage, v: VPayloadFields, authKey: Uint8Array, idi: string, idr: string): boolean {
    const macOffset = v.offset + 2;
    return (
      v.authAlg === PROFILE.vAuthAlg &&
      macOffset + PROFILE.vMacLen === msg.bytes.length &&
      verifyVMac(PROFILE.vAuthAlg, authKey, { message: msg.bytes, macOffset, identities: [uriBytes(idi), uriBytes(idr)] }, v.mac)
    );
  }
}

export { wipeExchangeKeys };
