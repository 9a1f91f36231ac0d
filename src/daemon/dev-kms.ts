// Embedded development KMS (DESIGN §6 "Embedded default"): with no `kms` configured, ibaked
// runs a real KMS (startKmsServer) on 127.0.0.1 at an ephemeral port, so one machine can run a
// full call out of the box. Its state lives under varDir (created 0700):
//   varDir/kms/             master.key (0600) + params.json: created once with initKmsDir, then
//                           always loaded with loadKmsDir — a corrupt or partial store is refused,
//                           never regenerated;
//   varDir/dev-users.json   the development users table {uri: psk-hex} (0600, atomic replace),
//                           so identities added over IPC survive a restart, and the uid
//                           allow-lists they were added with ({uri: [uid…]}), so a restricted
//                           identity does not come back open.
// The daemon fetches keys from it over HTTP exactly like a production endpoint.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { replaceFileAtomic } from '../util/atomic-file.js';
import { makeDirSync } from '../util/make-dir.js';
import { join } from 'node:path';
import type { Engine } from '../engine/types.js';
import type { IbeParams } from '../ibe/index.js';
import { initKmsDir, loadKmsDir, MASTER_FILE, PARAMS_FILE } from '../kms/master.js';
import { startKmsServer, type KmsServer } from '../kms/index.js';
import { PskStore } from '../kms/psk-store.js';
import { ConfigError } from './config.js';
import { parseUids } from './identity-access.js';

/** Connections and queued key extractions the embedded KMS takes from the daemon: its HTTP connection cap. */
const DEV_KMS_CONNECTIONS = 1024;

export const DEV_KMS_ID = 'sip:kms.localhost';
export const DEV_USERS_FILE = 'dev-users.json';
const PLACEHOLDER_USER = 'sip:placeholder@kms.localhost';

export interface DevKms {
  readonly url: string;
  readonly params: IbeParams;
  /** The PSK (hex) of a development user, if registered. */
  pskOf(uri: string): string | undefined;
  /** Every registered development user. */
  users(): string[];
  /** The uid allow-list a user was added with over IPC, if any. */
  uidsOf(uri: string): number[] | undefined;
  /**
   * Registers (or keeps) a user, a new one with its uid allow-list if given; returns its PSK
   * (hex). Persisted before it is returned.
   */
  addUser(uri: string, pskHex?: string, uids?: number[]): Promise<string>;
  /** Forgets a user (SIGHUP removed it from the configuration); persisted before it returns. */
  removeUser(uri: string): Promise<boolean>;
  close(): Promise<void>;
}

function ensurePrivateDir(dir: string): void {
  if (!existsSync(dir)) {
    makeDirSync(dir, 0o700, (m) => new ConfigError(m));
    chmodSync(dir, 0o700);
    return;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new ConfigError(`${dir} exists and is not a directory`);
  if ((st.mode & 0o077) !== 0) throw new ConfigError(`${dir} is accessible by group/others (mode ${(st.mode & 0o777).toString(8)}); chmod 700 it`);
}

interface UsersFile {
  users: Map<string, string>;
  uids: Map<string, number[]>;
}

async function readUsers(path: string): Promise<UsersFile> {
  const users = new Map<string, string>();
  const uids = new Map<string, number[]>();
  if (!existsSync(path)) return { users, uids };
  const st = lstatSync(path);
  if (!st.isFile() || (st.mode & 0o077) !== 0) throw new ConfigError(`${path} must be a regular file of mode 0600`);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new ConfigError(`${path} is corrupt (not JSON); refusing to start`);
  }
  const table = (raw as { version?: unknown; users?: unknown })?.users;
  if ((raw as { version?: unknown })?.version !== 1 || typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new ConfigError(`${path} is corrupt (expected {"version":1,"users":{uri: psk-hex}}); refusing to start`);
  }
  for (const [uri, psk] of Object.entries(table)) {
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s\0]+$/.test(uri) || typeof psk !== 'string' || !/^([0-9a-f]{2}){16,64}$/.test(psk)) {
      throw new ConfigError(`${path} is corrupt (bad entry); refusing to start`);
    }
    users.set(uri, psk);
  }
  // optional (files written before allow-lists have none): {uri: [uid…]} of listed users
  const lists = (raw as { uids?: unknown }).uids;
  if (lists !== undefined) {
    if (typeof lists !== 'object' || lists === null || Array.isArray(lists)) throw new ConfigError(`${path} is corrupt (uids must be {uri: [uid…]}); refusing to start`);
    for (const [uri, l] of Object.entries(lists)) {
      if (!users.has(uri)) throw new ConfigError(`${path} is corrupt (uids of an unknown user); refusing to start`);
      uids.set(uri, parseUids(l, `${path}: uids of ${uri.slice(0, 80)}`, (m) => new ConfigError(`${m} (corrupt); refusing to start`)));
    }
  }
  return { users, uids };
}

/** Atomic replace (temp file 0600, fsync, rename over the old file, fsync of the directory). */
async function writeUsers(path: string, { users, uids }: UsersFile): Promise<void> {
  const body = { version: 1, users: Object.fromEntries(users), ...(uids.size > 0 ? { uids: Object.fromEntries(uids) } : {}) };
  await replaceFileAtomic(path, new TextEncoder().encode(JSON.stringify(body, null, 1) + '\n'), 0o600);
}

/** Opens (or on first use creates) the development KMS store under varDir and serves it. */
export async function startDevKms(o: { varDir: string; engine: Engine; log: (line: string) => void; audit?: (event: Record<string, unknown>) => void }): Promise<DevKms> {
  ensurePrivateDir(o.varDir);
  const kmsDir = join(o.varDir, 'kms');
  const fresh = !existsSync(join(kmsDir, MASTER_FILE)) && !existsSync(join(kmsDir, PARAMS_FILE));
  if (fresh) {
    ensurePrivateDir(kmsDir);
    await initKmsDir(kmsDir, { suite: 'bls12381-bf', period: 'month', kmsId: DEV_KMS_ID, engine: o.engine });
    o.log(`development KMS store created in ${kmsDir}`);
  } else {
    ensurePrivateDir(kmsDir);
  }
  const { params, master } = await loadKmsDir(kmsDir, o.engine); // refuses a corrupt store
  const usersPath = join(o.varDir, DEV_USERS_FILE);
  const table = await readUsers(usersPath);
  const { users, uids } = table;
  // The KMS refuses an empty users table; a placeholder user whose random PSK is never stored
  // or shown keeps it non-empty before the first identity.add. The KMS serves this one store,
  // changed in place user by user (memory linear in the users).
  const store = PskStore.fromTable({ [PLACEHOLDER_USER]: randomBytes(32).toString('hex'), ...Object.fromEntries(users) });
  let kms: KmsServer;
  try {
    kms = await startKmsServer({
      master,
      params,
      users: store,
      host: '127.0.0.1',
      port: 0,
      engine: o.engine,
      // every local client shares 127.0.0.1: only the per-user limit applies
      rateLimit: { perAddress: false },
      // and its one client is this daemon, whose identity.add requests (up to maxInFlight at
      // once) each open a connection: the per-address cap of a public KMS (16) reset the rest,
      // and a burst of 60 concurrent adds failed a third of them with KMS_TRANSPORT ECONNRESET
      maxConnectionsPerAddress: DEV_KMS_CONNECTIONS,
      maxQueued: DEV_KMS_CONNECTIONS,
      // audit events carry identities and key ids (hashes), never keys
      log: (e) => (o.audit ? o.audit(e as unknown as Record<string, unknown>) : o.log(`kms ${JSON.stringify(e)}`)),
    });
  } catch (e) {
    store.destroy();
    throw e;
  } finally {
    master.fill(0);
  }
  // Group commit: changes made while a write runs go out together in the next one, so adding
  // n users costs far fewer than n whole-table writes.
  let writing: Promise<void> | undefined;
  let pending: Promise<void> | undefined;
  const persist = (): Promise<void> => {
    if (!writing) {
      writing = writeUsers(usersPath, table).finally(() => {
        writing = undefined;
      });
      return writing;
    }
    // one write after the running one carries every change made meanwhile
    pending ??= writing.catch(() => undefined).then(() => {
      pending = undefined;
      return persist();
    });
    return pending;
  };
  o.log(`development KMS on ${kms.url} (params fingerprint ${params.fingerprint})`);
  return {
    url: kms.url,
    params,
    pskOf: (uri) => users.get(uri),
    users: () => [...users.keys()],
    uidsOf: (uri) => uids.get(uri),
    async addUser(uri, pskHex, list) {
      const have = users.get(uri);
      if (have !== undefined && (pskHex === undefined || pskHex === have)) return have;
      const psk = pskHex ?? randomBytes(32).toString('hex');
      store.upsert(uri, psk); // validates first: a user the KMS refuses is never stored
      users.set(uri, psk);
      if (have === undefined && list) uids.set(uri, [...list]);
      try {
        await persist();
      } catch (e) {
        if (users.get(uri) === psk) {
          if (have === undefined) {
            users.delete(uri);
            uids.delete(uri);
            store.remove(uri);
          } else {
            users.set(uri, have);
            store.upsert(uri, have);
          }
        }
        throw e;
      }
      return psk;
    },
    async removeUser(uri) {
      if (!users.delete(uri)) return false;
      uids.delete(uri);
      await persist();
      store.remove(uri);
      return true;
    },
    async close() {
      await kms.close();
      store.destroy();
      users.clear();
      uids.clear();
    },
  };
}
