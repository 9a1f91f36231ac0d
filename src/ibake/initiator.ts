// The initiator of a MIKEY-IBAKE exchange (docs/profile.md §4.1): I_MESSAGE_1 out,
// R_MESSAGE_1 -> I_MESSAGE_2, R_MESSAGE_2 -> keys. I_MESSAGE_1's plaintext carries the hash of
// its clear CSB ID, T and RAND (R_MESSAGE_1 must echo it); I_MESSAGE_2's carries a fresh N_c for
// the answering identity only, and K_SESSION binds (point, IDRi, answering IDRr, N_c), so a
// responder that did not read I_MESSAGE_2 (a forking sibling, a relay) fails R_MESSAGE_2's V.
// Keys are released only on a good V MAC (key confirmation).
import { randomBytes } from 'node:crypto';
import { randomOctets } from '../util/random.js';
import type { DecodedMessage, IbakePayload, IdrPayload, KemacPayload, Payload, SrtpIdEntry, TPayload } from '../mikey/index.js';
import { decodeInnerChain } from '../mikey/index.js';
import { deriveMessageKeys, wipeKeys } from '../mikey/keys.js';
import { kemacDecrypt } from '../mikey/kemac-crypto.js';
import { takeEphemeral } from './ahead.js';
import { clearBinding, freshNc } from './binding.js';
import { checkUri, copyKeys, eq, wipeExchangeKeys, type EndpointCore, type InitiateOptions, type ReceiveResult, type VPayloadFields } from './core.js';
import { randomNonZeroU32 } from '../util/random.js';
import { assertP256Point, wipeEphemeral } from './ecdh.js';
import { IbakeError, authFailure } from './errors.js';
import type { ExchangeInput, ExchangeKeys } from './exchange-keys.js';
import { msToNtp, ntpToMs } from './freshness.js';
import { ECHOED, echoes, innerPointAt, readInner, readInnerEcho, writeEskPlain, writeEskPlainV2, writeInner } from './inner.js';
import { decodeRecord, type PrekeyRecord } from './prekey/record.js';
import { deriveDeferredSkWith } from './prekey/sk.js';
import { SRTP_PROFILES, deriveCsKeys, wipeCsKeys, type CryptoSessionKeys } from './output.js';
import { classifyAnswer } from './policy.js';
import { KEY_CHAIN } from './responder.js';
import type { InitiatorState, OfferState } from './state.js';
import { DT, PROFILE, ROLE, bigToNtp, encode, idr, malformed, ntpToBig, shape, srtpMap, uriOf } from './wire.js';

function initiatorInput(c: EndpointCore, s: InitiatorState, secret: Uint8Array | undefined): ExchangeInput {
  if (!secret) throw new IbakeError('IBAKE_STATE', 'no ephemeral secret left for this exchange');
  if (c.v2 && !s.nc) throw new IbakeError('IBAKE_STATE', 'no N_c left for this exchange');
  return {
    secret, peerPoint: s.yP, ownPoint: s.xP, prf: PROFILE.prf, csbId: s.csbId, rand: s.rand, authLen: PROFILE.vMacLen,
    ...(s.nc ? c.binding({ idi: c.identity, idr: s.peer, nc: s.nc }) : {}),
    reveal: !!c.opts.revealSecrets, ...(s.mode !== 'deferred' ? { cs: { map: s.csMap, profile: s.profile } } : {}),
  };
}

/** Starts an exchange: returns I_MESSAGE_1 and the CSB ID. */
export async function initiate(c: EndpointCore, o: InitiateOptions): Promise<{ message: Uint8Array; csbId: number }> {
  const to = checkUri(o.to, 'to');
  // The responder refuses IDRi = IDRr (reflection, security.md §1.4): say so here, not after a dead offer.
  if (to === c.identity) throw new IbakeError('IBAKE_BAD_INPUT', 'cannot call our own identity (IDRi = IDRr is refused by every responder)');
  const ssrcs = o.ssrcs ?? [randomNonZeroU32(), 0];
  if (!Array.isArray(ssrcs) || ssrcs.length < 1 || ssrcs.length > 255 || ssrcs.some((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff)) {
    throw new IbakeError('IBAKE_BAD_INPUT', 'ssrcs must be 1..255 32-bit integers');
  }
  let csbId: number;
  if (o.csbId !== undefined) {
    if (!Number.isInteger(o.csbId) || o.csbId < 1 || o.csbId > 0xffffffff) throw new IbakeError('IBAKE_BAD_INPUT', 'csbId must be an integer in 1..4294967295');
    if (c.offerIndex.has(o.csbId) || c.initiated.byCsb(o.csbId).length > 0) throw new IbakeError('IBAKE_STATE', 'CSB ID already in use');
    csbId = o.csbId;
  } else {
    csbId = randomNonZeroU32();
    while (c.offerIndex.has(csbId)) csbId = randomNonZeroU32();
  }
  const nowMs = c.now();
  // A new peer's Q_ID and g_ID need nothing from this message: start them before building it.
  c.ibe.prepare?.(to, nowMs);
  const t = msToNtp(nowMs);
  const rand = randomOctets(PROFILE.randLen);
  const eph = takeEphemeral();
  const csMap: SrtpIdEntry[] = ssrcs.map((ssrc) => ({ policyNo: 0, ssrc, roc: 0 }));
  try {
    const bind = c.v2 ? { bind: clearBinding(csbId, t, rand) } : {};
    const ct = await c.ibe.encrypt(to, nowMs, writeInner({ idi: c.identity, eccpti: eph.publicPoint, idr: to, ...bind }));
    const message = encode({
      header: { dataType: DT.I_MESSAGE_1, v: true, prf: PROFILE.prf, csbId, csMap: { type: 0, entries: csMap } },
      payloads: [
        { kind: 'T', tsType: PROFILE.tsType, value: ntpToBig(t) },
        { kind: 'RAND', rand },
        idr(ROLE.I, c.identity),
        idr(ROLE.R, to),
        { kind: 'IBAKE', encrData: ct },
      ],
    });
    c.offers.put({
      kind: 'offer', csbId, peer: to, self: c.identity, deadline: nowMs + c.hsTimeout,
      x: eph.secret, xP: eph.publicPoint, rand, t, csMap, profile: c.profile,
    });
    c.offerIndex.set(csbId, to);
    return { message, csbId };
  } catch (e) {
    wipeEphemeral(eph);
    throw e;
  }
}

/** R_MESSAGE_1 (not a CSB update's): the answer policy, then I_MESSAGE_2 with N_c. */
export async function onRMessage1(c: EndpointCore, msg: DecodedMessage): Promise<ReceiveResult> {
  const [[tP], [idiP], [idrP], [ibakeP]] = shape(msg, ['T', 'IDR', 'IDR', 'IBAKE']) as [[TPayload], [IdrPayload], [IdrPayload], [IbakePayload]];
  if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
  c.checkVBit(msg, true);
  const idi = uriOf(idiP!);
  const answering = uriOf(idrP!);
  const csbId = msg.header.csbId;
  const addressed = c.offerIndex.get(csbId);
  if (addressed === undefined) throw new IbakeError('IBAKE_NO_SESSION', 'no offer for this CSB ID');
  let offer: OfferState;
  try {
    offer = c.offers.get(csbId, addressed);
  } catch (e) {
    c.offerIndex.delete(csbId);
    throw e;
  }
  // Cheap checks before any pairing.
  if (idi !== c.identity) throw c.authFail(msg, 'identity-mismatch');
  if (msg.header.prf !== PROFILE.prf) throw malformed('PRF func not copied');
  if (tP!.tsType !== PROFILE.tsType || !eq(bigToNtp(tP!.value), offer.t)) throw malformed('T not copied from I_MESSAGE_1');
  const map = srtpMap(msg);
  if (map.length !== offer.csMap.length || map.some((e, i) => e.policyNo !== offer.csMap[i]!.policyNo || e.roc !== offer.csMap[i]!.roc || (offer.csMap[i]!.ssrc !== 0 && e.ssrc !== offer.csMap[i]!.ssrc))) {
    throw malformed('CS map does not match I_MESSAGE_1');
  }
  if (c.initiated.has(csbId, answering)) throw new IbakeError('IBAKE_STATE', 'R_MESSAGE_1 already processed for this responder');
  const tMs = ntpToMs(offer.t, c.now());
  // I_MESSAGE_2 goes to the answering identity (and an ESK maybe to the addressed one).
  c.ibe.prepare?.(answering, c.now());

  // I_MESSAGE_2's IBAKE plaintext echoes yP, which R_MESSAGE_1's carries right after IDRr when
  // the responder echoed xP (the usual case): the port may encrypt it in the decryption's call.
  const nowMs = c.now();
  const bind = c.v2 ? clearBinding(csbId, offer.t, offer.rand) : undefined;
  const nc = c.v2 ? freshNc() : undefined;
  // A mailbox listed for the addressed user cannot decrypt I_MESSAGE_1: its R_MESSAGE_1 has no
  // ECCPTi and our I_MESSAGE_2 carries ECCPTi again, so the early reply uses that layout.
  const blind = answering !== addressed && !!c.policy.mailboxes?.[addressed]?.includes(answering);
  const echo = { idi: c.identity, ...(blind ? { eccpti: offer.xP } : {}), idr: answering, eccptr: ECHOED, ...(nc ? { nc } : {}) };
  const at = innerPointAt({ idi: c.identity, ...(blind ? {} : { eccpti: offer.xP }), idr: answering }, 'r');
  const got = await c.decryptReplying(msg, c.identity, tMs, ibakeP!.encrData, answering, nowMs, echo, at, innerPointAt(echo, 'r'));
  let f;
  let early: Uint8Array | undefined;
  try {
    f = readInner(got.plain, { i: 'maybe', r: 'yes', bind: !!bind, prekey: true });
    if (f.idi !== c.identity || f.idr !== answering) throw authFailure('identity-mismatch');
    if (bind && !eq(f.bind!, bind)) throw authFailure('clear-binding');
    if (f.eccpti && !eq(f.eccpti, offer.xP)) throw authFailure('echo-mismatch');
    assertP256Point(f.eccptr!);
    if (eq(f.eccptr!, offer.xP)) throw authFailure('bad-point'); // reflection of our own point
    if (got.early && !f.eccpti === blind && echoes(got.plain, at, f.eccptr!)) early = got.early;
  } catch (e) {
    nc?.fill(0);
    c.fail(msg, e);
  } finally {
    got.plain.fill(0);
  }
  const echoed = f.eccpti !== undefined;
  const mode = await classifyAnswer(c.policy, addressed, answering, echoed);
  if (!mode) {
    nc?.fill(0);
    throw new IbakeError('IBAKE_POLICY', `answer from ${answering} (addressed ${addressed}) refused by policy`);
  }

  // Deferred delivery: v2 with the mailbox's signed prekey of the addressed user, or (only if
  // the policy allows it) the escrowed v1 flow. A prekey in any other answer is malformed.
  let deferred: DeferredPlan | undefined;
  try {
    if (f.prekey && mode !== 'deferred') throw authFailure('inner-format');
    if (mode === 'deferred') deferred = planDeferred(c, addressed, f.prekey, csbId, offer.rand, nowMs);
  } catch (e) {
    nc?.fill(0);
    c.fail(msg, e);
  }
  let sk: Uint8Array | undefined = mode === 'deferred' && deferred ? undefined : mode === 'deferred' || !echoed ? new Uint8Array(randomBytes(PROFILE.skLen)) : undefined;
  const t2 = msToNtp(nowMs);
  const eskPlain = deferred?.eskPlain ?? (sk ? writeEskPlain(c.identity, sk) : undefined);
  try {
    const [ct, eskCt, sk2] = await Promise.all([
      early ?? c.ibe.encrypt(answering, nowMs, writeInner({ idi: c.identity, eccpti: echoed ? undefined : offer.xP, idr: answering, eccptr: f.eccptr, ...(nc ? { nc } : {}) })),
      eskPlain ? c.ibe.encrypt(addressed, nowMs, eskPlain) : Promise.resolve(undefined),
      // v2: SK's ECDH runs beside the two encryptions (the ESK does not contain SK)
      deferred?.sk,
    ]);
    if (sk2) sk = sk2;
    const payloads: Payload[] = [
      { kind: 'T', tsType: PROFILE.tsType, value: ntpToBig(t2) },
      { kind: 'RAND', rand: offer.rand },
      idr(ROLE.I, c.identity),
      idr(ROLE.R, answering),
      { kind: 'IBAKE', encrData: ct },
    ];
    // RFC 6267 §4.2.2.5: ESK mandatory when ECCPTi was missing; to the addressed user (OPEN-13).
    if (eskCt) payloads.push({ kind: 'ESK', encrData: eskCt });
    const reply = encode({ header: { dataType: DT.I_MESSAGE_2, v: true, prf: PROFILE.prf, csbId, csMap: { type: 0, entries: map } }, payloads });
    // A copy of this R_MESSAGE_1 processed concurrently (it passed the check above during our
    // awaits) got there first: keep its state (and N_c), never replace it with a second one.
    if (c.initiated.has(csbId, answering)) throw new IbakeError('IBAKE_STATE', 'R_MESSAGE_1 already processed for this responder');
    const st: InitiatorState = {
      kind: 'initiator', csbId, peer: answering, addressed, self: c.identity,
      deadline: nowMs + c.hsTimeout, state: 'sent-i2', mode, rand: offer.rand.slice(), t2, lastT: t2,
      csMap: map, profile: offer.profile, xP: offer.xP.slice(), yP: f.eccptr!.slice(), echoedInR1: echoed,
      x: offer.x.slice(), ...(nc ? { nc } : {}), ...(mode === 'deferred' && sk ? { sk } : {}),
      ...(mode === 'deferred' ? { deferred: deferred ? ('v2' as const) : ('escrowed' as const) } : {}),
      ...(deferred ? { prekey: f.prekey!.slice() } : {}),
    };
    c.initiated.put(st);
    // v2: the prekey's signature check runs while I_MESSAGE_2 travels and the mailbox works;
    // R_MESSAGE_2 releases no key before it has passed (onRMessage2).
    if (deferred) c.setPrekeyCheck(st, deferred.verify());
    if (sk && mode !== 'deferred') sk.fill(0);
    // K_SESSION is needed only for R_MESSAGE_2: compute it while the responder decrypts. The
    // job uses the offer's x (its node:crypto object is still live); st.x is the fallback.
    c.startAhead(st, initiatorInput(c, st, offer.x));
    return { reply, replyName: 'I_MESSAGE_2', csbId, peer: answering };
  } catch (e) {
    sk?.fill(0);
    void deferred?.sk.then((k) => k.fill(0), () => {});
    nc?.fill(0);
    return c.fail(msg, e);
  } finally {
    eskPlain?.fill(0);
  }
}

interface DeferredPlan {
  sk: Promise<Uint8Array>;
  eskPlain: Uint8Array;
  /** Starts the check of the prekey's signature, expiry and period, and notes its id. */
  verify: () => Promise<void>;
}

/**
 * Deferred delivery v2 (docs/profile.md §6.4): the prekey record from R_MESSAGE_1, a fresh e_i,
 * SK = HKDF(ECDH(e_i, prekey), IDRi, addressed user, CSB ID, RAND, prekey), ESK plaintext
 * IDRi ‖ e_i·P ‖ prekey id. The signature check runs in the background (`verified`); e_i is
 * wiped here. No prekey: IBAKE_NO_PREKEY unless the policy allows the escrowed v1 flow
 * (undefined is returned and the caller builds the v1 ESK).
 */
function planDeferred(c: EndpointCore, addressed: string, prekey: Uint8Array | undefined, csbId: number, rand: Uint8Array, nowMs: number): DeferredPlan | undefined {
  if (!prekey) {
    if (c.policy.escrowedDeferred === 'allow') return undefined;
    throw new IbakeError('IBAKE_NO_PREKEY', `the mailbox offered no signed prekey of ${addressed}; deferred delivery refused (escrowed v1 not allowed by policy)`);
  }
  const verifier = c.prekeyVerifier;
  if (!verifier) throw new IbakeError('IBAKE_NO_PREKEY', 'deferred delivery v2 needs an identity-based signature verifier (EndpointOptions.ibs)');
  const record: PrekeyRecord = decodeRecord(prekey);
  const verify = () => verifier.record(addressed, record, nowMs).then(() => c.prekeysSeen.note(addressed, record.id, record.header.expiry, nowMs));
  const ei = takeEphemeral();
  const sk = deriveDeferredSkWith(c.opts.p256, {
    secret: ei.secret, peer: record.publicKey, idi: c.identity, idr: addressed, csbId, rand, prekeyId: record.id, ei: ei.publicPoint, prekey: record.publicKey,
  }).finally(() => wipeEphemeral(ei));
  sk.catch(() => {}); // awaited by the caller
  return { sk, eskPlain: writeEskPlainV2(c.identity, ei.publicPoint, record.id), verify };
}

/** R_MESSAGE_2: key confirmation (V under the MPK-derived auth key), then the keys. */
export async function onRMessage2(c: EndpointCore, msg: DecodedMessage): Promise<ReceiveResult> {
  const [[tP], [idiP], [idrP], ibakePs, kemacPs, [vP]] = shape(msg, ['T', 'IDR', 'IDR', 'IBAKE?', 'KEMAC?', 'V']) as [
    [TPayload], [IdrPayload], [IdrPayload], IbakePayload[], KemacPayload[], [Payload & VPayloadFields],
  ];
  if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
  c.checkVBit(msg, false);
  const idi = uriOf(idiP!);
  const peer = uriOf(idrP!);
  const csbId = msg.header.csbId;
  const s = c.initiated.get(csbId, peer);
  if (s.state !== 'sent-i2') throw new IbakeError('IBAKE_STATE', 'R_MESSAGE_2 not expected in this state');
  if (idi !== c.identity) throw c.authFail(msg, 'identity-mismatch');
  if (tP!.tsType !== PROFILE.tsType || !eq(bigToNtp(tP!.value), s.t2)) throw malformed('T not copied from I_MESSAGE_2');
  if (vP!.authAlg !== PROFILE.vAuthAlg) throw c.authFail(msg, 'bad-mac');
  if (vP!.offset + 2 + PROFILE.vMacLen !== msg.bytes.length) throw malformed('V payload is not last');
  // K_SESSION and its keys: computed in idle time after I_MESSAGE_2 went out, else now from x.
  let ek: ExchangeKeys;
  try {
    ek = await c.keysFor(s, () => initiatorInput(c, s, s.x));
  } catch (e) {
    // A concurrent copy completed meanwhile (and wiped x): this one is a duplicate, not a forgery.
    if (s.state !== 'sent-i2') throw new IbakeError('IBAKE_STATE', 'R_MESSAGE_2 already processed');
    c.fail(msg, e);
  }
  try {
    if (s.state !== 'sent-i2') throw new IbakeError('IBAKE_STATE', 'R_MESSAGE_2 already processed');
    // Key confirmation: only a responder that read I_MESSAGE_2 (N_c) has this auth key.
    if (!c.checkV(msg, vP!, ek.sess.authKey, c.identity, peer)) throw c.authFail(msg, 'bad-mac');
    // A blind answer echoes ECCPTi in R_MESSAGE_2, except a v2 mailbox (its V MAC is the proof).
    const wantEcho = !s.echoedInR1 && !(s.deferred === 'v2' && c.v2);
    if (wantEcho !== (ibakePs.length === 1)) throw c.authFail(msg, 'inner-format');
    // v2: no key before the prekey's signature (by the addressed user) has been checked.
    if (s.deferred === 'v2') {
      const verifier = c.prekeyVerifier;
      if (!verifier || !s.prekey) throw new IbakeError('IBAKE_STATE', 'no prekey to check for this deferred exchange');
      await (c.takePrekeyCheck(s) ?? verifier.record(s.addressed, decodeRecord(s.prekey), ntpToMs(s.t2, c.now())));
    }
    if (ibakePs[0]) {
      const plain = await c.decryptAs(msg, c.identity, ntpToMs(s.t2, c.now()), ibakePs[0].encrData);
      try {
        const f = readInnerEcho(plain);
        if (f.idi !== c.identity) throw authFailure('identity-mismatch');
        if (!eq(f.eccpti, s.xP)) throw authFailure('echo-mismatch');
      } catch (e) {
        c.fail(msg, e);
      } finally {
        plain.fill(0);
      }
    }
    let keys: CryptoSessionKeys[];
    if (kemacPs[0]) {
      keys = readPreEncoded(c, msg, s, kemacPs[0], ek.sess.mpk);
    } else if (s.mode === 'deferred') {
      keys = deriveCsKeys(PROFILE.prf, s.sk!, csbId, s.rand, s.csMap, s.profile, 'deferred-sk');
    } else {
      keys = ek.cs ?? deriveCsKeys(PROFILE.prf, ek.sess.tgk, csbId, s.rand, s.csMap, s.profile, 'ibake');
    }
    if (keys !== ek.cs) wipeCsKeys(ek.cs);
    // One-shot: a concurrent copy of this R_MESSAGE_2 may have completed during our awaits.
    if (s.state !== 'sent-i2') {
      if (keys !== ek.cs) wipeCsKeys(keys);
      throw new IbakeError('IBAKE_STATE', 'R_MESSAGE_2 already processed');
    }
    if (ek.kSession && ek.point) {
      c.opts.revealSecrets?.({
        csbId, peer, kSession: ek.kSession.slice(), point: ek.point.slice(), nc: s.nc?.slice() ?? new Uint8Array(0),
        idi: c.identity, idr: peer, rand: s.rand.slice(), mpk: ek.sess.mpk.slice(), tgk: ek.sess.tgk.slice(),
      });
    }
    ek.kSession?.fill(0);
    ek.point?.fill(0);
    s.state = 'established';
    s.deadline = c.now() + c.lifetime;
    s.keys = keys;
    s.keySource = keys[0]?.keySource ?? 'ibake';
    s.tgk = ek.sess.tgk;
    ek.sess.mpk.fill(0);
    ek.sess.authKey.fill(0);
    // cleared, not deleted: a `delete` turns the state into a slow dictionary-mode object
    s.x?.fill(0);
    s.x = undefined;
    s.nc?.fill(0);
    s.nc = undefined;
    s.sk?.fill(0);
    c.initiated.touch(s);
    return {
      csbId, peer,
      established: { csbId, role: 'initiator', peer, self: c.identity, mode: s.mode, keys: copyKeys(keys), ...(s.deferred === 'escrowed' ? { escrowed: true as const } : {}) },
    };
  } catch (e) {
    wipeExchangeKeys(ek);
    throw e;
  }
}

function readPreEncoded(c: EndpointCore, msg: DecodedMessage, s: InitiatorState, k: KemacPayload, mpk: Uint8Array): CryptoSessionKeys[] {
  if (k.encrAlg !== 1 || k.macAlg !== 0) throw c.authFail(msg, 'inner-format');
  const mk = deriveMessageKeys(PROFILE.prf, mpk, s.csbId, s.rand, { encr: 16, auth: 32, salt: 14 });
  const plain = kemacDecrypt(1, { encrKey: mk.encrKey, saltKey: mk.saltKey }, { csbId: s.csbId, t: s.t2 }, k.encrData);
  wipeKeys(mk);
  try {
    const chain = decodeInnerChain(plain, KEY_CHAIN);
    const lens = SRTP_PROFILES[s.profile]!;
    if (chain.length !== s.csMap.length) throw authFailure('inner-format');
    return chain.map((ch, i) => {
      if (ch.kind !== 'KEY' || ch.keyType !== 3 || !ch.salt || ch.key.length !== lens.key || ch.salt.length !== lens.salt || ch.kv.type !== 0) throw authFailure('inner-format');
      return { csId: i + 1, ssrc: s.csMap[i]!.ssrc, roc: s.csMap[i]!.roc, profile: s.profile, masterKey: ch.key.slice(), masterSalt: ch.salt.slice(), keySource: 'preencoded' as const };
    });
  } catch (e) {
    c.fail(msg, e);
  } finally {
    plain.fill(0);
  }
}
