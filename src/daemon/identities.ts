// The daemon's local identities, on the main thread: for each URI one KeyRenewer that fetches
// the key of the current period from the KMS (REQUEST_KEY_PSK, key verified with the pairing)
// and the next one before the boundary. Each verified key is handed to the exchange shards
// (KeySink: the in-process shard or every worker, shard.ts), which hold the keyrings and
// endpoints; a period the renewer no longer holds is dropped there too. close() stops every
// renewer (no timer left) and wipes the PSK copies.
import type { Engine } from '../engine/types.js';
import type { IbeParams } from '../ibe/index.js';
import { createKeyRenewer, type KeyRenewer } from '../kms/index.js';
import { IbakedError } from '../util/errors.js';
import { FifoGate } from '../util/fifo-gate.js';

export class IdentityError extends IbakedError {}

/** Where verified keys go: the exchange shards. */
export interface KeySink {
  addKey(uri: string, period: string, key: Uint8Array): void;
  dropPeriod(uri: string, period: string): void;
  /** Forgets the identity (wipes its keys and exchanges). */
  remove(uri: string): void;
}

export interface LocalIdentity {
  readonly uri: string;
  readonly renewer: KeyRenewer;
  /** Period labels (YYYY-MM-DD) whose keys are held. */
  periods: Set<string>;
}

export interface IdentitiesOptions {
  engine: Engine;
  params: IbeParams;
  kmsUrl: string;
  ca?: string;
  keys: KeySink;
  log: (line: string) => void;
}

/**
 * Identities fetching their first key at once; the others wait their turn. A KMS (`ibake kms
 * serve`) accepts 16 connections per client address and resets the rest, and the daemon is one
 * address: a burst of 24 identity.add (an SBC registering its users) failed 8 of them with
 * KMS_TRANSPORT ECONNRESET. Half the cap leaves room for renewals and deferred fetches.
 */
export const MAX_FIRST_KEY_FETCHES = 8;

export class Identities {
  private readonly map = new Map<string, LocalIdentity>();
  private readonly adding = new Map<string, Promise<LocalIdentity>>();
  private closed = false;
  private readonly firstFetches = new FifoGate(MAX_FIRST_KEY_FETCHES);

  constructor(private readonly o: IdentitiesOptions) {
    if (o.params.suite.suite !== 'bls12381-bf') throw new IdentityError('CONFIG', `KMS suite ${o.params.suite.suite} is not supported by the daemon (bls12381-bf only)`);
  }

  has(uri: string): boolean {
    return this.map.has(uri);
  }

  /** The identity, or IDENTITY_UNKNOWN. */
  get(uri: string): LocalIdentity {
    const id = this.map.get(uri);
    if (!id) throw new IdentityError('IDENTITY_UNKNOWN', `identity ${uri} is not registered with this daemon (identity.add)`);
    return id;
  }

  list(): Array<{ uri: string; periods: string[] }> {
    return [...this.map.values()].map((i) => ({ uri: i.uri, periods: [...i.periods].sort() }));
  }

  all(): LocalIdentity[] {
    return [...this.map.values()];
  }

  /**
   * Registers an identity: fetches its current key (fails with the KMS's typed error, leaving
   * nothing behind) and keeps it current. `psk` is copied. Concurrent adds of one URI share a fetch.
   */
  async add(uri: string, psk: Uint8Array, pskName?: string): Promise<{ identity: LocalIdentity; added: boolean }> {
    if (this.closed) throw new IdentityError('SHUTTING_DOWN', 'daemon is shutting down');
    const have = this.map.get(uri);
    if (have) return { identity: have, added: false };
    const pending = this.adding.get(uri);
    if (pending) return { identity: await pending, added: false };
    const p = this.create(uri, psk.slice(), pskName);
    this.adding.set(uri, p);
    try {
      const identity = await p;
      return { identity, added: true };
    } finally {
      this.adding.delete(uri);
    }
  }

  private async create(uri: string, psk: Uint8Array, pskName?: string): Promise<LocalIdentity> {
    const periods = new Set<string>();
    const renewer = createKeyRenewer({
      url: this.o.kmsUrl,
      identity: uri,
      psk,
      params: this.o.params,
      engine: this.o.engine,
      ...(pskName ? { pskName } : {}),
      ...(this.o.ca ? { ca: this.o.ca } : {}),
      onKey: (k) => {
        this.o.keys.addKey(uri, k.period.label, k.key);
        periods.add(k.period.label);
        this.o.log(`identity ${uri}: key for period ${k.period.label} obtained`);
      },
      onError: (e) => this.o.log(`identity ${uri}: key fetch failed (${(e as IbakedError).code ?? 'ERROR'}); retrying`),
    });
    try {
      await this.firstFetches.run(() => renewer.start());
      if (this.closed) throw new IdentityError('SHUTTING_DOWN', 'daemon is shutting down');
    } catch (e) {
      renewer.stop(true);
      this.o.keys.remove(uri);
      psk.fill(0);
      throw e;
    }
    const id: LocalIdentity & { psk: Uint8Array } = { uri, renewer, periods, psk };
    this.map.set(uri, id);
    return id;
  }

  /** Drops from the shards (which wipe them) the keys of periods the renewer no longer holds (past their grace time). */
  dropEnded(): void {
    for (const i of this.map.values()) {
      const live = new Set(i.renewer.held().map((k) => k.period.label));
      for (const p of i.periods) {
        if (live.has(p)) continue;
        this.o.keys.dropPeriod(i.uri, p);
        i.periods.delete(p);
        this.o.log(`identity ${i.uri}: key for period ${p} dropped`);
      }
    }
  }

  /** Unregisters one identity: stops its renewer, wipes its PSK, and the shards forget it (keys, exchanges). */
  remove(uri: string): boolean {
    const i = this.map.get(uri) as (LocalIdentity & { psk: Uint8Array }) | undefined;
    if (!i) return false;
    this.map.delete(uri);
    i.renewer.stop(true);
    i.psk.fill(0);
    this.o.keys.remove(uri);
    return true;
  }

  /** Registered identities (adds in progress not included). */
  get size(): number {
    return this.map.size;
  }

  close(): void {
    this.closed = true;
    for (const i of this.map.values() as Iterable<LocalIdentity & { psk: Uint8Array }>) {
      i.renewer.stop(true);
      i.psk.fill(0);
    }
    this.map.clear();
  }
}
