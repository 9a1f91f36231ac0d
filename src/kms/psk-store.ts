// Per-user credentials of the KMS: pre-shared keys (REQUEST_KEY_PSK) and, optionally, pinned
// RSA signature public keys (REQUEST_KEY_PKE). The operator provisions them out of band and
// lists them in a JSON users file:
//   { "sip:alice@example.org": "<psk hex>",
//     "sip:shared@example.org": { "psk": "<hex>", "identities": ["sip:desk@…"] },
//     "sip:bob@example.org": { "sign": "<PEM public key or certificate>" } }
// The key of each entry names the credential (IDRpsk carries it; by default it is the user's
// own identity); `identities` lists further identities it may request keys for (forking devices
// sharing a common identity). PSK bytes never leave this module except to the MAC/KEMAC key
// derivation, and are zeroed by destroy().
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { requireNotOthersWritable } from './file-modes.js';
import { inspect } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { KmsError } from './errors.js';
import { publicKeyOf, requireRsa } from './pke.js';

/** Minimum PSK length: 128 bits (RFC 3830 keys below that are not accepted). */
export const MIN_PSK_OCTETS = 16;
export const MAX_PSK_OCTETS = 64;
/** Longest identity URI accepted (octets of UTF-8). */
export const MAX_IDENTITY_OCTETS = 1024;
/** Users-file size cap: refuses to parse absurd files. */
const MAX_USERS_FILE_BYTES = 8 * 1024 * 1024;

export type UsersTable = Record<string, string | { psk?: string; sign?: string; identities?: string[] }>;

export interface PskEntry {
  /** Name of the PSK (the users-file key). */
  readonly name: string;
  /** Identities this PSK may request keys for (always includes `name`). */
  readonly identities: ReadonlySet<string>;
  /** The PSK, if the user has one. Do not log; do not keep copies. */
  readonly psk?: Uint8Array;
  /** Pinned RSA public key for REQUEST_KEY_PKE signatures, if the user has one. */
  readonly signKey?: KeyObject;
}

/** Checks an identity string: non-empty, bounded, scheme:rest, no control characters. */
export function checkIdentity(id: unknown, what = 'identity'): string {
  if (typeof id !== 'string' || id.length === 0) throw new KmsError('KMS_CONFIG', `${what} must be a non-empty string`);
  if (Buffer.byteLength(id, 'utf8') > MAX_IDENTITY_OCTETS) throw new KmsError('KMS_CONFIG', `${what} longer than ${MAX_IDENTITY_OCTETS} octets`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) throw new KmsError('KMS_CONFIG', `${what} contains control characters`);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:./.test(id)) throw new KmsError('KMS_CONFIG', `${what} is not a URI (scheme:...)`);
  return id;
}

function parsePskHex(hex: unknown, name: string): Uint8Array {
  if (typeof hex !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(hex)) {
    throw new KmsError('KMS_CONFIG', `PSK of ${JSON.stringify(name)} is not a hex string`);
  }
  const n = hex.length / 2;
  if (n < MIN_PSK_OCTETS || n > MAX_PSK_OCTETS) {
    throw new KmsError('KMS_CONFIG', `PSK of ${JSON.stringify(name)} must be ${MIN_PSK_OCTETS}..${MAX_PSK_OCTETS} octets, got ${n}`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export class PskStore {
  readonly #entries = new Map<string, PskEntry>();

  private constructor() {}

  /** Builds a store from a users table (validated entry by entry). */
  static fromTable(table: UsersTable): PskStore {
    if (table === null || typeof table !== 'object' || Array.isArray(table)) {
      throw new KmsError('KMS_CONFIG', 'users table must be a JSON object {uri: psk-hex}');
    }
    const store = new PskStore();
    try {
      for (const [name, value] of Object.entries(table)) {
        checkIdentity(name, 'users-file key');
        let hex: unknown;
        let signPem: unknown;
        const ids = new Set<string>([name]);
        if (typeof value === 'string') {
          hex = value;
        } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          const extra = Object.keys(value).filter((k) => k !== 'psk' && k !== 'sign' && k !== 'identities');
          if (extra.length > 0) throw new KmsError('KMS_CONFIG', `entry ${JSON.stringify(name)}: unknown field ${JSON.stringify(extra[0])}`);
          hex = value.psk;
          signPem = value.sign;
          if (hex === undefined && signPem === undefined) throw new KmsError('KMS_CONFIG', `entry ${JSON.stringify(name)} needs a psk or a sign key`);
          if (value.identities !== undefined) {
            if (!Array.isArray(value.identities)) throw new KmsError('KMS_CONFIG', `entry ${JSON.stringify(name)}: identities must be an array`);
            for (const id of value.identities) ids.add(checkIdentity(id, `identity of ${JSON.stringify(name)}`));
          }
        } else {
          throw new KmsError('KMS_CONFIG', `entry ${JSON.stringify(name)} must be a hex string or {psk, sign, identities}`);
        }
        let signKey: KeyObject | undefined;
        if (signPem !== undefined) {
          if (typeof signPem !== 'string') throw new KmsError('KMS_CONFIG', `entry ${JSON.stringify(name)}: sign must be a PEM string`);
          signKey = publicKeyOf(signPem, `sign key of ${JSON.stringify(name)}`);
          requireRsa(signKey, `sign key of ${JSON.stringify(name)}`);
        }
        store.#entries.set(
          name,
          Object.freeze({ name, identities: ids, ...(hex !== undefined ? { psk: parsePskHex(hex, name) } : {}), ...(signKey ? { signKey } : {}) }),
        );
      }
    } catch (e) {
      store.destroy();
      throw e;
    }
    if (store.#entries.size === 0) throw new KmsError('KMS_CONFIG', 'users table is empty');
    return store;
  }

  /** Loads a users file. Refuses files that other users can read or write. */
  static async fromFile(path: string): Promise<PskStore> {
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      throw new KmsError('KMS_CONFIG', `cannot read users file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (!st.isFile()) throw new KmsError('KMS_CONFIG', `users file ${path} is not a regular file`);
    // 0600 or 0400 only: group-writable would let a group member grant itself identities.
    const mode = st.mode & 0o777;
    if (mode !== 0o600 && mode !== 0o400) throw new KmsError('KMS_CONFIG', `users file ${path} is accessible to other users (mode ${mode.toString(8)}; must be 600 or 400): chmod 600 it`);
    await requireNotOthersWritable(dirname(path), 'users file directory');
    if (st.size > MAX_USERS_FILE_BYTES) throw new KmsError('KMS_CONFIG', `users file ${path} is too large`);
    const raw = await readFile(path);
    let table: unknown;
    try {
      table = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new KmsError('KMS_CONFIG', `users file ${path} is not valid JSON`);
    } finally {
      raw.fill(0);
    }
    return PskStore.fromTable(table as UsersTable);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entry named `name`, if any. */
  lookup(name: string): PskEntry | undefined {
    return this.#entries.get(name);
  }

  /**
   * Adds or replaces one plain PSK user in place (the development KMS registers identities one
   * at a time: rebuilding the whole store per user made memory grow with the square of the
   * users). The replaced entry's PSK is zeroed.
   */
  upsert(name: string, pskHex: string): void {
    checkIdentity(name, 'user');
    const psk = parsePskHex(pskHex, name);
    this.#entries.get(name)?.psk?.fill(0);
    this.#entries.set(name, Object.freeze({ name, identities: new Set([name]), psk }));
  }

  /** Removes one user (its PSK zeroed); true if it was there. */
  remove(name: string): boolean {
    const e = this.#entries.get(name);
    e?.psk?.fill(0);
    return this.#entries.delete(name);
  }

  /** Zeroes every PSK; the store is empty afterwards. */
  destroy(): void {
    for (const e of this.#entries.values()) e.psk?.fill(0);
    this.#entries.clear();
  }

  toJSON(): string {
    return `[PskStore: ${this.#entries.size} users]`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}
