// Composition of a running ibaked (DESIGN §6): engine + power-on self-test, the KMS side
// (embedded development KMS, or a production KMS's pinned params), the exchange shards (in
// process, or one worker thread per core: shards.ts, shard-pool.ts), the local identities whose
// keys feed them, the IPC server with every method, the session-expiry timer, metrics.
// startIbaked() either returns a fully running daemon or cleans up and throws; close() stops
// the server, the timer, every key renewer, the shards and the development KMS, and wipes all secrets.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Engine, EngineName } from '../engine/types.js';
import type { IbeParams } from '../ibe/index.js';
import { loadParamsFile } from '../kms/master.js';
import { IbakedError } from '../util/errors.js';
import { ConfigError, defaultWorkers, readPskFile, type DaemonConfig } from './config.js';
import { startDevKms, type DevKms } from './dev-kms.js';
import { EXCHANGE_METHODS } from './exchange.js';
import { Identities, IdentityError } from './identities.js';
import { buildHandlers } from './methods.js';
import { parPolicy } from './par-policy.js';
import { startDaemon, DaemonError, type Handler, type RunningDaemon } from './server.js';
import { startShardPool } from './shard-pool.js';
import { inProcessShards, type Shards } from './shards.js';
import { onlyFields, optionalPskParam, uriParam } from './validate.js';

export interface Ibaked {
  readonly socketPath: string;
  readonly mode: 'development' | 'production';
  readonly kmsUrl: string;
  readonly params: IbeParams;
  readonly engine: Engine;
  readonly identities: Identities;
  /** Where exchanges run: 1 shard in process (workers = 0) or one per worker thread. */
  readonly shards: Shards;
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
  let shards: Shards | undefined;
  let server: RunningDaemon | undefined;
  let timer: NodeJS.Timeout | undefined;
  const cleanup = async () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    await server?.close();
    identities?.close();
    await shards?.close();
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
    if (params.suite.suite !== 'bls12381-bf') throw new IdentityError('CONFIG', `KMS suite ${params.suite.suite} is not supported by the daemon (bls12381-bf only)`);
    const shardOpts = {
      Ppub: (params.suite as { Ppub: Uint8Array }).Ppub,
      period: params.period,
      ...(cfg.profile ? { profile: cfg.profile } : {}),
      handshakeTimeoutMs: cfg.handshakeTimeoutMs,
      establishedLifetimeMs: cfg.establishedLifetimeMs,
    };
    const workers = cfg.workers ?? defaultWorkers();
    const sh = workers > 0
      ? await startShardPool({ ...shardOpts, engine: engine.name as EngineName, workers, log })
      : inProcessShards({ ...shardOpts, engine, log });
    shards = sh;
    log(workers > 0 ? `exchanges on ${workers} worker thread(s)` : 'exchanges on the main thread (workers = 0)');
    const ids = new Identities({ engine, params, kmsUrl, ...(ca ? { ca } : {}), keys: sh, log });
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

    const par = parPolicy(engine, availableParallelism());
    const exchange = Object.fromEntries(EXCHANGE_METHODS.map((m) => [m, (p: Record<string, unknown>) => par.track(() => sh.handle(m, p))])) as Record<string, Handler>;
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
      ...exchange,
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
          workers,
          exchanges: await sh.metrics(),
        };
      },
    };
    server = await startDaemon({ socketPath: cfg.socket, handlers, maxInFlight: cfg.maxInFlight, log });
    timer = setInterval(() => {
      ids.dropEnded();
      sh.expire().then(
        (n) => {
          if (n > 0) log(`expired ${n} exchange state(s)`);
        },
        (e) => log(`expiry failed: ${(e as Error)?.message}`),
      );
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
      shards: sh,
      close: () => (closing ??= cleanup().then(() => log('stopped'))),
    };
  } catch (e) {
    await cleanup().catch(() => {});
    if (!(e instanceof IbakedError)) throw new DaemonError('START_FAILED', `cannot start: ${(e as Error)?.message ?? String(e)}`);
    throw e;
  }
}
