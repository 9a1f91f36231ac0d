// IPC methods of deferred delivery v2's prekeys (DESIGN §3, docs/daemon.md):
//   prekeys.generate {identity, count?, expiry?}  → {identity, period, expiry, ids: [first, last], bundle}
//       the user's daemon makes `count` one-time P-256 prekeys for a local identity, signs them
//       with the identity's Cha–Cheon signing key (fetched from the KMS with the identity's
//       PSK in one REQUEST_KEY exchange and pairing-checked), stores them with their private
//       halves (0600, atomically) and returns the bundle octets for the user's mailbox;
//   prekeys.status {identity?}                    → {prekeys: [{uri, available, expired, nextId}]}
//   mailbox.prekeys.add {bundle}                  → {uri, added, available}
//       a mailbox-mode daemon takes a user's bundle, checks every signature against the
//       bundle's user, and keeps only public values;
//   mailbox.prekeys.status {identity}             → {uri, available, expired, used}
// How a bundle travels from the user to its mailbox is the apps' business. The stores are
// opened on first use (files under the daemon's varDir); nothing is created otherwise. The
// daemon opens a file that exists at start, so a corrupt one stops the start (daemon.ts).
import { join } from 'node:path';
import type { Engine } from '../engine/types.js';
import type { IbeParams } from '../ibe/index.js';
import { periodWindow } from '../kms/period.js';
import { IbsKeyring } from '../ibake/ibs-port.js';
import { MailboxPrekeys } from '../ibake/prekey/mailbox.js';
import { PrekeyStore } from '../ibake/prekey/store.js';
import { makeDirSync } from '../util/make-dir.js';
import { ConfigError } from './config.js';
import { decodeBundle, verifierFor } from '../ibake/prekey/record.js';
import { bytesParam, ParamError } from './methods.js';
import type { Handler } from './server.js';
import { onlyFields, optionalUriParam, uriParam, type Params } from './validate.js';

/** Most prekeys per prekeys.generate (a bundle of 200 records is 56 KB: it fits one IPC frame). */
export const MAX_GENERATE = 200;
export const DEFAULT_GENERATE = 100;
export const PREKEY_STORE_FILE = 'prekeys.bin';
export const MAILBOX_FILE = 'mailbox-prekeys.json';
/** The IPC methods below (for the daemon's per-method metrics). */
export const PREKEY_METHODS = ['prekeys.generate', 'prekeys.status', 'mailbox.prekeys.add', 'mailbox.prekeys.status'] as const;

export interface PrekeyMethodsOptions {
  engine: Engine;
  params: IbeParams;
  /** Directory for the two state files (created 0700 on first use). */
  stateDir: string;
  /** Whether `uri` is a local identity of this daemon (prekeys.generate is for those only). */
  isLocal: (uri: string) => boolean;
  /** The identity's signing key for the period containing `atMs` (pairing-checked by the caller). */
  fetchSigningKey: (uri: string, atMs: number) => Promise<{ period: string; key: Uint8Array }>;
  now?: () => number;
}

export interface PrekeyMethods {
  handlers: Record<string, Handler>;
  /** The stores, once opened (for the v2 flow and tests). */
  store(): PrekeyStore;
  mailbox(): MailboxPrekeys;
  ibs: IbsKeyring;
  close(): void;
}

function countParam(p: Params): number {
  const v = p.count ?? DEFAULT_GENERATE;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_GENERATE) throw new ParamError(`count must be an integer in 1..${MAX_GENERATE}`);
  return v;
}

export function prekeyMethods(o: PrekeyMethodsOptions): PrekeyMethods {
  const now = o.now ?? Date.now;
  if (o.params.suite.suite !== 'bls12381-bf') throw new ParamError('prekeys need a bls12381-bf KMS');
  const ibs = new IbsKeyring(o.engine, o.params.suite.Ppub);
  const verifier = verifierFor(ibs);
  let store: PrekeyStore | undefined;
  let mailbox: MailboxPrekeys | undefined;
  const dir = () => {
    makeDirSync(o.stateDir, 0o700, (m) => new ConfigError(m));
    return o.stateDir;
  };
  const openStore = () => (store ??= PrekeyStore.open(join(dir(), PREKEY_STORE_FILE), { now }));
  /**
   * The signing key of (uri, period) in the keyring, fetched once however many generates ask at
   * the same time: each used to fetch its own, so a burst of prekeys.generate ran into the KMS's
   * per-user rate limit (KMS_RATE_LIMITED) and re-added the key while others signed with it.
   */
  const fetching = new Map<string, Promise<void>>();
  const signingKey = (uri: string, label: string, t: number): Promise<void> => {
    if (ibs.hasKey(uri, label)) return Promise.resolve();
    const k = `${label} ${uri}`;
    let p = fetching.get(k);
    if (!p) {
      p = (async () => {
        const key = await o.fetchSigningKey(uri, t);
        try {
          await ibs.addKey(uri, key.period, key.key);
        } finally {
          key.key.fill(0);
        }
      })().finally(() => fetching.delete(k));
      fetching.set(k, p);
    }
    return p;
  };
  const openMailbox = () => (mailbox ??= MailboxPrekeys.open(join(dir(), MAILBOX_FILE)));

  const handlers: Record<string, Handler> = {
    'prekeys.generate': async (p) => {
      onlyFields(p, ['identity', 'count', 'expiry']);
      const uri = uriParam(p, 'identity');
      const count = countParam(p);
      if (!o.isLocal(uri)) throw new ParamError(`identity ${uri} is not a local identity of this daemon (identity.add)`);
      const t = now();
      const window = periodWindow(t, o.params.period);
      // Default expiry: the end of the signing key's period (a prekey is never valid longer
      // than the key that vouches for it).
      const expiry = p.expiry === undefined ? Math.floor(window.endMs / 1000) : p.expiry;
      if (typeof expiry !== 'number' || !Number.isSafeInteger(expiry) || expiry * 1000 <= t || expiry * 1000 > window.endMs) {
        throw new ParamError('expiry must be seconds since 1970, in the future and not after the current key period ends');
      }
      await signingKey(uri, window.label, t);
      const bundle = await openStore().generate(ibs, uri, count, window.label, expiry);
      const ids = decodeBundle(bundle).prekeys.map((r) => r.id);
      return { identity: uri, period: window.label, expiry, ids: [ids[0], ids[ids.length - 1]], bundle };
    },
    'prekeys.status': async (p) => {
      onlyFields(p, ['identity']);
      const uri = optionalUriParam(p, 'identity');
      return { prekeys: openStore().status(uri) };
    },
    'mailbox.prekeys.add': async (p) => {
      onlyFields(p, ['bundle']);
      return openMailbox().add(verifier, bytesParam(p, 'bundle'), now());
    },
    'mailbox.prekeys.status': async (p) => {
      onlyFields(p, ['identity']);
      return openMailbox().status(uriParam(p, 'identity'), now());
    },
  };
  return {
    handlers,
    store: openStore,
    mailbox: openMailbox,
    ibs,
    close: () => {
      store?.close();
      void mailbox?.close().catch(() => {});
      ibs.close();
    },
  };
}
