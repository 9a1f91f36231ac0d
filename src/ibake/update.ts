// CSB update (re-keying, RFC 6267 §5.3 as our profile v2 runs it, docs/profile.md §6.6): new DH
// values for an established exchange, same CSB ID and RAND, a T newer than any accepted, from
// either original party, in three messages:
//   U1  I_MESSAGE_1 (no RAND)  sender -> answerer  IBAKE(IDRi ‖ [ECCPTi'] ‖ IDRr ‖ [ECCPTr'] ‖ N_c')
//   U2  R_MESSAGE_1 + V        answerer -> sender  IBAKE(IDRi ‖ ECCPTi' ‖ IDRr ‖ ECCPTr'), V
//   U3  I_MESSAGE_2 + V        sender -> answerer  T (U1's), RAND (the exchange's), IDRi, IDRr, V (no IBAKE)
// K_SESSION' binds the new point, both identities and N_c' as in an initial exchange. V of U2
// proves the answerer read U1; V of U3 proves the sender read U2 (it needs y'P). The sender
// switches keys once U2 verifies; the answerer keeps the old keys and holds the new ones as
// pending until U3 verifies, so a forged update (anyone can write a U1) changes nothing.
import type { DecodedMessage, IbakePayload, IdrPayload, Payload, RandPayload, SrtpIdEntry, TPayload } from '../mikey/index.js';
import { takeEphemeral } from './ahead.js';
import { freshNc } from './binding.js';
import { copyKeys, eq, wipeKeyList, type EndpointCore, type ReceiveResult, type VPayloadFields } from './core.js';
import { assertP256Point, wipeEphemeral } from './ecdh.js';
import { IbakeError, authFailure } from './errors.js';
import { computeExchangeKeys, wipeExchangeKeys, type ExchangeInput, type ExchangeKeys } from './exchange-keys.js';
import { msToNtp, ntpToMs } from './freshness.js';
import { readInner, writeInner } from './inner.js';
import type { CryptoSessionKeys } from './output.js';
import { type InitiatorState, type ResponderState, type UpdatePending, type UpdateSent, wipePending, wipeUpdate } from './state.js';
import { DT, PROFILE, ROLE, bigToNtp, encode, idr, malformed, ntpToBig, shape, srtpMap, uriOf } from './wire.js';

type Exchange = InitiatorState | ResponderState;

/**
 * T of a CSB update: now, but strictly newer than anything accepted for the CSB (no rollback),
 * even (lowest bit of the NTP fraction) when the original initiator sends it and odd when the
 * original responder does, so two updates of one exchange never share a T (see superseded()).
 */
function updateT(nowMs: number, lastT: Uint8Array, fromResponder: boolean): Uint8Array {
  let v = ntpToBig(msToNtp(nowMs));
  if (v <= ntpToBig(lastT)) v = ntpToBig(lastT) + 1n;
  if ((v & 1n) !== (fromResponder ? 1n : 0n)) v += 1n;
  return bigToNtp(v);
}

/**
 * Glare: both ends started an update of the exchange at once. Each end answers the other's U1,
 * so both updates could complete, and each end used to switch to the keys it confirmed last: its
 * own update's on U2, then the peer's on U3 — the two ends on different keys, each believing the
 * update succeeded. Keys only ever move forward in T: an update (ours on U2, the peer's on U3)
 * whose T is not newer than the keys in use is superseded and refused, so both ends keep the
 * update with the later T (the parity of updateT breaks ties).
 */
function superseded(s: Exchange, t: Uint8Array): boolean {
  return ntpToBig(t) <= ntpToBig(s.lastT);
}

function prfOf(s: Exchange): number {
  return s.kind === 'responder' ? s.prf : PROFILE.prf;
}

/** The new keys' input: our new ephemeral, the peer's new point, identities in original roles. */
function updateInput(c: EndpointCore, s: Exchange, secret: Uint8Array, own: Uint8Array, peerPoint: Uint8Array, map: SrtpIdEntry[], nc: Uint8Array | undefined, idi: string, idr: string): ExchangeInput {
  return {
    secret, peerPoint, ownPoint: own, prf: prfOf(s), csbId: s.csbId, rand: s.rand, authLen: PROFILE.vMacLen,
    ...(nc ? c.binding({ idi, idr, nc }) : {}),
    cs: { map, profile: s.profile },
  };
}

/** Replaces the exchange's keys (the old ones are wiped) and DH values by new ones. */
function switchKeys(s: Exchange, tgk: Uint8Array, keys: CryptoSessionKeys[], map: SrtpIdEntry[], t: Uint8Array, points: { own: Uint8Array; peer: Uint8Array }): void {
  if (s.kind === 'initiator') [s.xP, s.yP] = [points.own, points.peer];
  else [s.yP, s.xP] = [points.own, points.peer];
  wipeKeyList(s.keys);
  s.tgk?.fill(0);
  s.tgk = tgk;
  s.keys = keys;
  s.csMap = map;
  s.lastT = t;
}

function established(c: EndpointCore, s: Exchange, role: 'initiator' | 'responder', keys: CryptoSessionKeys[]) {
  return { csbId: s.csbId, role, peer: s.peer, self: s.self, mode: s.kind === 'initiator' ? s.mode : ('responder' as const), keys: copyKeys(keys) };
}

// ------------------------------------------------------------------ U1: sending an update

/** Starts a CSB update of an established exchange with `peer` (either original role): U1. */
export async function rekey(c: EndpointCore, csbId: number, peer: string): Promise<Uint8Array> {
  const asResponder = !c.initiated.has(csbId, peer) && c.responded.has(csbId, peer);
  const s: Exchange = asResponder ? c.responded.get(csbId, peer) : c.initiated.get(csbId, peer);
  if (s.state !== 'established' || !s.tgk || (s.kind === 'initiator' && s.mode === 'deferred')) {
    throw new IbakeError('IBAKE_STATE', 'only an established live exchange can be re-keyed');
  }
  const nowMs = c.now();
  // One update of ours at a time per exchange: a second one would replace the first's x' while
  // its U2 may be on the way (that chain then failed as if attacked). One older than the
  // handshake timeout is taken as lost and replaced.
  if (s.update && ntpToMs(s.update.t, nowMs) + c.hsTimeout > nowMs) {
    throw new IbakeError('IBAKE_BUSY', 'a CSB update of this exchange is already in flight (one at a time per side: wait for its U2, or the handshake timeout)');
  }
  const t = updateT(nowMs, s.lastT, asResponder);
  const eph = takeEphemeral();
  const nc = c.v2 ? freshNc() : undefined;
  const n = nc ? { nc, ncRole: asResponder ? ROLE.R : ROLE.I } : {};
  if (s.update) wipeUpdate(s.update);
  // taken before the encryption's await, so that a concurrent rekey sees it
  const u: UpdateSent = { x: eph.secret, xP: eph.publicPoint, t, nc: nc ?? new Uint8Array(0) };
  s.update = u;
  let ct: Uint8Array;
  try {
    const inner = asResponder ? { idi: peer, idr: s.self, eccptr: eph.publicPoint, ...n } : { idi: c.identity, eccpti: eph.publicPoint, idr: peer, ...n };
    ct = await c.ibe.encrypt(peer, nowMs, writeInner(inner));
  } catch (e) {
    if (s.update === u) s.update = undefined;
    wipeUpdate(u);
    throw e;
  }
  const ids = asResponder ? [idr(ROLE.R, s.self), idr(ROLE.I, peer)] : [idr(ROLE.I, c.identity), idr(ROLE.R, peer)];
  return encode({
    header: { dataType: DT.I_MESSAGE_1, v: true, prf: prfOf(s), csbId, csMap: { type: 0, entries: s.csMap } },
    payloads: [{ kind: 'T', tsType: PROFILE.tsType, value: ntpToBig(t) }, ...ids, { kind: 'IBAKE', encrData: ct }],
  });
}

// ------------------------------------------------------------------ U1 received: answer, keys pending

/** Updates answered and awaiting confirmation, per exchange (beyond: IBAKE_BUSY). */
export const MAX_PENDING_UPDATES = 4;

/**
 * Drops the pending updates older than the handshake timeout; IBAKE_BUSY when the others fill
 * the bound. A U1 is unauthenticated, so a new one never displaces a live pending one: its sender
 * may already have switched on our U2, and dropping those keys would leave the two ends on
 * different keys. A refused sender gets no U2, so it keeps its old keys too.
 */
function roomForPending(c: EndpointCore, s: Exchange): void {
  const now = c.now();
  const live: UpdatePending[] = [];
  for (const p of s.pending ?? []) {
    if (ntpToMs(p.t, now) + c.hsTimeout > now) live.push(p);
    else wipePending(p);
  }
  if (live.length > 0) s.pending = live;
  else s.pending = undefined;
  if (live.length >= MAX_PENDING_UPDATES) throw new IbakeError('IBAKE_BUSY', 'too many CSB updates of this exchange await confirmation; retry later');
}

/** U1 from the original initiator (IDRi first) or responder (IDRr first): answer with U2. */
export async function onUpdateI1(c: EndpointCore, msg: DecodedMessage): Promise<ReceiveResult> {
  const [[tP], [firstP], [secondP], [ibakeP]] = shape(msg, ['T', 'IDR', 'IDR', 'IBAKE']) as [[TPayload], [IdrPayload], [IdrPayload], [IbakePayload]];
  const fromResponder = firstP!.role === ROLE.R;
  const [idiP, idrP] = fromResponder ? [secondP!, firstP!] : [firstP!, secondP!];
  if (idiP.role !== ROLE.I || idrP.role !== ROLE.R) throw malformed('IDR roles');
  c.checkVBit(msg, true);
  const idi = uriOf(idiP);
  const idrUri = uriOf(idrP);
  const csbId = msg.header.csbId;
  let s: Exchange;
  if (fromResponder) {
    // We are the original initiator.
    if (idi !== c.identity) throw c.authFail(msg, 'identity-mismatch');
    s = c.initiated.get(csbId, idrUri);
    if (s.state !== 'established' || s.mode === 'deferred') throw new IbakeError('IBAKE_STATE', 'CSB update for an exchange that is not established');
  } else {
    s = c.responded.get(csbId, idi);
    if (s.state !== 'established' || !s.tgk) throw new IbakeError('IBAKE_STATE', 'CSB update for an exchange that is not established');
    if (idrUri !== s.self) throw c.authFail(msg, 'identity-mismatch');
  }
  c.checkPrf(msg);
  const tMs = c.checkT(msg, tP!);
  const tNtp = bigToNtp(tP!.value);
  // No rollback: the update's T must be strictly newer than anything accepted for this CSB.
  if (ntpToBig(tNtp) <= ntpToBig(s.lastT)) throw new IbakeError('IBAKE_REPLAY', 'CSB update not newer than the last accepted message');
  roomForPending(c, s); // before any pairing
  const replayId = c.checkCiphertext(ibakeP!.encrData);
  const map = srtpMap(msg);
  const peerRole = fromResponder ? 'r' : 'i';
  const plain = await c.decryptAs(msg, fromResponder ? idi : idrUri, tMs, ibakeP!.encrData);
  let peerPoint: Uint8Array;
  let nc: Uint8Array | undefined;
  try {
    const ncRole = c.v2 ? { nc: fromResponder ? ROLE.R : ROLE.I } : {};
    const f = readInner(plain, peerRole === 'i' ? { i: 'yes', r: 'no', ...ncRole } : { i: 'no', r: 'yes', ...ncRole });
    if (f.idi !== idi || f.idr !== idrUri) throw authFailure('identity-mismatch');
    const pt = peerRole === 'i' ? f.eccpti! : f.eccptr!;
    assertP256Point(pt);
    peerPoint = pt.slice();
    nc = f.nc?.slice();
    c.rememberCiphertext(replayId, tMs);
  } catch (e) {
    c.fail(msg, e);
  } finally {
    plain.fill(0);
  }
  const eph = takeEphemeral();
  let ek: ExchangeKeys;
  try {
    ek = computeExchangeKeys(updateInput(c, s, eph.secret, eph.publicPoint, peerPoint, map, nc, idi, idrUri));
  } catch (e) {
    c.fail(msg, e);
  } finally {
    wipeEphemeral(eph);
    nc?.fill(0);
  }
  try {
    const points = peerRole === 'i' ? { eccpti: peerPoint, eccptr: eph.publicPoint } : { eccpti: eph.publicPoint, eccptr: peerPoint };
    const ct = await c.ibe.encrypt(s.peer, tMs, writeInner({ idi, idr: idrUri, ...points }));
    const reply = encode({
      header: { dataType: DT.R_MESSAGE_1, v: true, prf: prfOf(s), csbId, csMap: { type: 0, entries: map } },
      payloads: [
        { kind: 'T', tsType: PROFILE.tsType, value: tP!.value },
        idr(ROLE.I, idi),
        idr(ROLE.R, idrUri),
        { kind: 'IBAKE', encrData: ct },
        { kind: 'V', authAlg: PROFILE.vAuthAlg, mac: new Uint8Array(PROFILE.vMacLen) },
      ],
    });
    c.signV(reply, ek.sess.authKey, idi, idrUri);
    // Not switched yet: the old keys stay in use until U3 proves the sender read this reply.
    roomForPending(c, s); // again: other U1s may have been answered during our awaits
    (s.pending ??= []).push({ t: tNtp, csMap: map, tgk: ek.sess.tgk, authKey: ek.sess.authKey, keys: ek.cs!, peerPoint, ownPoint: eph.publicPoint });
    ek.sess.mpk.fill(0);
    return { reply, replyName: 'R_MESSAGE_1', csbId, peer: s.peer };
  } catch (e) {
    wipeExchangeKeys(ek);
    throw e;
  }
}

// ------------------------------------------------------------------ U2 received: switch, confirm

/** U2 (R_MESSAGE_1 with V) answering our update: verify, switch keys, confirm with U3. */
export async function onUpdateR1(c: EndpointCore, msg: DecodedMessage): Promise<ReceiveResult> {
  const [[tP], [idiP], [idrP], [ibakeP], [vP]] = shape(msg, ['T', 'IDR', 'IDR', 'IBAKE', 'V']) as [[TPayload], [IdrPayload], [IdrPayload], [IbakePayload], [Payload & VPayloadFields]];
  if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
  c.checkVBit(msg, true);
  const idi = uriOf(idiP!);
  const idrUri = uriOf(idrP!);
  // Answer to OUR responder-initiated update (we are the original responder), else to an initiator one.
  const asResponder = idi !== c.identity;
  const s: Exchange = asResponder ? c.responded.get(msg.header.csbId, idi) : c.initiated.get(msg.header.csbId, idrUri);
  if (idrUri !== s.self && asResponder) throw c.authFail(msg, 'identity-mismatch');
  const u = s.update;
  if (!u || s.state !== 'established') throw new IbakeError('IBAKE_STATE', 'no CSB update pending');
  if (!eq(bigToNtp(tP!.value), u.t)) throw malformed('T not copied from the update I_MESSAGE_1');
  const map = srtpMap(msg);
  const plain = await c.decryptAs(msg, c.identity, ntpToMs(u.t, c.now()), ibakeP!.encrData);
  // One-shot: a concurrent copy of this U2 may have switched keys (and wiped x') meanwhile.
  if (s.update !== u) {
    plain.fill(0);
    throw new IbakeError('IBAKE_STATE', 'no CSB update pending');
  }
  if (superseded(s, u.t)) {
    plain.fill(0);
    wipeUpdate(u as UpdateSent);
    s.update = undefined;
    throw new IbakeError('IBAKE_STATE', 'CSB update superseded by a newer one of the peer (both ends updated at once)');
  }
  let ek: ExchangeKeys;
  let newPeer: Uint8Array;
  try {
    const f = readInner(plain, { i: 'yes', r: 'yes' });
    if (f.idi !== idi || f.idr !== idrUri) throw authFailure('identity-mismatch');
    const [echo, peerPoint] = asResponder ? [f.eccptr!, f.eccpti!] : [f.eccpti!, f.eccptr!];
    if (!eq(echo, u.xP)) throw authFailure('echo-mismatch');
    ek = computeExchangeKeys(updateInput(c, s, u.x, u.xP, peerPoint, map, c.v2 ? u.nc : undefined, idi, idrUri));
    newPeer = peerPoint.slice();
  } catch (e) {
    c.fail(msg, e);
  } finally {
    plain.fill(0);
  }
  if (!c.checkV(msg, vP!, ek.sess.authKey, idi, idrUri)) {
    wipeExchangeKeys(ek);
    throw c.authFail(msg, 'bad-mac');
  }
  const confirm = c.signV(
    encode({
      header: { dataType: DT.I_MESSAGE_2, v: false, prf: prfOf(s), csbId: s.csbId, csMap: { type: 0, entries: map } },
      payloads: [
        { kind: 'T', tsType: PROFILE.tsType, value: tP!.value },
        { kind: 'RAND', rand: s.rand },
        idr(ROLE.I, idi),
        idr(ROLE.R, idrUri),
        { kind: 'V', authAlg: PROFILE.vAuthAlg, mac: new Uint8Array(PROFILE.vMacLen) },
      ],
    }),
    ek.sess.authKey,
    idi,
    idrUri,
  );
  switchKeys(s, ek.sess.tgk, ek.cs!, map, u.t, { own: u.xP, peer: newPeer });
  ek.sess.mpk.fill(0);
  ek.sess.authKey.fill(0);
  wipeUpdate(u as UpdateSent);
  s.update = undefined;
  (asResponder ? c.responded : c.initiated).touch(s as never);
  return { reply: confirm, replyName: 'I_MESSAGE_2', csbId: s.csbId, peer: s.peer, established: established(c, s, asResponder ? 'responder' : 'initiator', s.keys!) };
}

// ------------------------------------------------------------------ U3 received: switch

/** U3 (I_MESSAGE_2 with V, no IBAKE): the sender read our U2; the pending keys replace the old. */
export async function onUpdateConfirm(c: EndpointCore, msg: DecodedMessage): Promise<ReceiveResult> {
  const [[tP], [randP], [idiP], [idrP], [vP]] = shape(msg, ['T', 'RAND', 'IDR', 'IDR', 'V']) as [[TPayload], [RandPayload], [IdrPayload], [IdrPayload], [Payload & VPayloadFields]];
  if (idiP!.role !== ROLE.I || idrP!.role !== ROLE.R) throw malformed('IDR roles');
  c.checkVBit(msg, false);
  const idi = uriOf(idiP!);
  const idrUri = uriOf(idrP!);
  const asInitiator = idi === c.identity;
  const s: Exchange = asInitiator ? c.initiated.get(msg.header.csbId, idrUri) : c.responded.get(msg.header.csbId, idi);
  if (!asInitiator && idrUri !== s.self) throw c.authFail(msg, 'identity-mismatch');
  if (!s.pending?.length || s.state !== 'established') throw new IbakeError('IBAKE_STATE', 'no CSB update awaiting confirmation');
  const t = bigToNtp(tP!.value);
  const withT = s.pending.filter((x) => eq(t, x.t));
  if (withT.length === 0) throw malformed('T not copied from the update I_MESSAGE_1');
  if (!eq(randP!.rand, s.rand)) throw malformed('RAND differs from the exchange\'s');
  // A forged confirmation changes nothing: the old keys stay, the pending ones wait. (Two
  // pending updates may share a T when one is forged: the V MAC tells which one is confirmed.)
  const p = withT.find((x) => c.checkV(msg, vP!, x.authKey, idi, idrUri));
  if (!p) throw c.authFail(msg, 'bad-mac');
  if (superseded(s, p.t)) {
    wipePending(p);
    s.pending = s.pending.filter((x) => x !== p);
    if (s.pending.length === 0) s.pending = undefined;
    throw new IbakeError('IBAKE_STATE', 'CSB update superseded by a newer one (both ends updated at once)');
  }
  switchKeys(s, p.tgk, p.keys, p.csMap, p.t, { own: p.ownPoint, peer: p.peerPoint });
  p.authKey.fill(0);
  for (const other of s.pending) if (other !== p) wipePending(other);
  s.pending = undefined;
  (asInitiator ? c.initiated : c.responded).touch(s as never);
  return { csbId: s.csbId, peer: s.peer, established: established(c, s, asInitiator ? 'initiator' : 'responder', s.keys!) };
}
