// The responder of a MIKEY-IBAKE exchange (docs/profile.md §4.1): I_MESSAGE_1 -> R_MESSAGE_1,
// I_MESSAGE_2 -> R_MESSAGE_2. Cheap checks first (shape, V bit, PRF, T window, the replay cache
// keyed on the IBE ciphertext), all before any pairing; then the decryption, the identities and
// the clear-field binding inside it, the peer's point. Keys are released only on I_MESSAGE_2,
// once the initiator has echoed our point (it read R_MESSAGE_1); K_SESSION binds both final
// identities and the initiator's N_c from I_MESSAGE_2 (profile v2, binding.ts).
import type { DecodedMessage, EskPayload, IbakePayload, IdrPayload, Payload, RandPayload, TPayload } from '../mikey/index.js';
import { deriveMessageKeys, wipeKeys } from '../mikey/keys.js';
import { kemacEncrypt } from '../mikey/kemac-crypto.js';
import { encodeInnerChain } from '../mikey/index.js';
import { takeEphemeral } from './ahead.js';
import { clearBinding } from './binding.js';
import { copyKeys, eq, wipeExchangeKeys, type EndpointCore, type ReceiveResult } from './core.js';
import { randomNonZeroU32 } from '../util/random.js';
import { assertP256Point, wipeEphemeral } from './ecdh.js';
import { IbakeError, authFailure } from './errors.js';
import type { ExchangeInput, ExchangeKeys } from './exchange-keys.js';
import { ECHOED, echoes, innerPointAt, readInner, writeInner, writeInnerEcho } from './inner.js';
import { encodeRecord } from './prekey/record.js';
import { SRTP_PROFILES, deriveCsKeys, wipeCsKeys, type CryptoSessionKeys, type KeySource } from './output.js';
import type { ResponderState } from './state.js';
import { DT, ERR, PROFILE, ROLE, bigToNtp, encode, idr, malformed, shape, srtpMap, uriOf } from './wire.js';

export const KEY_CHAIN = { first: 'KEY', allowed: ['KEY'] } as const;

/** The responder's K_SESSION input (binding only once I_MESSAGE_2 has brought N_c). */
function responderInput(c: EndpointCore, s: ResponderState, xP: Uint8Array, nc?: Uint8Array): ExchangeInput {
  const tgkKeys = !c.opts.mailbox && !c.opts.preEncoded;
  return {
    secret: s.y, peerPoint: xP, ownPoint: s.yP, prf: s.prf, csbId: s.csbId, rand: s.rand, authLen: PROFILE.vMacLen,
    ...(nc ? c.binding({ idi: s.peer, idr: s.self, nc }) : {}),
    ...(tgkKeys ? { cs: { map: s.csMap, profile: s.profile } } : {}),
  };
}

/** Starts K_SESSION's ECDH point ahead (v2: N_c comes later); the internal v1 derivation does it all. */
function startResponderAhead(c: EndpointCore, s: ResponderState, xP: Uint8Array): void {
  if (c.v2) c.startPointAhead(s, responderInput(c, s, xP));
  else c.startAhead(s, responderInput(c, s, xP));
}

/** I_MESSAGE_1 (not a CSB update): answer with R_MESSAGE_1; no keys are released yet. */
export async function onIMessage1(c: EndpointCore, msg: DecodedMessage): Promise<ReceiveResult> {
  const [[tP], [randP], [idiP], [idrP], , [ibakeP]] = shape(msg, ['T', 'RAND', 'IDR', 'IDR', 'SP*', 'IBAKE']) as [
    [TPayload], [RandPayload], [IdrPayload], [IdrPayload], Payload[], [IbakePayload],
  ];
  if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
  c.checkVBit(msg, true);
  const peer = uriOf(idiP!);
  const addressed = uriOf(idrP!);
  const csbId = msg.header.csbId;
  c.checkPrf(msg);
  const csMap = srtpMap(msg);
  if (csMap.length === 0) throw malformed('no crypto sessions');
  const tMs = c.checkT(msg, tP!);
  const tNtp = bigToNtp(tP!.value);
  // One ciphertext, one answer: checked before any pairing, whatever clear fields surround it.
  const replayId = c.checkCiphertext(ibakeP!.encrData);
  if (c.responded.has(csbId, peer)) throw new IbakeError('IBAKE_STATE', 'exchange already exists for this CSB ID and peer');
  if (peer === c.identity) throw c.authFail(msg, 'identity-mismatch');
  const ours = addressed === c.identity || c.alsoAnswerFor.has(addressed);
  if (!ours && !c.opts.answerUndecryptable) {
    // No crypto at all for messages addressed to identities we do not hold.
    throw new IbakeError('IBAKE_NO_KEY', 'I_MESSAGE_1 is addressed to an identity we do not hold', { reply: c.errReply(msg, ERR.INVALID_ID) });
  }
  const bind = c.v2 ? clearBinding(csbId, tNtp, randP!.rand) : undefined;

  // The reply is encrypted to the caller: make its recipient entry while we decrypt.
  if (!ours || !c.ibe.decryptAndPrepare) c.ibe.prepare?.(peer, tMs);
  const eph = takeEphemeral();
  let xP: Uint8Array | undefined;
  try {
    // R_MESSAGE_1's IBAKE plaintext echoes xP where I_MESSAGE_1's carries it (IDRi(peer)
    // comes first in both): the port may encrypt it in the decryption's engine call.
    let early: Uint8Array | undefined;
    if (ours) {
      const echo = { idi: peer, eccpti: ECHOED, idr: c.identity, eccptr: eph.publicPoint, ...(bind ? { bind } : {}) };
      const at = innerPointAt(echo, 'i');
      const got = await c.decryptReplying(msg, addressed, tMs, ibakeP!.encrData, peer, tMs, echo, at, at);
      try {
        const f = readInner(got.plain, { i: 'yes', r: 'no', bind: !!bind });
        if (f.idi !== peer || f.idr !== addressed) throw authFailure('identity-mismatch');
        // The clear CSB ID, T and RAND are the ones the initiator encrypted (not a replayed ciphertext).
        if (bind && !eq(f.bind!, bind)) throw authFailure('clear-binding');
        assertP256Point(f.eccpti!);
        xP = f.eccpti!;
        if (got.early && echoes(got.plain, at, xP)) early = got.early;
      } finally {
        got.plain.fill(0);
      }
    }
    c.rememberCiphertext(replayId, tMs);
    // Fill SSRC 0 entries with our own (CS ID map info is not among the copied fields).
    const map = csMap.map((e) => ({ ...e, ssrc: e.ssrc === 0 ? randomNonZeroU32() : e.ssrc }));
    // Deferred delivery v2: a mailbox hands out one unused signed prekey of the addressed user
    // (marked used before it leaves), inside the reply's ciphertext to the caller.
    const prekey = !ours && c.opts.mailbox && c.opts.mailboxPrekeys ? await c.opts.mailboxPrekeys.take(addressed, c.now()) : undefined;
    const ct = early ?? (await c.ibe.encrypt(peer, tMs, writeInner({
      idi: peer, eccpti: xP, idr: c.identity, eccptr: eph.publicPoint, ...(bind ? { bind } : {}), ...(prekey ? { prekey: encodeRecord(prekey) } : {}),
    })));
    const reply = encode({
      header: { dataType: DT.R_MESSAGE_1, v: true, prf: msg.header.prf, csbId, csMap: { type: 0, entries: map } },
      payloads: [
        { kind: 'T', tsType: PROFILE.tsType, value: tP!.value },
        idr(ROLE.I, peer),
        idr(ROLE.R, c.identity),
        { kind: 'IBAKE', encrData: ct },
      ],
    });
    if (xP && eq(xP, eph.publicPoint)) throw authFailure('bad-point');
    // Another I_MESSAGE_1 for this CSB ID and caller (a forged one needs no key) was answered
    // during our awaits: never replace the state its R_MESSAGE_1 was made from.
    if (c.responded.has(csbId, peer)) throw new IbakeError('IBAKE_STATE', 'exchange already exists for this CSB ID and peer');
    const st: ResponderState = {
      kind: 'responder', csbId, peer, self: c.identity, addressed,
      deadline: c.now() + c.hsTimeout, state: 'sent-r1', blind: !xP, rand: randP!.rand.slice(),
      t: tNtp, lastT: tNtp, prf: msg.header.prf, csMap: map, profile: c.profile,
      y: eph.secret, yP: eph.publicPoint, ...(xP ? { xP: xP.slice() } : {}), ...(prekey ? { prekeyId: prekey.id } : {}),
    };
    c.responded.put(st);
    // K_SESSION is needed only for R_MESSAGE_2: compute its point while the initiator works.
    if (st.xP) startResponderAhead(c, st, st.xP);
    return { reply, replyName: 'R_MESSAGE_1', csbId, peer };
  } catch (e) {
    wipeEphemeral(eph);
    c.fail(msg, e);
  }
}

/** I_MESSAGE_2: the initiator echoes our point (authenticated); keys released, R_MESSAGE_2 with V. */
export async function onIMessage2(c: EndpointCore, msg: DecodedMessage): Promise<ReceiveResult> {
  const [[tP], [randP], [idiP], [idrP], [ibakeP], eskPs] = shape(msg, ['T', 'RAND', 'IDR', 'IDR', 'IBAKE', 'ESK?']) as [
    [TPayload], [RandPayload], [IdrPayload], [IdrPayload], [IbakePayload], EskPayload[],
  ];
  if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
  c.checkVBit(msg, true);
  const peer = uriOf(idiP!);
  const self = uriOf(idrP!);
  const csbId = msg.header.csbId;
  const s = c.responded.get(csbId, peer);
  if (s.state !== 'sent-r1') throw new IbakeError('IBAKE_STATE', 'I_MESSAGE_2 not expected in this state');
  // Misrouted (forking: the I_MESSAGE_2 of a sibling device) — not an attack on this session.
  if (self !== s.self) throw new IbakeError('IBAKE_NO_SESSION', 'no session for this CSB ID, peer and responder identity');
  if (msg.header.prf !== s.prf) throw malformed('PRF func not copied');
  if (!eq(randP!.rand, s.rand)) throw malformed('RAND differs from I_MESSAGE_1');
  const tMs = c.checkT(msg, tP!);
  const map = srtpMap(msg);
  if (map.length !== s.csMap.length || map.some((e, i) => e.ssrc !== s.csMap[i]!.ssrc || e.policyNo !== s.csMap[i]!.policyNo || e.roc !== s.csMap[i]!.roc)) {
    throw malformed('CS map differs from R_MESSAGE_1');
  }
  if (s.blind && eskPs.length === 0) throw c.authFail(msg, 'esk');

  // K_SESSION's point was started once R_MESSAGE_1 went out; for a state restored elsewhere it
  // is started now, to run while the engine decrypts (used only if the message checks out).
  if (s.xP && !c.hasAhead(s)) startResponderAhead(c, s, s.xP);
  const plain = await c.decryptAs(msg, self, tMs, ibakeP!.encrData);
  let xP: Uint8Array;
  let ek: ExchangeKeys;
  try {
    const f = readInner(plain, { i: s.blind ? 'yes' : 'no', r: 'yes', ...(c.v2 ? { nc: ROLE.I } : {}) });
    if (f.idi !== peer || f.idr !== self) throw authFailure('identity-mismatch');
    if (!eq(f.eccptr!, s.yP)) throw authFailure('echo-mismatch');
    xP = s.xP ?? f.eccpti!;
    // Authenticated: the peer could read our yP, so it holds K_PR of `peer`. K_SESSION binds
    // us, the peer and its N_c, which only the reader of this ciphertext knows.
    const nc = f.nc;
    ek = await c.keysFor(s, () => responderInput(c, s, xP, nc));
  } catch (e) {
    // A concurrent copy completed meanwhile (and wiped y): this one is a duplicate, not a forgery.
    if (s.state !== 'sent-r1') throw new IbakeError('IBAKE_STATE', 'I_MESSAGE_2 already processed');
    c.fail(msg, e);
  } finally {
    plain.fill(0);
  }
  const sess = ek.sess;
  ek.kSession?.fill(0);
  ek.point?.fill(0);
  let keys: CryptoSessionKeys[] | undefined;
  let keySource: KeySource | undefined;
  const payloads: Payload[] = [
    { kind: 'T', tsType: PROFILE.tsType, value: tP!.value },
    idr(ROLE.I, peer),
    idr(ROLE.R, self),
  ];
  try {
    // A blind answer proves it read I_MESSAGE_2 by echoing ECCPTi (RFC 6267 §4.2.2.5) — except in
    // deferred v2, where the V MAC already does (K_SESSION binds the N_c inside I_MESSAGE_2) and
    // the caller's keys do not depend on us (docs/profile.md §6.4).
    if (s.blind && (s.prekeyId === undefined || !c.v2)) {
      payloads.push({ kind: 'IBAKE', encrData: await c.ibe.encrypt(peer, tMs, writeInnerEcho(peer, xP)) });
    }
    if (c.opts.preEncoded && !c.opts.mailbox) {
      const pre = c.opts.preEncoded(s.csMap);
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
    } else if (!c.opts.mailbox) {
      keys = ek.cs ?? deriveCsKeys(s.prf, sess.tgk, csbId, s.rand, s.csMap, s.profile, 'ibake');
      keySource = 'ibake';
    }
    if (keys !== ek.cs) wipeCsKeys(ek.cs);
    payloads.push({ kind: 'V', authAlg: PROFILE.vAuthAlg, mac: new Uint8Array(PROFILE.vMacLen) });
    const reply = c.signV(encode({ header: { dataType: DT.R_MESSAGE_2, v: false, prf: s.prf, csbId, csMap: { type: 0, entries: s.csMap } }, payloads }), sess.authKey, peer, self);

    // One-shot: a concurrent copy of this I_MESSAGE_2 may have completed during our awaits.
    if (s.state !== 'sent-r1') {
      wipeCsKeys(keys);
      throw new IbakeError('IBAKE_STATE', 'I_MESSAGE_2 already processed');
    }
    wipeEphemeral({ secret: s.y });
    s.state = 'established';
    s.deadline = c.now() + c.lifetime;
    s.lastT = bigToNtp(tP!.value);
    s.xP = xP.slice();
    s.tgk = sess.tgk;
    if (keys) s.keys = keys;
    if (keySource) s.keySource = keySource;
    c.responded.touch(s);
    const out: ReceiveResult = { reply, replyName: 'R_MESSAGE_2', csbId, peer };
    if (keys) out.established = { csbId, role: 'responder', peer, self, mode: 'responder', keys: copyKeys(keys) };
    if (c.opts.mailbox && eskPs[0]) {
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
