// Composition of a running ibaked (DESIGN §6): engine + power-on self-test, the KMS side
// (embedded development KMS, or a production KMS's pinned params), the local identities and
// their endpoints, the IPC server with every method, the session-expiry timer, metrics.
// startIbaked() either returns a fully running daemon or cleans up and throws; close() stops
// the server, the timer, every key renewer and the development KMS, and wipes all secrets.
import { readFileSync } from 'node:fs';
import type { Engine } from '../engine/types.js';
import type { IbeParams } from '../ibe/index.js';
import { loadParamsFile } from '../kms/master.js';
import { IbakedError } from '../util/errors.js';
import { ConfigError, readPskFile, type DaemonConfig } from './config.js';
import { startDevKms, type DevKms } from './dev-kms.js';
import { exchangeHandlers } from './exchange.js';
import { Identities, type LocalIdentity } from './identities.js';
import { prekeyMethods, type PrekeyMethods } from './prekey-methods.js';
import { requestPrivateKey } from '../kms/index.js';
import { buildHandlers } from './methods.js';
import { ExchangeMetrics } from './metrics.js';
import { startDaemon, DaemonError, type Handler, type RunningDaemon } from './server.js';
import { onlyFields, optionalPskParam, uriParam } from './validate.js';

export interface Ibaked {
  readonly socketPath: string;
  readonly mode: 'development' | 'production';
  readonly kmsUrl: string;
  readonly params: IbeParams;
  readonly engine: Engine;
  readonly identities: Identities;
  readonly metrics: ExchangeMetrics;
  close(): Promise<void>;
}

const hexToBytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

export async function startIbaked(cfg: DaemonConfig, log: (line: string) => void = () => {}): Promise<Ibaked> {
  const built = await buildHandlers({ ...(cfg.engine ? { engine: cfg.engine } : {}), log });
  const engine = built.engine;
  log(`engine ${built.engineInfo.name} (${built.engineInfo.reason})`);
  if (!cfg.skipSelftest) {
    const st = await built.selftest();
    if (st.failed > 0) throw new DaemonError('SELFTEST_FAILED', `self-test FAILED (${st.failed} of ${st.passed + st.failed} checks); refusing to start`);
    log(`self-test passed (${st.passed} checks)`);
  }

  let dev: DevKms | undefined;
  let identities: Identities | undefined;
  let server: RunningDaemon | undefined;
  let timer: NodeJS.Timeout | undefined;
  let prekeys: PrekeyMethods | undefined;
  const cleanup = async () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    await server?.close();
    prekeys?.close();
    identities?.close();
    await dev?.close();
  };

  try {
    let params: IbeParams;
    let kmsUrl: string;
    let ca: string | undefined;
    if (cfg.kms) {
      params = await loadParamsFile(cfg.kms.params, engine);
      kmsUrl = cfg.kms.url;
      if (cfg.kms.ca) {
        try {
          ca = readFileSync(cfg.kms.ca, 'utf8');
        } catch (e) {
          throw new ConfigError(`cannot read ${cfg.kms.ca}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      log(`production mode: KMS ${kmsUrl} (params fingerprint ${params.fingerprint})`);
    } else {
      dev = await startDevKms({ varDir: cfg.varDir, engine, log });
      params = dev.params;
      kmsUrl = dev.url;
      log('development mode (embedded KMS): not for production use');
    }
    const ids = new Identities({
      engine, params, kmsUrl, ...(ca ? { ca } : {}), ...(cfg.profile ? { profile: cfg.profile } : {}),
      handshakeTimeoutMs: cfg.handshakeTimeoutMs, establishedLifetimeMs: cfg.establishedLifetimeMs,
      maxSessions: cfg.maxSessions, maxHalfOpenPerPeer: cfg.maxHalfOpenPerPeer, log,
    });
    identities = ids;

    /** Registers one identity: production needs its PSK; development provisions it in the embedded KMS. */
    const addIdentity = async (uri: string, pskHex: string | undefined, pskName?: string) => {
      if (ids.has(uri)) return { identity: ids.get(uri), added: false };
      if (dev) pskHex = await dev.addUser(uri, pskHex);
      else if (pskHex === undefined) throw new DaemonError('BAD_PARAMS', `identity ${uri}: a psk is required (production mode)`);
      const psk = hexToBytes(pskHex);
      try {
        return await ids.add(uri, psk, pskName);
      } finally {
        psk.fill(0);
      }
    };
    for (const id of cfg.identities) await addIdentity(id.uri, id.psk ?? (id.pskFile ? readPskFile(id.pskFile) : undefined), id.pskName);
    if (dev) for (const uri of dev.users()) if (!ids.has(uri)) await addIdentity(uri, undefined);

    // Deferred delivery v2 (prekey-methods.ts): a local identity's signing key comes from the
    // KMS with the identity's own PSK, in one REQUEST_KEY exchange, pairing-checked.
    prekeys = prekeyMethods({
      engine, params, stateDir: cfg.varDir, isLocal: (uri) => ids.has(uri),
      fetchSigningKey: async (uri, atMs) => {
        const { psk } = ids.get(uri) as LocalIdentity & { psk: Uint8Array };
        const k = await requestPrivateKey({ url: kmsUrl, identity: uri, psk, params, engine, date: atMs, signing: true, ...(ca ? { ca } : {}) });
        k.key.fill(0);
        return { period: k.period, key: k.signingKey! };
      },
    });
    const metrics = new ExchangeMetrics();
    const handlers: Record<string, Handler> = {
      ...built.handlers,
      info: async () => ({
        ...((await built.handlers.info!({})) as object),
        mode: dev ? 'development' : 'production',
        kmsUrl,
        kmsId: params.kmsId,
        paramsFingerprint: params.fingerprint,
        period: params.period,
        identities: ids.list().length,
      }),
      'identity.add': async (p) => {
        onlyFields(p, ['uri', 'psk']);
        const uri = uriParam(p, 'uri');
        const psk = optionalPskParam(p, 'psk');
        const r = await addIdentity(uri, psk);
        if (r.added) log(`identity ${uri} added`);
        return { uri, added: r.added, periods: [...r.identity.periods].sort() };
      },
      'identity.list': async (p) => {
        onlyFields(p, []);
        return { identities: ids.list() };
      },
      ...exchangeHandlers({ identities: ids, metrics, log }),
      ...prekeys.handlers,
      metrics: async (p) => {
        onlyFields(p, []);
        const s = server!.stats;
        return {
          requests: s.requests,
          errors: s.errors,
          overloaded: s.overloaded,
          inFlight: s.inFlight,
          connections: s.connections,
          identities: ids.list().length,
          exchanges: metrics.snapshot(),
        };
      },
    };
    server = await startDaemon({ socketPath: cfg.socket, handlers, maxInFlight: cfg.maxInFlight, log });
    timer = setInterval(() => {
      const n = ids.expire();
      if (n > 0) {
        metrics.expired += n;
        log(`expired ${n} exchange state(s)`);
      }
    }, cfg.expireIntervalMs);
    timer.unref();
    let closing: Promise<void> | undefined;
    const running = server;
    return {
      socketPath: running.socketPath,
      mode: dev ? 'development' : 'production',
      kmsUrl,
      params,
      engine,
      identities: ids,
      metrics,
      close: () => (closing ??= cleanup().then(() => log('stopped'))),
    };
  } catch (e) {
    await cleanup().catch(() => {});
    if (!(e instanceof IbakedError)) throw new DaemonError('START_FAILED', `cannot start: ${(e as Error)?.message ?? String(e)}`);
    throw e;
  }
}
