// startKmsServer: the KMS as an HTTP(S) service (DESIGN §3 OPEN-19). Composes the
// application/mikey carriage (http-server.ts), a per-source-address token bucket applied before
// the body is read, and the key-request service (service.ts). Validates the master secret
// against the public parameters before listening; close() stops listening, drops connections
// and zeroes the master copy (and the PSKs, when it loaded them itself).
import { createPublicKey } from 'node:crypto';
import type { Engine } from '../engine/types.js';
import { checkMaster, type IbeParams } from '../ibe/index.js';
import { KmsError } from './errors.js';
import { startMikeyHttpServer } from './http-server.js';
import { stderrLogger, type KmsLogger } from './issuance-log.js';
import { encodeErrorMessage, Err } from './messages.js';
import { msToNtp64 } from './ntp.js';
import { rsaPrivateKey } from './pke.js';
import { PskStore, type UsersTable } from './psk-store.js';
import { TokenBucketLimiter, type RateLimitOptions } from './rate-limit.js';
import { KmsService } from './service.js';

export interface KmsRateLimits {
  /** Per client address, checked before the body is read (default burst 30, 5/s). */
  perAddress?: Partial<Omit<RateLimitOptions, 'now'>> | false;
  /** Per authenticated user (PSK name) (default burst 10, 0.2/s). */
  perUser?: Partial<Omit<RateLimitOptions, 'now'>> | false;
}

export interface KmsServerOptions {
  /** Master secret (bls12381-bf: 32-octet scalar). Copied; the caller may zero its buffer. */
  master: Uint8Array;
  params: IbeParams;
  /** Users: a PskStore, a table {uri: psk-hex | {psk, identities}}, or the path of such a JSON file. */
  users: PskStore | UsersTable | string;
  host?: string;
  /** 0 = ephemeral (default). */
  port?: number;
  tls?: { cert: string | Uint8Array; key: string | Uint8Array };
  /** Rate limits; false disables both. */
  rateLimit?: KmsRateLimits | false;
  /** Audit sink (default: JSON lines on stderr). */
  log?: KmsLogger;
  engine?: Engine;
  /** Allowed clock skew for T, ms (default 5 min). */
  skewMs?: number;
  maxBodyBytes?: number;
  /** Open connections per client address (default 16) and idle socket timeout (ms, default 15 s). */
  maxConnectionsPerAddress?: number;
  idleTimeoutMs?: number;
  /** KEMAC Encr alg of responses (default 1 = AES-CM-128). */
  encrAlg?: number;
  /** Key extractions running at once (default 2) and waiting (default 64); beyond that 503. */
  maxConcurrent?: number;
  maxQueued?: number;
  /** Enables REQUEST_KEY_PKE: the KMS's RSA private key (PEM, 2048..8192 bits). */
  pke?: { key: string | Uint8Array };
  /** Clock (ms), for tests. */
  now?: () => number;
}

export interface KmsServer {
  /** POST endpoint, e.g. http://127.0.0.1:40123/mikey */
  readonly url: string;
  readonly port: number;
  readonly kmsId: string;
  /** PEM (SPKI) of the KMS's envelope key when REQUEST_KEY_PKE is enabled: give it to users. */
  readonly pkePublicKey?: string;
  /**
   * Replaces the users table (e.g. on SIGHUP). A table or file loaded here is owned (and zeroed)
   * by the server; the previous table is zeroed if the server owned it. Resolves to the user count.
   */
  setUsers(users: PskStore | UsersTable | string): Promise<number>;
  close(): Promise<void>;
}

export async function startKmsServer(opts: KmsServerOptions): Promise<KmsServer> {
  if (!opts || !(opts.master instanceof Uint8Array)) throw new KmsError('KMS_CONFIG', 'master must be a Uint8Array');
  if (!opts.params || typeof opts.params !== 'object' || !('fingerprint' in opts.params)) throw new KmsError('KMS_CONFIG', 'params must be parsed KMS public parameters (IbeParams)');
  try {
    await checkMaster(opts.master, opts.params, opts.engine);
  } catch (e) {
    throw new KmsError('KMS_CONFIG', `master secret rejected: ${(e as Error).message}`);
  }
  let users: PskStore;
  let ownUsers = false;
  if (opts.users instanceof PskStore) users = opts.users;
  else {
    users = typeof opts.users === 'string' ? await PskStore.fromFile(opts.users) : PskStore.fromTable(opts.users);
    ownUsers = true;
  }
  const pkeKey = opts.pke ? rsaPrivateKey(opts.pke.key, 'KMS PKE key') : undefined;
  const log = opts.log ?? stderrLogger;
  const now = opts.now ?? Date.now;
  const limits = opts.rateLimit === false ? { perAddress: false as const, perUser: false as const } : (opts.rateLimit ?? {});
  const service = new KmsService({
    master: opts.master,
    params: opts.params,
    users,
    log,
    now,
    ...(opts.engine ? { engine: opts.engine } : {}),
    ...(opts.skewMs !== undefined ? { skewMs: opts.skewMs } : {}),
    ...(opts.encrAlg !== undefined ? { encrAlg: opts.encrAlg } : {}),
    ...(pkeKey ? { pkeKey } : {}),
    ...(opts.maxConcurrent !== undefined ? { maxConcurrent: opts.maxConcurrent } : {}),
    ...(opts.maxQueued !== undefined ? { maxQueued: opts.maxQueued } : {}),
    perUser: limits.perUser ?? {},
  });
  const perAddress = limits.perAddress === false ? undefined : new TokenBucketLimiter({ burst: 30, perSecond: 5, ...limits.perAddress, now });
  let http;
  try {
    http = await startMikeyHttpServer({
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      port: opts.port ?? 0,
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
      ...(opts.maxConnectionsPerAddress !== undefined ? { maxConnectionsPerAddress: opts.maxConnectionsPerAddress } : {}),
      ...(opts.idleTimeoutMs !== undefined ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
      admit: perAddress
        ? (client) => {
            const r = perAddress.take(client);
            if (r.ok) return undefined;
            log({ event: 'reject', time: new Date(now()).toISOString(), client, reason: 'KMS_RATE_LIMITED', status: 429 });
            return { status: 429, body: encodeErrorMessage(Err.UNSPECIFIED, msToNtp64(now())), headers: { 'Retry-After': String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))) } };
          }
        : undefined,
      handle: ({ body, client }) => service.handle(body, client),
    });
  } catch (e) {
    service.close();
    if (ownUsers) users.destroy();
    throw new KmsError('KMS_CONFIG', `cannot listen: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    log({ event: 'listening', time: new Date(now()).toISOString(), url: http.url });
  } catch (e) {
    // The audit sink is broken before the first request: do not serve without it.
    await http.close();
    service.close();
    if (ownUsers) users.destroy();
    throw new KmsError('KMS_CONFIG', `audit log: ${(e as Error).message}`);
  }
  let closed: Promise<void> | undefined;
  const retired = new Map<PskStore, NodeJS.Timeout>();
  return {
    url: http.url,
    port: http.port,
    kmsId: opts.params.kmsId,
    ...(pkeKey ? { pkePublicKey: createPublicKey(pkeKey).export({ type: 'spki', format: 'pem' }).toString() } : {}),
    async setUsers(next) {
      const store = next instanceof PskStore ? next : typeof next === 'string' ? await PskStore.fromFile(next) : PskStore.fromTable(next);
      const old = users;
      const oldOwned = ownUsers;
      users = store;
      ownUsers = !(next instanceof PskStore);
      service.setUsers(store);
      // let requests in flight finish with the old entries before zeroing them (or at close())
      if (oldOwned && old !== store) {
        const t = setTimeout(() => {
          retired.delete(old);
          old.destroy();
        }, 30_000);
        t.unref();
        retired.set(old, t);
      }
      log({ event: 'users', time: new Date(now()).toISOString(), url: http.url, count: store.size });
      return store.size;
    },
    close() {
      closed ??= (async () => {
        await http.close();
        service.close();
        if (ownUsers) users.destroy();
        for (const [old, t] of retired) {
          clearTimeout(t);
          old.destroy();
        }
        retired.clear();
        log({ event: 'closed', time: new Date(now()).toISOString(), url: http.url });
      })();
      return closed;
    },
  };
}
