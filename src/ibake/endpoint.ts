// One MIKEY-IBAKE party (RFC 6267 on RFC 6539): the initiator and responder state machines,
// message in / message out (the caller carries the bytes in SIP/SDP). Flow and checks:
//   I_MESSAGE_1 -> R_MESSAGE_1 -> I_MESSAGE_2 -> R_MESSAGE_2   (docs/profile.md §4)
// * cheap checks first: strict decode + shape, T window and replay cache, session lookup,
//   copied-field checks — all BEFORE any pairing (security.md §3.1);
// * then IBE decryption, the identities inside each ciphertext against IDRi/IDRr and the
//   expected peer, the echo of our own DH value, validation of the peer's point;
// * every pre-authentication failure is IBAKE_AUTH_FAILED with one ERR (Auth failure) reply;
//   T outside the window is answered with ERR Invalid TS; malformed input is silently dropped;
// * keys are released to the caller only after the peer is authenticated (responder: on
//   I_MESSAGE_2; initiator: on R_MESSAGE_2 with a good V MAC = key confirmation);
// * a failure in one session never changes another session's state.
// Scenarios: forking, silent retargeting, deferred delivery (mailbox), pre-encoded content,
// CSB update (re-keying). See docs/profile.md and docs/security.md.
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { randomOctets } from '../util/random.js';
import type { DecodedMessage, EskPayload, IbakePayload, IdrPayload, KemacPayload, Payload, RandPayload, SrtpIdEntry, TPayload } from '../mikey/index.js';
import { deriveMessageKeys, deriveSessionKeys, wipeKeys } from '../mikey/keys.js';
import { computeVMac, verifyVMac } from '../mikey/mac.js';
import { kemacDecrypt, kemacEncrypt } from '../mikey/kemac-crypto.js';
import { decodeInnerChain, encodeInnerChain } from '../mikey/index.js';
import { IbakeError, authFailure } from './errors.js';
import { exchangeKeysAhead, takeEphemeral as generateEphemeral, type IdleJob } from './ahead.js';
import { assertP256Point, computeKSession, P256_POINT_BYTES, wipeEphemeral, type P256Mul } from './ecdh.js';
import { computeExchangeKeys, wipeExchangeKeys, type ExchangeInput, type ExchangeKeys } from './exchange-keys.js';
import { FreshnessGuard, msToNtp, ntpToMs, type FreshnessOptions } from './freshness.js';
import type { IbePort } from './ibe-port.js';
import { ECHOED, echoes, innerPointAt, readEskPlain, readInner, readInnerEcho, writeEskPlain, writeInner, writeInnerEcho, type InnerFields } from './inner.js';
import { DEFAULT_PROFILE, SRTP_PROFILES, deriveCsKeys, wipeCsKeys, type CryptoSessionKeys, type KeySource } from './output.js';
import { classifyAnswer, type AnswerKind, type InitiatorPolicy } from './policy.js';
import { type AnyState, type InitiatorState, type OfferState, type ResponderState, wipeState } from './state.js';
import { SessionStore } from './store.js';
import { DT, ERR, MESSAGE_NAMES, PROFILE, ROLE, bigToNtp, buildErr, decode, encode, idr, malformed, ntpToBig, shape, srtpMap, uriOf } from './wire.js';

/** T of a CSB update: now, but strictly newer than anything accepted for the CSB (no rollback). */
function updateT(nowMs: number, lastT: Uint8Array): Uint8Array {
  const t = msToNtp(nowMs);
  return ntpToBig(t) > ntpToBig(lastT) ? t : bigToNtp(ntpToBig(lastT) + 1n);
}

const aheadKey = (s: { kind: string; csbId: number; peer: string }) => `${s.kind} ${s.csbId} ${s.peer}`;

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
  /** Pre-encoded content: SRTP master key/salt per crypto session returned in R_MESSAGE_2's KEMAC. */
  preEncoded?: (csMap: SrtpIdEntry[]) => Array<{ masterKey: Uint8Array; masterSalt: Uint8Array }>;
  profile?: string;
  freshness?: FreshnessOptions;
  /** Lifetime of a half-open exchange (ms, default 60 s) and of an established one (default 12 h). */
  handshakeTimeoutMs?: number;
  establishedLifetimeMs?: number;
  maxSessions?: number;
  now?: () => number;
  /**
   * P-256 [k]Q off the JavaScript thread for K_SESSION (Engine.p256Mul of the native engine).
   * Default: node:crypto on this thread. Same octets either way.
   */
  p256?: P256Mul;
  /**
   * DANGEROUS, debugging only (`ibake call --reveal-secrets`): receives copies of the initiator's
   * K_SESSION, MPK, TGK and RAND of each exchange. Never set it in production.
   */
  revealSecrets?: (s: { csbId: number; peer: string; kSession: Uint8Array; rand: Uint8Array; mpk: Uint8Array; tgk: Uint8Array }) => void;
}

export type MessageName = 'I_MESSAGE_1' | 'R_MESSAGE_1' | 'I_MESSAGE_2' | 'R_MESSAGE_2' | 'ERROR';

export interface Established {
  csbId: number;
  role: 'initiator' | 'responder';
  peer: string;
  self: string;
  mode: AnswerKind | 'responder';
  keys: CryptoSessionKeys[];
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
}

function eq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
function copyKeys(k: CryptoSessionKeys[]): CryptoSessionKeys[] {
  return k.map((c) => ({ ...c, masterKey: c.masterKey.slice(), masterSalt: c.masterSalt.slice() }));
}
function checkUri(u: unknown, what: string): string {
  if (typeof u !== 'string' || u.length === 0 || u.length > 1024 || u.includes('\0') || !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(u)) {
    throw new IbakeError('IBAKE_BAD_INPUT', `${what} must be a URI`);
  }
  return u;
}
function nonZeroU32(): number {
  return randomInt(1, 0xffffffff);
}

export class IbakeEndpoint {
  readonly identity: string;
  private readonly ibe: IbePort;
  private readonly policy: InitiatorPolicy;
  private readonly alsoAnswerFor: Set<string>;
  private readonly opts: EndpointOptions;
  private readonly now: () => number;
  readonly freshness: FreshnessGuard;
  readonly offers: SessionStore<OfferState>;
  readonly initiated: SessionStore<InitiatorState>;
  readonly responded: SessionStore<ResponderState>;
  private readonly offerIndex = new Map<number, string>();
  private readonly profile: string;
  private readonly hsTimeout: number;
  private readonly lifetime: number;
  /** K_SESSION work started in idle time, by aheadKey of the state it belongs to (a cache). */
  private readonly ahead = new Map<string, IdleJob<ExchangeKeys>>();

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
    this.freshness = new FreshnessGuard({ now: this.now, ...opts.freshness });
    const storeOpts = {
      now: this.now,
      maxSessions: opts.maxSessions ?? 4096,
      onRemove: (s: object) => {
        this.dropAhead(s as AnyState);
        wipeState(s as AnyState);
      },
    };
    this.offers = new SessionStore<OfferState>(storeOpts);
    this.initiated = new SessionStore<InitiatorState>(storeOpts);
    this.responded = new SessionStore<ResponderState>(storeOpts);
  }

  // ------------------------------------------------------------------ initiator: I_MESSAGE_1

  /** Starts an exchange: returns I_MESSAGE_1 and the CSB ID. */
  async initiate(o: InitiateOptions): Promise<{ message: Uint8Array; csbId: number }> {
    const to = checkUri(o.to, 'to');
    const ssrcs = o.ssrcs ?? [nonZeroU32(), 0];
    if (!Array.isArray(ssrcs) || ssrcs.length < 1 || ssrcs.length > 255 || ssrcs.some((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff)) {
      throw new IbakeError('IBAKE_BAD_INPUT', 'ssrcs must be 1..255 32-bit integers');
    }
    let csbId = nonZeroU32();
    while (this.offerIndex.has(csbId)) csbId = nonZeroU32();
    const nowMs = this.now();
    // A new peer's Q_ID and g_ID need nothing from this message: start them before building it.
    this.ibe.prepare?.(to, nowMs);
    const t = msToNtp(nowMs);
    const rand = randomOctets(PROFILE.randLen);
    const eph = generateEphemeral();
    const csMap: SrtpIdEntry[] = ssrcs.map((ssrc) => ({ policyNo: 0, ssrc, roc: 0 }));
    try {
      const ct = await this.ibe.encrypt(to, nowMs, writeInner({ idi: this.identity, eccpti: eph.publicPoint, idr: to }));
      const message = encode({
        header: { dataType: DT.I_MESSAGE_1, v: true, prf: PROFILE.prf, csbId, csMap: { type: 0, entries: csMap } },
        payloads: [
          { kind: 'T', tsType: PROFILE.tsType, value: ntpToBig(t) },
          { kind: 'RAND', rand },
          idr(ROLE.I, this.identity),
          idr(ROLE.R, to),
          { kind: 'IBAKE', encrData: ct },
        ],
      });
      this.offers.put({
        kind: 'offer', csbId, peer: to, self: this.identity, deadline: nowMs + this.hsTimeout,
        x: eph.secret, xP: eph.publicPoint, rand, t, csMap, profile: this.profile,
      });
      this.offerIndex.set(csbId, to);
      return { message, csbId };
    } catch (e) {
      wipeEphemeral(eph);
      throw e;
    }
  }

  // ------------------------------------------------------------------ dispatch

  /** Processes one received message; returns the reply to send (if any) and any keys. */
  async receive(bytes: Uint8Array): Promise<ReceiveResult> {
    const msg = decode(bytes);
    if (msg.header.version !== undefined && msg.header.version !== 1) throw malformed('version');
    switch (msg.header.dataType) {
      case DT.I_MESSAGE_1:
        return this.onIMessage1(msg);
      case DT.R_MESSAGE_1:
        return this.onRMessage1(msg);
      case DT.I_MESSAGE_2:
        return this.abortOnAuthFailure(msg, this.responded, () => this.onIMessage2(msg));
      case DT.R_MESSAGE_2:
        return this.abortOnAuthFailure(msg, this.initiated, () => this.onRMessage2(msg));
      case DT.ERROR:
        // Unauthenticated: a hint only, never tears a session down (security.md §3.4).
        throw new IbakeError('IBAKE_STATE', 'peer sent an RFC 3830 Error message (ignored: unauthenticated)');
      default:
        throw new IbakeError('IBAKE_UNSUPPORTED', `data type ${msg.header.dataType} is not part of MIKEY-IBAKE`, {
          reply: buildErr(msg.header.prf, msg.header.csbId, msToNtp(this.now()), ERR.INVALID_DT),
        });
    }
  }

  /**
   * RFC 6539 §3.2: on a failed check the exchange halts and its secrets are discarded. Only
   * the session the (decoded) message names is touched; every other session is unchanged.
   */
  private async abortOnAuthFailure(
    msg: DecodedMessage,
    store: SessionStore<InitiatorState> | SessionStore<ResponderState>,
    run: () => Promise<ReceiveResult>,
  ): Promise<ReceiveResult> {
    try {
      return await run();
    } catch (e) {
      if (e instanceof IbakeError && e.code === 'IBAKE_AUTH_FAILED') {
        const ids = msg.payloads.filter((p): p is IdrPayload & { offset: number; length: number } => p.kind === 'IDR');
        const peerRole = store === this.responded ? ROLE.I : ROLE.R;
        const p = ids.find((x) => x.role === peerRole);
        if (p) {
          try {
            const peer = uriOf(p);
            const s = store.find(msg.header.csbId, peer);
            if (s && s.state !== 'established') store.delete(msg.header.csbId, peer);
          } catch {
            /* undecodable identity: nothing to abort */
          }
        }
      }
      throw e;
    }
  }

  // ------------------------------------------------------------------ K_SESSION ahead of need

  /**
   * Starts K_SESSION and its keys ahead of need (ahead.ts: an IdleJob, in idle time on this
   * thread): the responder once it has sent R_MESSAGE_1, the initiator once it has sent
   * I_MESSAGE_2. The inputs belong to the session state, which outlives the job.
   */
  private startAhead(state: { kind: string; csbId: number; peer: string }, input: ExchangeInput): void {
    const key = aheadKey(state);
    this.ahead.get(key)?.drop();
    this.ahead.set(key, exchangeKeysAhead(input, this.opts.p256));
  }

  /** The keys computed ahead for `state`, or (none, or the job failed) computed now. */
  private async keysFor(state: { kind: string; csbId: number; peer: string }, input: () => ExchangeInput): Promise<ExchangeKeys> {
    const key = aheadKey(state);
    const job = this.ahead.get(key);
    this.ahead.delete(key);
    return (await job?.take()) ?? computeExchangeKeys(input());
  }

  private responderInput(s: ResponderState, xP: Uint8Array): ExchangeInput {
    const tgkKeys = !this.opts.mailbox && !this.opts.preEncoded;
    return {
      secret: s.y, peerPoint: xP, ownPoint: s.yP, prf: s.prf, csbId: s.csbId, rand: s.rand, authLen: PROFILE.vMacLen,
      reveal: !!this.opts.revealSecrets, ...(tgkKeys ? { cs: { map: s.csMap, profile: s.profile } } : {}),
    };
  }

  private initiatorInput(s: InitiatorState, secret: Uint8Array | undefined): ExchangeInput {
    if (!secret) throw new IbakeError('IBAKE_STATE', 'no ephemeral secret left for this exchange');
    return {
      secret, peerPoint: s.yP, ownPoint: s.xP, prf: PROFILE.prf, csbId: s.csbId, rand: s.rand, authLen: PROFILE.vMacLen,
      reveal: !!this.opts.revealSecrets, ...(s.mode !== 'deferred' ? { cs: { map: s.csMap, profile: s.profile } } : {}),
    };
  }

  private dropAhead(state: AnyState): void {
    const key = aheadKey(state);
    this.ahead.get(key)?.drop();
    this.ahead.delete(key);
  }

  private errReply(msg: DecodedMessage, errNo: number): Uint8Array {
    return buildErr(msg.header.prf, msg.header.csbId, msToNtp(this.now()), errNo);
  }
  private fail(msg: DecodedMessage, e: unknown): never {
    if (e instanceof IbakeError && e.code === 'IBAKE_AUTH_FAILED' && !e.reply) throw authFailure(e.reason as never, this.errReply(msg, ERR.AUTH_FAILURE));
    if (e instanceof IbakeError) throw e;
    throw authFailure('decrypt', this.errReply(msg, ERR.AUTH_FAILURE));
  }
  private checkPrf(msg: DecodedMessage): void {
    if (msg.header.prf !== PROFILE.prf) {
      throw new IbakeError('IBAKE_UNSUPPORTED', `PRF func ${msg.header.prf} not in our profile`, { reply: this.errReply(msg, ERR.INVALID_PRF) });
    }
  }
  private checkT(msg: DecodedMessage, t: TPayload): number {
    if (t.tsType !== PROFILE.tsType) throw new IbakeError('IBAKE_STALE', 'T must be NTP-UTC', { reply: this.errReply(msg, ERR.INVALID_TS) });
    try {
      return this.freshness.checkTime(bigToNtp(t.value));
    } catch (e) {
      throw new IbakeError('IBAKE_STALE', (e as Error).message, { reply: this.errReply(msg, ERR.INVALID_TS) });
    }
  }
  /**
   * decryptAs(…, peer), and when the port can, in the same engine call the encryption to
   * `peer` (period of `replyTMs`) of writeInner(reply) with the point at `replyAt` replaced by the plaintext's octets
   * at `plainAt` (IbePort.decryptAndReply). `early` is that ciphertext: to be sent only once the
   * plaintext has passed its checks and `echoes` the point we mean to send.
   */
  private async decryptReplying(
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
  private async decryptAs(msg: DecodedMessage, uri: string, tMs: number, ct: Uint8Array, prepareFor?: string): Promise<Uint8Array> {
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
    return authFailure('decrypt', this.errReply(msg, ERR.AUTH_FAILURE));
  }

  // ------------------------------------------------------------------ responder: I_MESSAGE_1

  private async onIMessage1(msg: DecodedMessage): Promise<ReceiveResult> {
    // CSB update (re-keying) has no RAND (RFC 6267 §5.3).
    if (!msg.payloads.some((p) => p.kind === 'RAND')) {
      // CSB update: IDRi first = sent by the original initiator; IDRr first = by the original responder.
      const first = msg.payloads.find((p): p is IdrPayload & { offset: number; length: number } => p.kind === 'IDR');
      return first?.role === ROLE.R ? this.onUpdateFromResponder(msg) : this.onUpdateI1(msg);
    }
    const [[tP], [randP], [idiP], [idrP], , [ibakeP]] = shape(msg, ['T', 'RAND', 'IDR', 'IDR', 'SP*', 'IBAKE']) as [
      [TPayload], [RandPayload], [IdrPayload], [IdrPayload], Payload[], [IbakePayload],
    ];
    if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
    const peer = uriOf(idiP!);
    const addressed = uriOf(idrP!);
    this.checkPrf(msg);
    const csMap = srtpMap(msg);
    if (csMap.length === 0) throw malformed('no crypto sessions');
    const tMs = this.checkT(msg, tP!);
    const tNtp = bigToNtp(tP!.value);
    const replayKey = [u32(msg.header.csbId), Buffer.from(peer), tNtp, randP!.rand];
    const replayId = this.freshness.checkReplay(replayKey);
    if (this.responded.has(msg.header.csbId, peer)) throw new IbakeError('IBAKE_STATE', 'exchange already exists for this CSB ID and peer');
    if (peer === this.identity) throw authFailure('identity-mismatch', this.errReply(msg, ERR.AUTH_FAILURE));

    const ours = addressed === this.identity || this.alsoAnswerFor.has(addressed);
    let xP: Uint8Array | undefined;
    if (!ours && !this.opts.answerUndecryptable) {
      // No crypto at all for messages addressed to identities we do not hold.
      throw new IbakeError('IBAKE_NO_KEY', 'I_MESSAGE_1 is addressed to an identity we do not hold', { reply: this.errReply(msg, ERR.INVALID_ID) });
    }
    // The reply is encrypted to the caller: make its recipient entry while we decrypt.
    if (!ours || !this.ibe.decryptAndPrepare) this.ibe.prepare?.(peer, tMs);
    const eph = generateEphemeral();
    try {
      // R_MESSAGE_1's IBAKE plaintext echoes xP where I_MESSAGE_1's carries it (IDRi(peer)
      // comes first in both): the port may encrypt it in the decryption's engine call.
      let early: Uint8Array | undefined;
      if (ours) {
        const echo = { idi: peer, eccpti: ECHOED, idr: this.identity, eccptr: eph.publicPoint };
        const at = innerPointAt(echo, 'i');
        const got = await this.decryptReplying(msg, addressed, tMs, ibakeP!.encrData, peer, tMs, echo, at, at);
        try {
          const f = readInner(got.plain, { i: 'yes', r: 'no' });
          if (f.idi !== peer || f.idr !== addressed) throw authFailure('identity-mismatch');
          assertP256Point(f.eccpti!);
          xP = f.eccpti!;
          if (got.early && echoes(got.plain, at, xP)) early = got.early;
        } finally {
          got.plain.fill(0);
        }
      }
      this.freshness.remember(replayId, tMs);
      // Fill SSRC 0 entries with our own (CS ID map info is not among the copied fields).
      const map = csMap.map((e) => ({ ...e, ssrc: e.ssrc === 0 ? nonZeroU32() : e.ssrc }));
      const ct = early ?? (await this.ibe.encrypt(peer, tMs, writeInner({ idi: peer, eccpti: xP, idr: this.identity, eccptr: eph.publicPoint })));
      const reply = encode({
        header: { dataType: DT.R_MESSAGE_1, v: true, prf: msg.header.prf, csbId: msg.header.csbId, csMap: { type: 0, entries: map } },
        payloads: [
          { kind: 'T', tsType: PROFILE.tsType, value: tP!.value },
          idr(ROLE.I, peer),
          idr(ROLE.R, this.identity),
          { kind: 'IBAKE', encrData: ct },
        ],
      });
      if (xP && eq(xP, eph.publicPoint)) throw authFailure('bad-point');
      const st: ResponderState = {
        kind: 'responder', csbId: msg.header.csbId, peer, self: this.identity, addressed,
        deadline: this.now() + this.hsTimeout, state: 'sent-r1', blind: !xP, rand: randP!.rand.slice(),
        t: tNtp, lastT: tNtp, prf: msg.header.prf, csMap: map, profile: this.profile,
        y: eph.secret, yP: eph.publicPoint, ...(xP ? { xP: xP.slice() } : {}),
      };
      this.responded.put(st);
      // K_SESSION is needed only for R_MESSAGE_2: compute it while the initiator works.
      if (st.xP) this.startAhead(st, this.responderInput(st, st.xP));
      return { reply, replyName: 'R_MESSAGE_1', csbId: msg.header.csbId, peer };
    } catch (e) {
      wipeEphemeral(eph);
      this.fail(msg, e);
    }
  }

  // ------------------------------------------------------------------ initiator: R_MESSAGE_1

  private async onRMessage1(msg: DecodedMessage): Promise<ReceiveResult> {
    if (msg.payloads.some((p) => p.kind === 'V')) {
      const idi = msg.payloads.find((p): p is IdrPayload & { offset: number; length: number } => p.kind === 'IDR' && p.role === ROLE.I);
      // Answer to OUR responder-initiated update (we are the original responder), else to an initiator one.
      if (idi && uriOf(idi) !== this.identity) return this.onUpdateR1AsResponder(msg);
      return this.onUpdateR1(msg);
    }
    const [[tP], [idiP], [idrP], [ibakeP]] = shape(msg, ['T', 'IDR', 'IDR', 'IBAKE']) as [[TPayload], [IdrPayload], [IdrPayload], [IbakePayload]];
    if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
    const idi = uriOf(idiP!);
    const answering = uriOf(idrP!);
    const csbId = msg.header.csbId;
    const addressed = this.offerIndex.get(csbId);
    if (addressed === undefined) throw new IbakeError('IBAKE_NO_SESSION', 'no offer for this CSB ID');
    let offer: OfferState;
    try {
      offer = this.offers.get(csbId, addressed);
    } catch (e) {
      this.offerIndex.delete(csbId);
      throw e;
    }
    // Cheap checks before any pairing.
    if (idi !== this.identity) throw authFailure('identity-mismatch', this.errReply(msg, ERR.AUTH_FAILURE));
    if (msg.header.prf !== PROFILE.prf) throw malformed('PRF func not copied');
    if (tP!.tsType !== PROFILE.tsType || !eq(bigToNtp(tP!.value), offer.t)) throw malformed('T not copied from I_MESSAGE_1');
    const map = srtpMap(msg);
    if (map.length !== offer.csMap.length || map.some((e, i) => e.policyNo !== offer.csMap[i]!.policyNo || e.roc !== offer.csMap[i]!.roc || (offer.csMap[i]!.ssrc !== 0 && e.ssrc !== offer.csMap[i]!.ssrc))) {
      throw malformed('CS map does not match I_MESSAGE_1');
    }
    if (this.initiated.has(csbId, answering)) throw new IbakeError('IBAKE_STATE', 'R_MESSAGE_1 already processed for this responder');
    const tMs = ntpToMs(offer.t, this.now());
    // I_MESSAGE_2 goes to the answering identity (and an ESK maybe to the addressed one).
    this.ibe.prepare?.(answering, this.now());

    // I_MESSAGE_2's IBAKE plaintext echoes yP, which R_MESSAGE_1's carries last when the
    // responder echoed xP (the usual case): the port may encrypt it in the decryption's call.
    const nowMs = this.now();
    const echo = { idi: this.identity, idr: answering, eccptr: ECHOED };
    const at = innerPointAt({ idi: this.identity, eccpti: offer.xP, idr: answering }, 'r');
    const got = await this.decryptReplying(msg, this.identity, tMs, ibakeP!.encrData, answering, nowMs, echo, at, innerPointAt(echo, 'r'));
    let f;
    let early: Uint8Array | undefined;
    try {
      f = readInner(got.plain, { i: 'maybe', r: 'yes' });
      if (f.idi !== this.identity || f.idr !== answering) throw authFailure('identity-mismatch');
      if (f.eccpti && !eq(f.eccpti, offer.xP)) throw authFailure('echo-mismatch');
      assertP256Point(f.eccptr!);
      if (eq(f.eccptr!, offer.xP)) throw authFailure('bad-point'); // reflection of our own point
      if (got.early && f.eccpti && echoes(got.plain, at, f.eccptr!)) early = got.early;
    } catch (e) {
      this.fail(msg, e);
    } finally {
      got.plain.fill(0);
    }
    const echoed = f.eccpti !== undefined;
    const mode = await classifyAnswer(this.policy, addressed, answering, echoed);
    if (!mode) throw new IbakeError('IBAKE_POLICY', `answer from ${answering} (addressed ${addressed}) refused by policy`);

    const sk = mode === 'deferred' || !echoed ? new Uint8Array(randomBytes(PROFILE.skLen)) : undefined;
    const t2 = msToNtp(nowMs);
    const eskPlain = sk ? writeEskPlain(this.identity, sk) : undefined;
    try {
      const [ct, eskCt] = await Promise.all([
        early ?? this.ibe.encrypt(answering, nowMs, writeInner({ idi: this.identity, eccpti: echoed ? undefined : offer.xP, idr: answering, eccptr: f.eccptr })),
        eskPlain ? this.ibe.encrypt(addressed, nowMs, eskPlain) : Promise.resolve(undefined),
      ]);
      const payloads: Payload[] = [
        { kind: 'T', tsType: PROFILE.tsType, value: ntpToBig(t2) },
        { kind: 'RAND', rand: offer.rand },
        idr(ROLE.I, this.identity),
        idr(ROLE.R, answering),
        { kind: 'IBAKE', encrData: ct },
      ];
      // RFC 6267 §4.2.2.5: ESK mandatory when ECCPTi was missing; to the addressed user (OPEN-13).
      if (eskCt) payloads.push({ kind: 'ESK', encrData: eskCt });
      const reply = encode({
        header: { dataType: DT.I_MESSAGE_2, v: true, prf: PROFILE.prf, csbId, csMap: { type: 0, entries: map } },
        payloads,
      });
      const st: InitiatorState = {
        kind: 'initiator', csbId, peer: answering, addressed, self: this.identity,
        deadline: nowMs + this.hsTimeout, state: 'sent-i2', mode, rand: offer.rand.slice(), t2, lastT: t2,
        csMap: map, profile: offer.profile, xP: offer.xP.slice(), yP: f.eccptr!.slice(), echoedInR1: echoed,
        x: offer.x.slice(), ...(mode === 'deferred' && sk ? { sk } : {}),
      };
      this.initiated.put(st);
      if (sk && mode !== 'deferred') sk.fill(0);
      // K_SESSION is needed only for R_MESSAGE_2: compute it while the responder decrypts. The
      // job uses the offer's x (its node:crypto object is still live); st.x is the fallback.
      this.startAhead(st, this.initiatorInput(st, offer.x));
      return { reply, replyName: 'I_MESSAGE_2', csbId, peer: answering };
    } catch (e) {
      sk?.fill(0);
      throw e;
    } finally {
      eskPlain?.fill(0);
    }
  }

  // ------------------------------------------------------------------ responder: I_MESSAGE_2

  private async onIMessage2(msg: DecodedMessage): Promise<ReceiveResult> {
    const [[tP], [randP], [idiP], [idrP], [ibakeP], eskPs] = shape(msg, ['T', 'RAND', 'IDR', 'IDR', 'IBAKE', 'ESK?']) as [
      [TPayload], [RandPayload], [IdrPayload], [IdrPayload], [IbakePayload], EskPayload[],
    ];
    if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
    const peer = uriOf(idiP!);
    const self = uriOf(idrP!);
    const csbId = msg.header.csbId;
    const s = this.responded.get(csbId, peer);
    if (s.state !== 'sent-r1') throw new IbakeError('IBAKE_STATE', 'I_MESSAGE_2 not expected in this state');
    // Misrouted (forking: the I_MESSAGE_2 of a sibling device) — not an attack on this session.
    if (self !== s.self) throw new IbakeError('IBAKE_NO_SESSION', 'no session for this CSB ID, peer and responder identity');
    if (msg.header.prf !== s.prf) throw malformed('PRF func not copied');
    if (!eq(randP!.rand, s.rand)) throw malformed('RAND differs from I_MESSAGE_1');
    const tMs = this.checkT(msg, tP!);
    const map = srtpMap(msg);
    if (map.length !== s.csMap.length || map.some((e, i) => e.ssrc !== s.csMap[i]!.ssrc || e.policyNo !== s.csMap[i]!.policyNo || e.roc !== s.csMap[i]!.roc)) {
      throw malformed('CS map differs from R_MESSAGE_1');
    }
    if (s.blind && eskPs.length === 0) throw authFailure('esk', this.errReply(msg, ERR.AUTH_FAILURE));

    // K_SESSION was started once R_MESSAGE_1 went out; for a state restored elsewhere it is
    // started now, to run while the engine decrypts (used only if the message checks out).
    if (s.xP && !this.ahead.has(aheadKey(s))) this.startAhead(s, this.responderInput(s, s.xP));
    const plain = await this.decryptAs(msg, self, tMs, ibakeP!.encrData);
    let xP: Uint8Array;
    let ek: ExchangeKeys;
    try {
      const f = readInner(plain, { i: s.blind ? 'yes' : 'no', r: 'yes' });
      if (f.idi !== peer || f.idr !== self) throw authFailure('identity-mismatch');
      if (!eq(f.eccptr!, s.yP)) throw authFailure('echo-mismatch');
      xP = s.xP ?? f.eccpti!;
      // Authenticated: the peer could read our yP, so it holds K_PR of `peer`.
      ek = await this.keysFor(s, () => this.responderInput(s, xP));
    } catch (e) {
      this.fail(msg, e);
    } finally {
      plain.fill(0);
    }
    const sess = ek.sess;
    ek.kSession?.fill(0);
    let keys: CryptoSessionKeys[] | undefined;
    let keySource: KeySource | undefined;
    const payloads: Payload[] = [
      { kind: 'T', tsType: PROFILE.tsType, value: tP!.value },
      idr(ROLE.I, peer),
      idr(ROLE.R, self),
    ];
    try {
      if (s.blind) {
        payloads.push({ kind: 'IBAKE', encrData: await this.ibe.encrypt(peer, tMs, writeInnerEcho(peer, xP)) });
      }
      if (this.opts.preEncoded && !this.opts.mailbox) {
        const pre = this.opts.preEncoded(s.csMap);
        if (pre.length !== s.csMap.length) throw new IbakeError('IBAKE_BAD_INPUT', 'preEncoded must give one key per crypto session');
        const lens = SRTP_PROFILES[s.profile]!;
        const chain = encodeInnerChain(
          pre.map((k) => {
            if (k.masterKey.length !== lens.key || k.masterSalt.length !== lens.salt) throw new IbakeError('IBAKE_BAD_INPUT', 'preEncoded key length');
            return { kind: 'KEY' as const, keyType: 3, key: k.masterKey, salt: k.masterSalt, kv: { type: 0 as const } };
          }),
          KEY_CHAIN,
        );
        const mk = deriveMessageKeys(s.prf, sess.mpk, csbId, s.rand, { encr: 16, auth: 32, salt: 14 });
        const enc = kemacEncrypt(1, { encrKey: mk.encrKey, saltKey: mk.saltKey }, { csbId, t: bigToNtp(tP!.value) }, chain);
        chain.fill(0);
        wipeKeys(mk);
        payloads.push({ kind: 'KEMAC', encrAlg: 1, encrData: enc, macAlg: 0, mac: new Uint8Array(0) });
        keys = pre.map((k, i) => ({ csId: i + 1, ssrc: s.csMap[i]!.ssrc, roc: s.csMap[i]!.roc, profile: s.profile, masterKey: k.masterKey.slice(), masterSalt: k.masterSalt.slice(), keySource: 'preencoded' as const }));
        keySource = 'preencoded';
      } else if (!this.opts.mailbox) {
        keys = ek.cs ?? deriveCsKeys(s.prf, sess.tgk, csbId, s.rand, s.csMap, s.profile, 'ibake');
        keySource = 'ibake';
      }
      if (keys !== ek.cs) wipeCsKeys(ek.cs);
      payloads.push({ kind: 'V', authAlg: PROFILE.vAuthAlg, mac: new Uint8Array(PROFILE.vMacLen) });
      const reply = encode({ header: { dataType: DT.R_MESSAGE_2, v: false, prf: s.prf, csbId, csMap: { type: 0, entries: s.csMap } }, payloads });
      const macOffset = reply.length - PROFILE.vMacLen;
      reply.set(computeVMac(PROFILE.vAuthAlg, sess.authKey, { message: reply, macOffset, identities: [utf8(peer), utf8(self)] }), macOffset);

      wipeEphemeral({ secret: s.y });
      s.state = 'established';
      s.deadline = this.now() + this.lifetime;
      s.lastT = bigToNtp(tP!.value);
      s.xP = xP.slice();
      s.tgk = sess.tgk;
      if (keys) s.keys = keys;
      if (keySource) s.keySource = keySource;
      const out: ReceiveResult = { reply, replyName: 'R_MESSAGE_2', csbId, peer };
      if (keys) out.established = { csbId, role: 'responder', peer, self, mode: 'responder', keys: copyKeys(keys) };
      if (this.opts.mailbox && eskPs[0]) {
        s.stored = msg.bytes.slice();
        out.stored = { forUser: s.addressed, from: peer, message: msg.bytes.slice() };
      }
      sess.mpk.fill(0);
      sess.authKey.fill(0);
      return out;
    } catch (e) {
      wipeExchangeKeys(ek);
      throw e;
    }
  }

  // ------------------------------------------------------------------ initiator: R_MESSAGE_2

  private async onRMessage2(msg: DecodedMessage): Promise<ReceiveResult> {
    const [[tP], [idiP], [idrP], ibakePs, kemacPs, [vP]] = shape(msg, ['T', 'IDR', 'IDR', 'IBAKE?', 'KEMAC?', 'V']) as [
      [TPayload], [IdrPayload], [IdrPayload], IbakePayload[], KemacPayload[], [Payload & { kind: 'V'; authAlg: number; mac: Uint8Array; offset: number }],
    ];
    if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
    const idi = uriOf(idiP!);
    const peer = uriOf(idrP!);
    const csbId = msg.header.csbId;
    const s = this.initiated.get(csbId, peer);
    if (s.state !== 'sent-i2') throw new IbakeError('IBAKE_STATE', 'R_MESSAGE_2 not expected in this state');
    if (idi !== this.identity) throw authFailure('identity-mismatch', this.errReply(msg, ERR.AUTH_FAILURE));
    if (tP!.tsType !== PROFILE.tsType || !eq(bigToNtp(tP!.value), s.t2)) throw malformed('T not copied from I_MESSAGE_2');
    if (vP!.authAlg !== PROFILE.vAuthAlg) throw authFailure('bad-mac', this.errReply(msg, ERR.AUTH_FAILURE));
    // Key confirmation: the V MAC under the MPK-derived auth key (no pairing needed).
    const macOffset = vP!.offset + 2;
    if (macOffset + PROFILE.vMacLen !== msg.bytes.length) throw malformed('V payload is not last');
    // K_SESSION and its keys: computed in idle time after I_MESSAGE_2 went out, else now from x.
    let ek: ExchangeKeys;
    try {
      ek = await this.keysFor(s, () => this.initiatorInput(s, s.x));
    } catch (e) {
      this.fail(msg, e);
    }
    try {
      const ok = verifyVMac(PROFILE.vAuthAlg, ek.sess.authKey, { message: msg.bytes, macOffset, identities: [utf8(this.identity), utf8(peer)] }, vP!.mac);
      if (!ok) throw authFailure('bad-mac', this.errReply(msg, ERR.AUTH_FAILURE));
      if (s.echoedInR1 === (ibakePs.length === 1)) throw authFailure('inner-format', this.errReply(msg, ERR.AUTH_FAILURE));
      if (ibakePs[0]) {
        const plain = await this.decryptAs(msg, this.identity, ntpToMs(s.t2, this.now()), ibakePs[0].encrData);
        try {
          const f = readInnerEcho(plain);
          if (f.idi !== this.identity) throw authFailure('identity-mismatch');
          if (!eq(f.eccpti, s.xP)) throw authFailure('echo-mismatch');
        } catch (e) {
          this.fail(msg, e);
        } finally {
          plain.fill(0);
        }
      }
      let keys: CryptoSessionKeys[];
      if (kemacPs[0]) {
        keys = this.readPreEncoded(msg, s, kemacPs[0], ek.sess.mpk);
      } else if (s.mode === 'deferred') {
        keys = deriveCsKeys(PROFILE.prf, s.sk!, csbId, s.rand, s.csMap, s.profile, 'deferred-sk');
      } else {
        keys = ek.cs ?? deriveCsKeys(PROFILE.prf, ek.sess.tgk, csbId, s.rand, s.csMap, s.profile, 'ibake');
      }
      if (keys !== ek.cs) wipeCsKeys(ek.cs);
      if (ek.kSession) {
        this.opts.revealSecrets?.({ csbId, peer, kSession: ek.kSession.slice(), rand: s.rand.slice(), mpk: ek.sess.mpk.slice(), tgk: ek.sess.tgk.slice() });
        ek.kSession.fill(0);
      }
      s.state = 'established';
      s.deadline = this.now() + this.lifetime;
      s.keys = keys;
      s.keySource = keys[0]?.keySource ?? 'ibake';
      s.tgk = ek.sess.tgk;
      ek.sess.mpk.fill(0);
      ek.sess.authKey.fill(0);
      s.x?.fill(0);
      delete s.x;
      s.sk?.fill(0);
      return { csbId, peer, established: { csbId, role: 'initiator', peer, self: this.identity, mode: s.mode, keys: copyKeys(keys) } };
    } catch (e) {
      wipeExchangeKeys(ek);
      throw e;
    }
  }

  private readPreEncoded(msg: DecodedMessage, s: InitiatorState, k: KemacPayload, mpk: Uint8Array): CryptoSessionKeys[] {
    if (k.encrAlg !== 1 || k.macAlg !== 0) throw authFailure('inner-format', this.errReply(msg, ERR.AUTH_FAILURE));
    const mk = deriveMessageKeys(PROFILE.prf, mpk, s.csbId, s.rand, { encr: 16, auth: 32, salt: 14 });
    const plain = kemacDecrypt(1, { encrKey: mk.encrKey, saltKey: mk.saltKey }, { csbId: s.csbId, t: s.t2 }, k.encrData);
    wipeKeys(mk);
    try {
      const chain = decodeInnerChain(plain, KEY_CHAIN);
      const lens = SRTP_PROFILES[s.profile]!;
      if (chain.length !== s.csMap.length) throw authFailure('inner-format');
      return chain.map((c, i) => {
        if (c.kind !== 'KEY' || c.keyType !== 3 || !c.salt || c.key.length !== lens.key || c.salt.length !== lens.salt || c.kv.type !== 0) throw authFailure('inner-format');
        return { csId: i + 1, ssrc: s.csMap[i]!.ssrc, roc: s.csMap[i]!.roc, profile: s.profile, masterKey: c.key.slice(), masterSalt: c.salt.slice(), keySource: 'preencoded' as const };
      });
    } catch (e) {
      this.fail(msg, e);
    } finally {
      plain.fill(0);
    }
  }

  // ------------------------------------------------------------------ CSB update (re-keying)

  /**
   * Initiator-side CSB update (RFC 6267 §5.3): new DH values for an established exchange,
   * same CSB ID, new T, no RAND; the responder answers with an R_MESSAGE_1 carrying a V MAC
   * under the NEW MPK. Returns the update I_MESSAGE_1.
   */
  async rekey(csbId: number, peer: string): Promise<Uint8Array> {
    if (!this.initiated.has(csbId, peer) && this.responded.has(csbId, peer)) return this.rekeyAsResponder(csbId, peer);
    const s = this.initiated.get(csbId, peer);
    if (s.state !== 'established' || s.mode === 'deferred') throw new IbakeError('IBAKE_STATE', 'only an established live exchange can be re-keyed');
    const nowMs = this.now();
    const t = updateT(nowMs, s.lastT);
    const eph = generateEphemeral();
    const ct = await this.ibe.encrypt(peer, nowMs, writeInner({ idi: this.identity, eccpti: eph.publicPoint, idr: peer }));
    if (s.update) s.update.x.fill(0);
    s.update = { x: eph.secret, xP: eph.publicPoint, t };
    return encode({
      header: { dataType: DT.I_MESSAGE_1, v: true, prf: PROFILE.prf, csbId, csMap: { type: 0, entries: s.csMap } },
      payloads: [
        { kind: 'T', tsType: PROFILE.tsType, value: ntpToBig(t) },
        idr(ROLE.I, this.identity),
        idr(ROLE.R, peer),
        { kind: 'IBAKE', encrData: ct },
      ],
    });
  }

  /**
   * Answers a CSB update (RFC 6267 §5.3) from either original party: decrypts the update as
   * `as`, checks the identities inside against IDRi/IDRr and the peer's new point, draws our
   * new ephemeral, derives the new K_SESSION and keys, and builds the V-protected R_MESSAGE_1.
   * The exchange state `s` takes the new TGK, keys, CS map and T; the old keys are wiped.
   */
  private async answerUpdate(
    msg: DecodedMessage,
    s: { tgk?: Uint8Array; keys?: CryptoSessionKeys[]; csMap: SrtpIdEntry[]; lastT: Uint8Array; rand: Uint8Array; profile: string },
    u: { csbId: number; tP: TPayload; tMs: number; tNtp: Uint8Array; ibake: IbakePayload; prf: number; idi: string; idr: string; as: string; peerRole: 'i' | 'r' },
  ): Promise<{ reply: Uint8Array; keys: CryptoSessionKeys[]; peerPoint: Uint8Array }> {
    const map = srtpMap(msg);
    const plain = await this.decryptAs(msg, u.as, u.tMs, u.ibake.encrData);
    let peerPoint: Uint8Array;
    try {
      const f = readInner(plain, u.peerRole === 'i' ? { i: 'yes', r: 'no' } : { i: 'no', r: 'yes' });
      if (f.idi !== u.idi || f.idr !== u.idr) throw authFailure('identity-mismatch');
      const pt = u.peerRole === 'i' ? f.eccpti! : f.eccptr!;
      assertP256Point(pt);
      peerPoint = pt.slice();
    } catch (e) {
      this.fail(msg, e);
    } finally {
      plain.fill(0);
    }
    const eph = generateEphemeral();
    let kSession: Uint8Array;
    try {
      kSession = computeKSession(eph.secret, peerPoint, eph.publicPoint);
    } catch (e) {
      wipeEphemeral(eph);
      this.fail(msg, e);
    }
    wipeEphemeral(eph);
    const sess = deriveSessionKeys(u.prf, kSession, u.csbId, s.rand, { auth: PROFILE.vMacLen });
    kSession.fill(0);
    const points = u.peerRole === 'i' ? { eccpti: peerPoint, eccptr: eph.publicPoint } : { eccpti: eph.publicPoint, eccptr: peerPoint };
    const peerUri = u.peerRole === 'i' ? u.idi : u.idr;
    const ct = await this.ibe.encrypt(peerUri, u.tMs, writeInner({ idi: u.idi, idr: u.idr, ...points }));
    const reply = encode({
      header: { dataType: DT.R_MESSAGE_1, v: true, prf: u.prf, csbId: u.csbId, csMap: { type: 0, entries: map } },
      payloads: [
        { kind: 'T', tsType: PROFILE.tsType, value: u.tP.value },
        idr(ROLE.I, u.idi),
        idr(ROLE.R, u.idr),
        { kind: 'IBAKE', encrData: ct },
        { kind: 'V', authAlg: PROFILE.vAuthAlg, mac: new Uint8Array(PROFILE.vMacLen) },
      ],
    });
    const macOffset = reply.length - PROFILE.vMacLen;
    reply.set(computeVMac(PROFILE.vAuthAlg, sess.authKey, { message: reply, macOffset, identities: [utf8(u.idi), utf8(u.idr)] }), macOffset);
    const keys = deriveCsKeys(u.prf, sess.tgk, u.csbId, s.rand, map, s.profile, 'ibake');
    for (const k of s.keys ?? []) {
      k.masterKey.fill(0);
      k.masterSalt.fill(0);
    }
    s.tgk?.fill(0);
    s.tgk = sess.tgk;
    s.keys = keys;
    s.csMap = map;
    s.lastT = u.tNtp;
    sess.mpk.fill(0);
    sess.authKey.fill(0);
    return { reply, keys, peerPoint };
  }

  private async onUpdateI1(msg: DecodedMessage): Promise<ReceiveResult> {
    const [[tP], [idiP], [idrP], [ibakeP]] = shape(msg, ['T', 'IDR', 'IDR', 'IBAKE']) as [[TPayload], [IdrPayload], [IdrPayload], [IbakePayload]];
    if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
    const peer = uriOf(idiP!);
    const self = uriOf(idrP!);
    const csbId = msg.header.csbId;
    const s = this.responded.get(csbId, peer);
    if (s.state !== 'established' || !s.tgk) throw new IbakeError('IBAKE_STATE', 'CSB update for an exchange that is not established');
    if (self !== s.self) throw authFailure('identity-mismatch', this.errReply(msg, ERR.AUTH_FAILURE));
    this.checkPrf(msg);
    const tMs = this.checkT(msg, tP!);
    const tNtp = bigToNtp(tP!.value);
    // No rollback: the update's T must be strictly newer than anything accepted for this CSB.
    if (ntpToBig(tNtp) <= ntpToBig(s.lastT)) throw new IbakeError('IBAKE_REPLAY', 'CSB update not newer than the last accepted message');
    const { reply, keys, peerPoint: xP } = await this.answerUpdate(msg, s, { csbId, tP: tP!, tMs, tNtp, ibake: ibakeP!, prf: s.prf, idi: peer, idr: self, as: self, peerRole: 'i' });
    s.xP = xP;
    s.deadline = this.now() + this.lifetime;
    return { reply, replyName: 'R_MESSAGE_1', csbId, peer, established: { csbId, role: 'responder', peer, self, mode: 'responder', keys: copyKeys(keys) } };
  }

  /**
   * Completes a CSB update we sent, on the peer's V-protected R_MESSAGE_1: decrypts it as `as`,
   * checks the identities inside and the echo of our new point, derives the new K_SESSION and
   * keys, verifies the V MAC, and moves the exchange `s` to the new TGK, keys, CS map and T
   * (the old keys and our update ephemeral are wiped).
   */
  private async completeUpdate(
    msg: DecodedMessage,
    s: { csbId: number; tgk?: Uint8Array; keys?: CryptoSessionKeys[]; csMap: SrtpIdEntry[]; lastT: Uint8Array; rand: Uint8Array; profile: string; update?: unknown },
    u: { t: Uint8Array; x: Uint8Array; xP: Uint8Array },
    o: { ibake: IbakePayload; v: { authAlg: number; mac: Uint8Array; offset: number }; prf: number; idi: string; idr: string; as: string; ownRole: 'i' | 'r' },
  ): Promise<CryptoSessionKeys[]> {
    const plain = await this.decryptAs(msg, o.as, ntpToMs(u.t, this.now()), o.ibake.encrData);
    let kSession: Uint8Array;
    try {
      const f = readInner(plain, { i: 'yes', r: 'yes' });
      if (f.idi !== o.idi || f.idr !== o.idr) throw authFailure('identity-mismatch');
      const [echo, peerPoint] = o.ownRole === 'i' ? [f.eccpti!, f.eccptr!] : [f.eccptr!, f.eccpti!];
      if (!eq(echo, u.xP)) throw authFailure('echo-mismatch');
      kSession = computeKSession(u.x, peerPoint, u.xP);
    } catch (e) {
      this.fail(msg, e);
    } finally {
      plain.fill(0);
    }
    const sess = deriveSessionKeys(o.prf, kSession, s.csbId, s.rand, { auth: PROFILE.vMacLen });
    kSession.fill(0);
    const macOffset = o.v.offset + 2;
    const ok =
      o.v.authAlg === PROFILE.vAuthAlg &&
      macOffset + PROFILE.vMacLen === msg.bytes.length &&
      verifyVMac(PROFILE.vAuthAlg, sess.authKey, { message: msg.bytes, macOffset, identities: [utf8(o.idi), utf8(o.idr)] }, o.v.mac);
    if (!ok) {
      wipeKeys(sess);
      throw authFailure('bad-mac', this.errReply(msg, ERR.AUTH_FAILURE));
    }
    const map = srtpMap(msg);
    const keys = deriveCsKeys(o.prf, sess.tgk, s.csbId, s.rand, map, s.profile, 'ibake');
    for (const k of s.keys ?? []) {
      k.masterKey.fill(0);
      k.masterSalt.fill(0);
    }
    s.tgk?.fill(0);
    s.tgk = sess.tgk;
    sess.mpk.fill(0);
    sess.authKey.fill(0);
    u.x.fill(0);
    delete s.update;
    s.keys = keys;
    s.csMap = map;
    s.lastT = u.t;
    return keys;
  }

  private async onUpdateR1(msg: DecodedMessage): Promise<ReceiveResult> {
    const [[tP], [idiP], [idrP], [ibakeP], [vP]] = shape(msg, ['T', 'IDR', 'IDR', 'IBAKE', 'V']) as [
      [TPayload], [IdrPayload], [IdrPayload], [IbakePayload], [Payload & { kind: 'V'; authAlg: number; mac: Uint8Array; offset: number }],
    ];
    const peer = uriOf(idrP!);
    if (uriOf(idiP!) !== this.identity) throw authFailure('identity-mismatch', this.errReply(msg, ERR.AUTH_FAILURE));
    const s = this.initiated.get(msg.header.csbId, peer);
    const u = s.update;
    if (!u || s.state !== 'established') throw new IbakeError('IBAKE_STATE', 'no CSB update pending');
    if (!eq(bigToNtp(tP!.value), u.t)) throw malformed('T not copied from the update I_MESSAGE_1');
    const keys = await this.completeUpdate(msg, s, u, { ibake: ibakeP!, v: vP!, prf: PROFILE.prf, idi: this.identity, idr: peer, as: this.identity, ownRole: 'i' });
    return { csbId: s.csbId, peer, established: { csbId: s.csbId, role: 'initiator', peer, self: this.identity, mode: s.mode, keys: copyKeys(keys) } };
  }

  /**
   * Responder-initiated CSB update (RFC 6267 §5.3): the original responder sends
   * I_MESSAGE_1 = HDR, T, IDRr, IDRi, IBAKE(IDRi ‖ IDRr ‖ ECCPTr') — no RAND; the original
   * initiator answers R_MESSAGE_1 = HDR, T, IDRi, IDRr, IBAKE(IDRi ‖ ECCPTi' ‖ IDRr ‖ ECCPTr'), V.
   */
  private async rekeyAsResponder(csbId: number, peer: string): Promise<Uint8Array> {
    const s = this.responded.get(csbId, peer);
    if (s.state !== 'established' || !s.tgk) throw new IbakeError('IBAKE_STATE', 'only an established exchange can be re-keyed');
    const nowMs = this.now();
    const t = updateT(nowMs, s.lastT);
    const eph = generateEphemeral();
    const ct = await this.ibe.encrypt(peer, nowMs, writeInner({ idi: peer, idr: s.self, eccptr: eph.publicPoint }));
    if (s.update) s.update.x.fill(0);
    s.update = { x: eph.secret, xP: eph.publicPoint, t };
    return encode({
      header: { dataType: DT.I_MESSAGE_1, v: true, prf: s.prf, csbId, csMap: { type: 0, entries: s.csMap } },
      payloads: [
        { kind: 'T', tsType: PROFILE.tsType, value: ntpToBig(t) },
        idr(ROLE.R, s.self),
        idr(ROLE.I, peer),
        { kind: 'IBAKE', encrData: ct },
      ],
    });
  }

  /** We are the original initiator; the original responder sent a CSB update. */
  private async onUpdateFromResponder(msg: DecodedMessage): Promise<ReceiveResult> {
    const [[tP], [idrP], [idiP], [ibakeP]] = shape(msg, ['T', 'IDR', 'IDR', 'IBAKE']) as [[TPayload], [IdrPayload], [IdrPayload], [IbakePayload]];
    if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
    const peer = uriOf(idrP!);
    if (uriOf(idiP!) !== this.identity) throw authFailure('identity-mismatch', this.errReply(msg, ERR.AUTH_FAILURE));
    const csbId = msg.header.csbId;
    const s = this.initiated.get(csbId, peer);
    if (s.state !== 'established' || s.mode === 'deferred') throw new IbakeError('IBAKE_STATE', 'CSB update for an exchange that is not established');
    this.checkPrf(msg);
    const tMs = this.checkT(msg, tP!);
    const tNtp = bigToNtp(tP!.value);
    if (ntpToBig(tNtp) <= ntpToBig(s.lastT)) throw new IbakeError('IBAKE_REPLAY', 'CSB update not newer than the last accepted message');
    const { reply, keys } = await this.answerUpdate(msg, s, { csbId, tP: tP!, tMs, tNtp, ibake: ibakeP!, prf: PROFILE.prf, idi: this.identity, idr: peer, as: this.identity, peerRole: 'r' });
    return { reply, replyName: 'R_MESSAGE_1', csbId, peer, established: { csbId, role: 'initiator', peer, self: this.identity, mode: s.mode, keys: copyKeys(keys) } };
  }

  /** We are the original responder; the original initiator answered our CSB update. */
  private async onUpdateR1AsResponder(msg: DecodedMessage): Promise<ReceiveResult> {
    const [[tP], [idiP], [idrP], [ibakeP], [vP]] = shape(msg, ['T', 'IDR', 'IDR', 'IBAKE', 'V']) as [
      [TPayload], [IdrPayload], [IdrPayload], [IbakePayload], [Payload & { kind: 'V'; authAlg: number; mac: Uint8Array; offset: number }],
    ];
    if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
    const peer = uriOf(idiP!);
    const s = this.responded.get(msg.header.csbId, peer);
    if (uriOf(idrP!) !== s.self) throw authFailure('identity-mismatch', this.errReply(msg, ERR.AUTH_FAILURE));
    const u = s.update;
    if (!u || s.state !== 'established') throw new IbakeError('IBAKE_STATE', 'no CSB update pending');
    if (!eq(bigToNtp(tP!.value), u.t)) throw malformed('T not copied from the update I_MESSAGE_1');
    const keys = await this.completeUpdate(msg, s, u, { ibake: ibakeP!, v: vP!, prf: s.prf, idi: peer, idr: s.self, as: s.self, ownRole: 'r' });
    return { csbId: s.csbId, peer, established: { csbId: s.csbId, role: 'responder', peer, self: s.self, mode: 'responder', keys: copyKeys(keys) } };
  }

  // ------------------------------------------------------------------ housekeeping

  /**
   * Every live session state as plain data (numbers, strings, Uint8Arrays): serialise it with
   * msgpack / structured clone to persist or hand over, restore with importState(). Contains
   * secrets (x, y, TGK, keys): protect it like a key store.
   */
  exportState(): { offers: OfferState[]; initiated: InitiatorState[]; responded: ResponderState[] } {
    this.expire();
    return { offers: this.offers.values(), initiated: this.initiated.values(), responded: this.responded.values() };
  }

  /** Restores states produced by exportState() (of an endpoint with the same identity). */
  importState(st: { offers?: OfferState[]; initiated?: InitiatorState[]; responded?: ResponderState[] }): void {
    const own = (x: { kind: string; self: string }, kind: string) => {
      if (!x || x.kind !== kind || x.self !== this.identity) throw new IbakeError('IBAKE_BAD_INPUT', `not a ${kind} state of ${this.identity}`);
    };
    for (const o of st.offers ?? []) {
      own(o, 'offer');
      this.offers.put(o);
      this.offerIndex.set(o.csbId, o.peer);
    }
    for (const i of st.initiated ?? []) {
      own(i, 'initiator');
      this.initiated.put(i);
    }
    for (const r of st.responded ?? []) {
      own(r, 'responder');
      this.responded.put(r);
    }
  }

  /** Ends the offer of a CSB (no more forks expected): wipes x. */
  closeOffer(csbId: number): void {
    const to = this.offerIndex.get(csbId);
    if (to !== undefined) this.offers.delete(csbId, to);
    this.offerIndex.delete(csbId);
  }

  /** Removes (and wipes) every state: x, y, TGKs, SKs and keys. The endpoint stays usable. */
  clear(): void {
    for (const st of [this.offers, this.initiated, this.responded] as SessionStore<OfferState | InitiatorState | ResponderState>[]) {
      for (const v of st.values()) st.delete(v.csbId, v.peer);
    }
    this.offerIndex.clear();
  }

  /** Drops every expired state (wiping its secrets); returns how many. */
  expire(): number {
    const n = this.offers.expire() + this.initiated.expire() + this.responded.expire();
    for (const [csb, to] of this.offerIndex) if (!this.offers.has(csb, to)) this.offerIndex.delete(csb);
    return n;
  }

  /** The message-type name of some MIKEY bytes (for logs / the CLI). */
  static messageName(bytes: Uint8Array): string {
    return MESSAGE_NAMES[bytes[1] ?? -1] ?? `data type ${bytes[1]}`;
  }
}

const KEY_CHAIN = { first: 'KEY', allowed: ['KEY'] } as const;

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
}
function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
