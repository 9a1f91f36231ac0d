// The IbePort on our Boneh–Franklin suite (bls12381-bf, src/ibe): one party's view of IBE —
// its own private keys per (URI, period) and the cached encryption context for peers. Encrypting
// to a repeat peer uses the per-(identity, period) g_ID fixed-base table (no pairing); our own
// keys are kept as prepared G2 lines. The period of a message is the one containing its T.
import { BlsContext } from '../ibe/bls12381/context.js';
import { identityBytes, periodStart, type PeriodKind } from '../ibe/identity.js';
import type { EchoSplice, Engine } from '../engine/types.js';
import { IbakeError } from './errors.js';
import { useSha256Blocks } from '../mikey/hmac-sha256.js';
import { usePrfSha256 } from '../mikey/prf.js';
import type { IbePort } from './ibe-port.js';

export class IbeKeyring implements IbePort {
  readonly ctx: BlsContext;
  /** our keys by (period, URI), each with its context cache id (computed once: a hash) */
  private readonly keys = new Map<string, { key: Uint8Array; id: string }>();
  private readonly uris = new Set<string>();

  constructor(
    readonly engine: Engine,
    readonly Ppub: Uint8Array,
    readonly period: PeriodKind = 'month',
    ctx?: BlsContext,
  ) {
    this.ctx = ctx ?? new BlsContext(engine, Ppub);
    // The engine's SHA-256 compression for this thread's MIKEY PRF and MACs (the same bytes,
    // about ten times faster on native: hmac-sha256.ts); any engine that has one lends it (they all give the same bytes).
    if (engine.sha256Blocks) useSha256Blocks(engine.sha256Blocks);
    if (engine.mikeyPrfSha256) usePrfSha256(engine.mikeyPrfSha256); // the whole PRF in one call (prf.ts)
  }

  private static k(uri: string, period: string): string {
    return `${period} ${uri}`;
  }

  /**
   * Adds our private key for (uri, period start YYYY-MM-DD); keeps a copy. The caller has
   * verified it. A key of (uri, period) is unique (the KMS's extraction is deterministic, and a
   * verified key belongs to this keyring's P_pub), so one already held is kept, as IbsKeyring
   * does: wiping it for its copy could zero the buffer under a decryption still using it.
   */
  addKey(uri: string, period: string, key: Uint8Array): void {
    this.uris.add(uri);
    if (this.keys.has(IbeKeyring.k(uri, period))) return;
    const own = key.slice();
    this.keys.set(IbeKeyring.k(uri, period), { key: own, id: this.ctx.keyCacheId(own) });
  }

  /** Drops (and wipes) every key of a period (e.g. once it has ended). */
  dropPeriod(period: string): void {
    for (const [k, v] of this.keys) if (k.startsWith(`${period} `)) {
      v.key.fill(0);
      this.keys.delete(k);
    }
  }

  holds(uri: string): boolean {
    return this.uris.has(uri);
  }

  prepare(uri: string, tMs: number): void {
    const id = this.peerIdentity(uri, tMs);
    try {
      if (id) this.ctx.recipient(id).catch(() => undefined);
    } catch {
      /* a closed context: the encryption will report it */
    }
  }

  /** A peer's identity octets for the period of tMs, or undefined for an invalid URI (the
   *  encryption to it will report that). */
  private peerIdentity(uri: string, tMs: number): Uint8Array | undefined {
    try {
      return identityBytes(uri, tMs, this.period);
    } catch {
      return undefined;
    }
  }

  encrypt(uri: string, tMs: number, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.ctx.encryptTo(identityBytes(uri, tMs, this.period), plaintext);
  }

  async decrypt(uri: string, tMs: number, ciphertext: Uint8Array): Promise<Uint8Array> {
    const own = this.ownKey(uri, tMs);
    return this.ctx.decryptWith(own.key, ciphertext, own.id);
  }

  /** decrypt, with the recipient entry of `peer` made beside it (BlsContext.decryptWith's
   *  alsoPrepare: one engine call on native when the entry is new). */
  async decryptAndPrepare(uri: string, tMs: number, ciphertext: Uint8Array, peer: string): Promise<Uint8Array> {
    const own = this.ownKey(uri, tMs); // no key: no reply to encrypt, nothing to prepare
    return this.ctx.decryptWith(own.key, ciphertext, own.id, this.peerIdentity(peer, tMs));
  }

  /** decryptAndPrepare, with the reply to `peer` encrypted in the same engine call when the
   *  context can (BlsContext.decryptThenEncrypt: a repeat peer on the native engine). */
  async decryptAndReply(
    uri: string,
    tMs: number,
    ciphertext: Uint8Array,
    peer: string,
    replyTMs: number,
    reply: Uint8Array,
    splice: EchoSplice,
  ): Promise<{ plain: Uint8Array; reply?: Uint8Array }> {
    const own = this.ownKey(uri, tMs);
    const to = this.peerIdentity(peer, replyTMs);
    if (!to) return { plain: await this.ctx.decryptWith(own.key, ciphertext, own.id) };
    const r = await this.ctx.decryptThenEncrypt(own.key, ciphertext, own.id, to, reply, splice);
    return r.reply ? { plain: r.m, reply: r.reply } : { plain: r.m };
  }

  private ownKey(uri: string, tMs: number): { key: Uint8Array; id: string } {
    const own = this.keys.get(IbeKeyring.k(uri, periodStart(tMs, this.period)));
    if (!own) throw new IbakeError('IBAKE_NO_KEY', 'no private key for this identity and period');
    return own;
  }

  close(): void {
    for (const v of this.keys.values()) v.key.fill(0);
    this.keys.clear();
    this.ctx.close();
  }
}
