// What deferred delivery v2 needs from identity-based signatures (src/ibe/bls12381/ibs.ts), as a
// small interface like IbePort: sign with OUR signing key for (our URI, period), verify a
// signature of (peer URI, period). IbsKeyring implements it on the engine with a bounded cache
// of Q_sig per (URI, period), so a repeat peer's check skips the hash to G2.
import type { Engine } from '../engine/types.js';
import { identityBytes } from '../ibe/index.js';
import { hashSigningIdentity, sign, verify, verifySigningKey } from '../ibe/bls12381/ibs.js';
import { Lru } from '../ibe/lru.js';
import { IbakeError } from './errors.js';

export interface IbsPort {
  /** Signs `m` as `uri` for the key period starting `period` (YYYY-MM-DD). IBAKE_NO_KEY if no key. */
  sign(uri: string, period: string, m: Uint8Array): Promise<Uint8Array>;
  /** True iff `sig` is `uri`'s signature of `m` for `period`; malformed signatures are false. */
  verify(uri: string, period: string, m: Uint8Array, sig: Uint8Array): Promise<boolean>;
}

export class IbsKeyring implements IbsPort {
  readonly #engine: Engine;
  readonly #Ppub: Uint8Array;
  readonly #keys = new Map<string, Uint8Array>();
  readonly #q: Lru<string, Promise<Uint8Array>>;

  /** Ppub: the bls12381-bf KMS's P_pub (identity-based signatures exist for that suite only). */
  constructor(engine: Engine, Ppub: Uint8Array, opts: { cache?: number } = {}) {
    if (!(Ppub instanceof Uint8Array)) throw new IbakeError('IBAKE_UNSUPPORTED', 'identity-based signatures need a bls12381-bf KMS (P_pub)');
    this.#engine = engine;
    this.#Ppub = Ppub;
    this.#q = new Lru(opts.cache ?? 256);
  }

  /** Starts hashing Q_sig of (uri, period) so a later verify finds it ready. Never rejects. */
  prepare(uri: string, period: string): void {
    try {
      void this.#qSig(uri, period).catch(() => {});
    } catch {
      // a bad URI or period: the verify reports it
    }
  }

  #qSig(uri: string, period: string): Promise<Uint8Array> {
    const k = `${period} ${uri}`;
    let p = this.#q.get(k);
    if (!p) {
      p = hashSigningIdentity(this.#engine, identityOf(uri, period));
      p.catch(() => this.#q.delete(k));
      this.#q.set(k, p);
    }
    return p;
  }

  /** Adds our signing key for (uri, period) after checking e(P, d) = e(P_pub, Q_sig); keeps a copy. */
  async addKey(uri: string, period: string, d: Uint8Array): Promise<void> {
    const q = await this.#qSig(uri, period);
    if (!(await verifySigningKey(this.#engine, this.#Ppub, identityOf(uri, period), d, q))) {
      throw new IbakeError('IBAKE_NO_KEY', `the signing key for ${uri} (${period}) fails e(P, d) = e(P_pub, Q_sig)`);
    }
    // A key of (uri, period) is unique (the KMS's extraction is deterministic), so one already
    // held is kept: wiping it here could zero the buffer under a sign() still running with it
    // (prekeys.generate in parallel failed with ENGINE_NON_CANONICAL that way).
    if (this.#keys.has(`${period} ${uri}`)) return;
    this.#keys.set(`${period} ${uri}`, d.slice());
  }

  hasKey(uri: string, period: string): boolean {
    return this.#keys.has(`${period} ${uri}`);
  }

  async sign(uri: string, period: string, m: Uint8Array): Promise<Uint8Array> {
    const d = this.#keys.get(`${period} ${uri}`);
    if (!d) throw new IbakeError('IBAKE_NO_KEY', `no signing key for ${uri} in the period starting ${period}`);
    return sign(this.#engine, identityOf(uri, period), d, m, await this.#qSig(uri, period));
  }

  async verify(uri: string, period: string, m: Uint8Array, sig: Uint8Array): Promise<boolean> {
    try {
      return await verify(this.#engine, this.#Ppub, identityOf(uri, period), m, sig, await this.#qSig(uri, period));
    } catch {
      return false;
    }
  }

  /** Wipes every held signing key. */
  close(): void {
    for (const d of this.#keys.values()) d.fill(0);
    this.#keys.clear();
  }
}

/** Identity octets of (uri, period start): URI ‖ 0x00 ‖ period (the date is the period start). */
export function identityOf(uri: string, period: string): Uint8Array {
  return identityBytes(uri, period, 'day');
}
