// IPC method of deferred delivery, the user's side (docs/daemon.md, docs/profile.md §6.4):
//   deferred.open {identity, message} → {csbId, from, mailbox, prekeyId? | escrowed: true, keys}
// A local identity opens an I_MESSAGE_2 its mailbox stored: the ESK is decrypted with the
// identity's IBE key for the period of the message's T (a held key, else that period's key is
// fetched from the KMS with the identity's PSK), the v2 prekey it names is taken out of the
// prekey store (prekeys.generate filled it; the private half is deleted, on disk too, before
// the keys are returned: a second open is IBAKE_NO_PREKEY), and the SRTP keys come back as
// exchange.receive returns them, zeroed here once the reply is written. Runs on the main thread,
// where the prekey store is, whatever the number of shard workers.
import type { Engine } from '../engine/types.js';
import type { PeriodKind } from '../ibe/identity.js';
import { IbakeError, IbeKeyring, openDeferred, type IbePort } from '../ibake/index.js';
import { wipeCsKeys } from '../ibake/output.js';
import type { PrekeyStore } from '../ibake/prekey/store.js';
import { keysOut } from './exchange.js';
import { bytesParam, ParamError } from './methods.js';
import { AFTER_SEND, type Handler } from './server.js';
import { onlyFields, uriParam } from './validate.js';

export const DEFERRED_METHODS = ['deferred.open'] as const;

export interface DeferredMethodsOptions {
  engine: Engine;
  Ppub: Uint8Array;
  period: PeriodKind;
  profile?: string;
  isLocal: (uri: string) => boolean;
  /** The identity's IBE keys held now (period label, key): copied, not kept. */
  heldKeys: (uri: string) => Array<{ period: string; key: Uint8Array }>;
  /** The identity's IBE key for the period containing `atMs`, from the KMS (pairing-checked); the caller wipes it. */
  fetchKey: (uri: string, atMs: number) => Promise<{ period: string; key: Uint8Array }>;
  prekeys: () => PrekeyStore;
}

/** An IbePort that decrypts as one identity with a throw-away keyring, fetching a period's key it lacks. */
function openingPort(ring: IbeKeyring, fetchKey: DeferredMethodsOptions['fetchKey']): IbePort {
  return {
    encrypt: () => Promise.reject(new IbakeError('IBAKE_STATE', 'deferred.open never encrypts')),
    holds: (uri) => ring.holds(uri),
    decrypt: async (uri, tMs, ct) => {
      try {
        return await ring.decrypt(uri, tMs, ct);
      } catch (e) {
        if (!(e instanceof IbakeError && e.code === 'IBAKE_NO_KEY')) throw e;
      }
      const k = await fetchKey(uri, tMs);
      try {
        ring.addKey(uri, k.period, k.key);
      } finally {
        k.key.fill(0);
      }
      return ring.decrypt(uri, tMs, ct);
    },
  };
}

export function deferredMethods(o: DeferredMethodsOptions): Record<string, Handler> {
  return {
    'deferred.open': async (p) => {
      onlyFields(p, ['identity', 'message']);
      const uri = uriParam(p, 'identity');
      const message = bytesParam(p, 'message');
      if (!o.isLocal(uri)) throw new ParamError(`identity ${uri} is not a local identity of this daemon (identity.add)`);
      const ring = new IbeKeyring(o.engine, o.Ppub, o.period);
      let opened;
      try {
        for (const k of o.heldKeys(uri)) ring.addKey(uri, k.period, k.key);
        opened = await openDeferred(openingPort(ring, o.fetchKey), uri, message, {
          prekeys: o.prekeys(),
          ...(o.profile ? { profile: o.profile } : {}),
          ...(o.engine.p256Mul ? { p256: o.engine.p256Mul } : {}),
        });
      } finally {
        ring.close();
      }
      const held: Uint8Array[] = [];
      const out: Record<string, unknown> = {
        csbId: opened.csbId,
        from: opened.from,
        mailbox: opened.mailbox,
        ...(opened.escrowed ? { escrowed: true } : { prekeyId: opened.prekeyId }),
        keys: keysOut(opened.keys, held),
      };
      // The reply frame holds the only copy the app needs: zero ours once it is written.
      Object.defineProperty(out, AFTER_SEND, {
        value: () => {
          wipeCsKeys(opened.keys);
          for (const b of held) b.fill(0);
        },
        enumerable: false,
      });
      return out;
    },
  };
}
