// One MIKEY-IBAKE party (RFC 6267 on RFC 6539, our profile v2 in docs/profile.md): message in,
// message out (the caller carries the bytes in SIP/SDP). This module dispatches each received
// message to its handler and keeps the housekeeping; the handlers live by role:
//   initiator.ts  I_MESSAGE_1 out, R_MESSAGE_1 -> I_MESSAGE_2, R_MESSAGE_2 -> keys
//   responder.ts  I_MESSAGE_1 -> R_MESSAGE_1, I_MESSAGE_2 -> keys + R_MESSAGE_2
//   update.ts     CSB update (re-keying) from either side, confirmed before the answerer switches
//   core.ts       the shared state and checks (T window, replay cache on the ciphertext, V MACs)
// Rules every handler keeps: cheap checks before any pairing; every pre-authentication failure
// is IBAKE_AUTH_FAILED with one ERR (Auth failure) reply; keys only after the peer is
// authenticated; a failure in one session never changes another. See docs/security.md.
import type { DecodedMessage, IdrPayload } from '../mikey/index.js';
import { EndpointCore, type InitiateOptions, type ReceiveResult } from './core.js';
import { IbakeError } from './errors.js';
import { msToNtp } from './freshness.js';
import { initiate, onRMessage1, onRMessage2 } from './initiator.js';
import { onIMessage1, onIMessage2 } from './responder.js';
import type { InitiatorState, OfferState, ResponderState } from './state.js';
import { wipeCsKeys } from './output.js';
import { SessionStore } from './store.js';
import { onUpdateConfirm, onUpdateI1, onUpdateR1, rekey } from './update.js';
import { DT, ERR, MESSAGE_NAMES, ROLE, buildErr, decode, malformed, uriOf } from './wire.js';

export type { EndpointOptions, Established, InitiateOptions, MessageName, ReceiveResult, RevealedSecrets } from './core.js';

const has = (msg: DecodedMessage, kind: string) => msg.payloads.some((p) => p.kind === kind);

export class IbakeEndpoint extends EndpointCore {
  /** Starts an exchange: returns I_MESSAGE_1 and the CSB ID. */
  initiate(o: InitiateOptions): Promise<{ message: Uint8Array; csbId: number }> {
    return initiate(this, o);
  }

  /**
   * Starts a CSB update (re-keying) of an established exchange with `peer`, as whichever side
   * we were: returns the update's I_MESSAGE_1 (update.ts).
   */
  rekey(csbId: number, peer: string): Promise<Uint8Array> {
    return rekey(this, csbId, peer);
  }

  /**
   * Processes one received message; returns the reply to send (if any) and any keys.
   * `onHeader`, if given, is handed the message's decoded common header first (the daemon reads
   * its SRTP-ID map from it rather than decoding the message a second time).
   */
  async receive(bytes: Uint8Array, onHeader?: (h: DecodedMessage['header']) => void): Promise<ReceiveResult> {
    const msg = decode(bytes);
    if (msg.header.version !== undefined && msg.header.version !== 1) throw malformed('version');
    onHeader?.(msg.header);
    switch (msg.header.dataType) {
      case DT.I_MESSAGE_1:
        // A CSB update has no RAND (RFC 6267 §5.3).
        return has(msg, 'RAND') ? onIMessage1(this, msg) : onUpdateI1(this, msg);
      case DT.R_MESSAGE_1:
        return has(msg, 'V') ? onUpdateR1(this, msg) : onRMessage1(this, msg);
      case DT.I_MESSAGE_2:
        if (has(msg, 'V')) return onUpdateConfirm(this, msg);
        return this.abortOnAuthFailure(msg, this.responded, () => onIMessage2(this, msg));
      case DT.R_MESSAGE_2:
        return this.abortOnAuthFailure(msg, this.initiated, () => onRMessage2(this, msg));
      case DT.ERROR:
        // Unauthenticated: a hint only, never tears a session down (security.md §3.4).
        throw new IbakeError('IBAKE_STATE', 'peer sent an RFC 3830 Error message (ignored: unauthenticated)');
      default:
        throw new IbakeError('IBAKE_UNSUPPORTED', `data type ${msg.header.dataType} is not part of MIKEY-IBAKE`, {
          reply: buildErr(msg.header.prf, msg.header.csbId, msToNtp(this.now()), ERR.INVALID_DT),
        });
    }
  }

  /** The peer whose state a (decoded) I_MESSAGE_2 / R_MESSAGE_2 names in `store` (its IDR of the peer's role), if readable. */
  private namedPeer(msg: DecodedMessage, store: SessionStore<InitiatorState> | SessionStore<ResponderState>): string | undefined {
    const ids = msg.payloads.filter((p): p is IdrPayload & { offset: number; length: number } => p.kind === 'IDR');
    const peerRole = store === this.responded ? ROLE.I : ROLE.R;
    const p = ids.find((x) => x.role === peerRole);
    if (!p) return undefined;
    try {
      return uriOf(p);
    } catch {
      return undefined; // undecodable identity
    }
  }

  /**
   * RFC 6539 §3.2: on a failed check the exchange halts and its secrets are discarded. Only
   * the half-open session the (decoded) message names is touched; every other session is unchanged.
   * An exchange closed (or replaced) by the application while this message was being processed
   * is IBAKE_NO_SESSION, with no keys and no Error reply: its secrets were wiped under the check,
   * which used to fail as IBAKE_AUTH_FAILED (an Auth-failure reply blaming the peer), or complete
   * and hand out the keys of an exchange already closed.
   */
  private async abortOnAuthFailure(
    msg: DecodedMessage,
    store: SessionStore<InitiatorState> | SessionStore<ResponderState>,
    run: () => Promise<ReceiveResult>,
  ): Promise<ReceiveResult> {
    const csbId = msg.header.csbId;
    const peer = this.namedPeer(msg, store); // decoded once, looked up before and after
    const before = peer === undefined ? undefined : store.peek(csbId, peer);
    const closedMeanwhile = () => before !== undefined && store.peek(csbId, peer!) !== before;
    const closedError = () => new IbakeError('IBAKE_NO_SESSION', 'the exchange was closed while this message was being processed');
    let r: ReceiveResult;
    try {
      r = await run();
    } catch (e) {
      if (e instanceof IbakeError && e.code === 'IBAKE_AUTH_FAILED') {
        if (closedMeanwhile()) throw closedError();
        const s = peer === undefined ? undefined : store.find(csbId, peer);
        if (s && s.state !== 'established') store.delete(csbId, peer!);
      }
      throw e;
    }
    if (closedMeanwhile()) {
      wipeCsKeys(r.established?.keys);
      throw closedError();
    }
    return r;
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
