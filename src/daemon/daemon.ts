// Composition of a running ibaked (DESIGN §6): engine + power-on self-test, the KMS side
// (embedded development KMS, or a production KMS's pinned params), the exchange shards (in
// process, or one worker thread per core: shards.ts, shard-pool.ts) holding the endpoints, the
// local identities whose keys feed them, the IPC server (server.ts) with every method behind the
// per-identity uid allow-lists (identity-access.ts) and the exchange-ownership guard
// (ownership.ts), the session-expiry timer, metrics (and their optional HTTP listener).
// startIbaked() either returns a fully running daemon or cleans up and throws. reload() applies
// a new configuration (SIGHUP) without dropping exchanges; shutdown() drains for a bounded
// time; close() stops everything and wipes all secrets.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import type { Engine, EngineName } from '../engine/types.js';
import type { IbeParams } from '../ibe/index.js';
import { loadParamsFile } from '../kms/master.js';
import { IbakedError } from '../util/errors.js';
import { readFileBounded } from '../util/read-bounded.js';

/** Largest kms.ca PEM file read. */
const MAX_PEM_FILE = 1 << 20;
import { ConfigError, DEFAULTS, defaultWorkers, parseListen, readPskFile, type DaemonConfig, type IdentityConfig } from './config.js';
import { startDevKms, type DevKms } from './dev-kms.js';
import { EXCHANGE_METHODS } from './exchange.js';
import { Identities, IdentityError, type LocalIdentity } from './identities.js';
import { MAILBOX_FILE, PREKEY_STORE_FILE, prekeyMethods, PREKEY_METHODS, type PrekeyMethods } from './prekey-methods.js';
import { deferredMethods, DEFERRED_METHODS } from './deferred-methods.js';
import { requestPrivateKey } from '../kms/index.js';
import { createLogger, silentLogger, type Logger } from './log.js';
import { buildHandlers } from './methods.js';
import { DaemonMetrics } from './metrics.js';
import { startMetricsServer } from './metrics-http.js';
import { ExchangeOwners } from './ownership.js';
import { IdentityAccess, parseUids, sameUids } from './identity-access.js';
import { parPolicy } from './par-policy.js';
import { peerCredStatus } from './peercred.js';
import { routerSchedStatus, setThreadBatch, yieldThread } from './router-sched.js';
import { startDaemon, DaemonError, type Handler, type RunningDaemon } from './server.js';
import { startShardPool, type ShardPool } from './shard-pool.js';
import { inProcessShards, withMailboxShard, type Shards } from './shards.js';
import { onlyFields, optionalPskParam, uriParam } from './validate.js';
import { ParamError } from './methods.js';

/** The configuration startIbaked needs; keys added later fall back to DEFAULTS (workers: defaultWorkers()). */
export type StartConfig = Omit<DaemonConfig, keyof typeof DEFAULTS | 'workers'> & Partial<DaemonConfig>;

export interface ReloadReport {
  added: string[];
  removed: string[];
  /** Keys that changed but need a restart (socket, engine, kms, varDir, …): ignored. */
  ignored: string[];
}

export interface Ibaked {
  readonly socketPath: string;
  readonly mode: 'development' | 'production';
  readonly kmsUrl: string;
  readonly params: IbeParams;
  readonly engine: Engine;
  readonly identities: Identities;
  /** Where exchanges run: 1 shard in process (workers = 0) or one per worker thread. */
  readonly shards: Shards;
  readonly metrics: DaemonMetrics;
  readonly owners: ExchangeOwners;
  /** The uid allow-lists of restricted identities. */
  readonly access: IdentityAccess;
  readonly server: RunningDaemon;
  /** The Prometheus listener's URL when metricsListen is set. */
  readonly metricsUrl?: string;
  readonly logger: Logger;
  reload(next: StartConfig): Promise<ReloadReport>;
  /** Stops accepting, lets in-flight requests finish (at most drainTimeoutMs), then close(). */
  shutdown(): Promise<{ drained: boolean }>;
  close(): Promise<void>;
}

const hexToBytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const RESTART_KEYS = ['socket', 'engine', 'workers', 'inlineWhenAlone', 'varDir', 'kms', 'profile', 'handshakeTimeoutMs', 'establishedLifetimeMs', 'maxSessions', 'maxHalfOpenPerPeer', 'skipSelftest', 'logFormat', 'metricsListen', 'deferred'] as const;

/** Accepts a pino logger, or (tests, embedding) a function given each JSON log line; none = silent. */
function toLogger(cfg: DaemonConfig, log?: Logger | ((line: string) => void)): Logger {
  if (typeof log === 'function') return createLogger({ level: cfg.logLevel, format: cfg.logFormat, sink: { write: (s: string) => log(s.trimEnd()) } });
  return log ?? silentLogger();
}

export async function startIbaked(start: StartConfig, logArg?: Logger | ((line: string) => void)): Promise<Ibaked> {
  let cfg: DaemonConfig = { ...DEFAULTS, ...start } as DaemonConfig;
  const logger = toLogger(cfg, logArg);
  const log = (line: string) => logger.info(line);
  const debug = (line: string) => logger.debug(line);
  const debugEnabled = () => logger.isLevelEnabled('debug');
  const built = await buildHandlers({ ...(cfg.engine ? { engine: cfg.engine } : {}), log });
  const engine = built.engine;
  logger.info({ engine: built.engineInfo.name }, `engine ${built.engineInfo.name} (${built.engineInfo.reason})`);
  if (!cfg.skipSelftest) {
    const st = await built.selftest();
    if (st.failed > 0) throw new DaemonError('SELFTEST_FAILED', `self-test FAILED (${st.failed} of ${st.passed + st.failed} checks); refusing to start`);
    log(`self-test passed (${st.passed} checks)`);
  }
  const cred = peerCredStatus();
  if (!cred.available) logger.warn({ code: 'NO_PEERCRED' }, `peer credentials unavailable (${cred.reason}): exchanges belong to their connection only, and identities with a uids allow-list refuse every client`);

  const sched = routerSchedStatus();
  if (!sched.available) logger.debug(`the router thread keeps its scheduling policy under load (${sched.reason})`);
  /** Whether this thread runs as SCHED_BATCH now (the par policy saw twice the cores in flight). */
  let routerBatched = false;
  const onSaturated = (saturated: boolean) => {
    if (setThreadBatch(saturated)) routerBatched = saturated;
  };

  let dev: DevKms | undefined;
  let identities: Identities | undefined;
  let shards: Shards | undefined;
  let server: RunningDaemon | undefined;
  let metricsHttp: { url: string; close(): Promise<void> } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let prekeys: PrekeyMethods | undefined;
  const cleanup = async () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    await server?.close();
    prekeys?.close();
    await metricsHttp?.close();
    identities?.close();
    await shards?.close();
    await dev?.close();
    if (routerBatched) onSaturated(false); // the thread is the caller's again (tests start daemons in process)
  };

  try {
    let params: IbeParams;
    let kmsUrl: string;
    let ca: string | undefined;
    if (cfg.kms) {
      try {
        params = await loadParamsFile(cfg.kms.params, engine);
      } catch (e) {
        // a bad pinned params.json is a configuration problem of the KMS side
        throw new DaemonError('KMS_CONFIG', `KMS parameters ${cfg.kms.params} rejected: ${(e as Error).message}`);
      }
      kmsUrl = cfg.kms.url;
      if (cfg.kms.ca) {
        try {
          ca = readFileBounded(cfg.kms.ca, MAX_PEM_FILE).toString('utf8');
        } catch (e) {
          throw new ConfigError(`cannot read ${cfg.kms.ca}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      log(`production mode: KMS ${kmsUrl} (params fingerprint ${params.fingerprint})`);
    } else {
      // the embedded KMS's audit events become structured records ({kms: event})
      dev = await startDevKms({ varDir: cfg.varDir, engine, log, audit: (e) => logger.info({ kms: e }, `kms ${String(e.event)}`) });
      params = dev.params;
      kmsUrl = dev.url;
      logger.warn('development mode (embedded KMS): not for production use');
    }
    if (params.suite.suite !== 'bls12381-bf') throw new IdentityError('CONFIG', `KMS suite ${params.suite.suite} is not supported by the daemon (bls12381-bf only)`);
    const metrics = new DaemonMetrics([...Object.keys(built.handlers), 'identity.add', 'identity.list', ...EXCHANGE_METHODS, ...PREKEY_METHODS, ...DEFERRED_METHODS, 'metrics']);
    const shardOpts = {
      Ppub: (params.suite as { Ppub: Uint8Array }).Ppub,
      period: params.period,
      ...(cfg.profile ? { profile: cfg.profile } : {}),
      handshakeTimeoutMs: cfg.handshakeTimeoutMs,
      establishedLifetimeMs: cfg.establishedLifetimeMs,
      maxSessions: cfg.maxSessions,
      maxHalfOpenPerPeer: cfg.maxHalfOpenPerPeer,
      ...(cfg.deferred ? { deferred: cfg.deferred } : {}),
      metrics,
    };
    // Deferred delivery (prekey-methods.ts): the prekey store and the mailbox prekey table are
    // main-thread state. Mailbox-mode identities (set before their first key arrives) therefore
    // have their exchanges on a main-thread shard whatever `workers` says (withMailboxShard).
    const mailboxUris = new Set<string>();
    const mailboxHook = { is: (uri: string) => mailboxUris.has(uri), prekeys: () => prekeys!.mailbox() };
    const workers = cfg.workers ?? defaultWorkers();
    const pool = workers > 0
      ? await startShardPool({
          ...shardOpts,
          engine: engine.name as EngineName,
          workers,
          // Workers log straight to stderr when the daemon's logger does (the binary), else through it.
          logTo: logArg !== undefined && typeof logArg !== 'function' ? { level: cfg.logLevel, format: cfg.logFormat } : logArg === undefined ? { level: 'silent', format: cfg.logFormat } : 'forward',
          log,
          debug,
        })
      : undefined;
    // The main-thread shard has an engine handle of its own (native, as each worker has): its
    // operations run inline while one exchange request is in flight (par-policy.ts), and that
    // switch must not reach what else the main thread runs on `engine` (identity keys,
    // prekeys, deferred delivery, selftest), some of it many operations long.
    const shardEngine = engine.name === 'native' && cfg.inlineWhenAlone ? await (await import('../engine/native/index.js')).loadNativeEngine() : engine;
    const sh = pool
      ? withMailboxShard(pool, inProcessShards({ ...shardOpts, engine: shardEngine, log, debug, debugEnabled, mailbox: mailboxHook }), mailboxHook.is)
      : inProcessShards({ ...shardOpts, engine: shardEngine, log, debug, debugEnabled, mailbox: mailboxHook });
    shards = sh;
    logger.info({ workers }, workers > 0 ? `exchanges on ${workers} worker thread(s)` : 'exchanges on the main thread (workers = 0)');
    const ids = new Identities({ engine, params, kmsUrl, ...(ca ? { ca } : {}), keys: sh, log });
    identities = ids;
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
    // State files left by an earlier run are read now: a corrupt or loose-mode one stops the start
    // (never a daemon that runs and fails every deferred request later; never regenerated).
    if (existsSync(join(cfg.varDir, PREKEY_STORE_FILE))) prekeys.store();
    if (existsSync(join(cfg.varDir, MAILBOX_FILE))) prekeys.mailbox();

    /** Registers one identity: production needs its PSK; development provisions it in the embedded KMS. */
    let adding = 0; // adds in progress, so concurrent identity.add calls cannot overshoot the cap
    const modeOfAdding = new Map<string, boolean>(); // URIs being added → mailbox mode asked first
    // uid allow-lists (identity-access.ts): the configuration's are set (also on reload) before
    // the identity is registered, so it is never open in between; over IPC an allow-list is
    // given when the identity is first added and cannot be changed by a later add.
    const access = new IdentityAccess();
    const addIdentity = async (uri: string, pskHex: string | undefined, pskName?: string, viaIpc = false, mailbox = false, uids?: number[]) => {
      const mode = ids.has(uri) ? mailboxUris.has(uri) : modeOfAdding.get(uri);
      if (mode !== undefined && mode !== mailbox) throw new ParamError(`identity ${uri} is already registered ${mailbox ? 'without' : 'with'} mailbox mode`);
      const known = ids.has(uri) || modeOfAdding.has(uri);
      if (viaIpc && known && uids !== undefined && !sameUids(access.uidsOf(uri), uids)) throw new ParamError(`identity ${uri} is already registered with ${access.uidsOf(uri) ? 'another' : 'no'} uid allow-list`);
      if (!viaIpc) access.set(uri, uids);
      if (ids.has(uri)) return { identity: ids.get(uri), added: false };
      // the cap is on what IPC clients may add; the configuration and the store are the operator's
      if (viaIpc && ids.size + adding >= cfg.maxIdentities) throw new DaemonError('IDENTITY_LIMIT', `at most ${cfg.maxIdentities} identities may be registered (maxIdentities)`);
      adding++;
      const first = !modeOfAdding.has(uri);
      if (first) modeOfAdding.set(uri, mailbox);
      if (first && viaIpc) access.set(uri, uids);
      const newMailbox = mailbox && !mailboxUris.has(uri);
      if (mailbox) mailboxUris.add(uri);
      try {
        const newDevUser = dev !== undefined && dev.pskOf(uri) === undefined;
        if (dev) pskHex = await dev.addUser(uri, pskHex, viaIpc ? uids : undefined);
        else if (pskHex === undefined) throw new DaemonError('BAD_PARAMS', `identity ${uri}: a psk is required (production mode)`);
        const psk = hexToBytes(pskHex);
        try {
          return await ids.add(uri, psk, pskName);
        } catch (e) {
          // nothing stays registered: a development user we just created is forgotten again
          if (newDevUser && !ids.has(uri)) await dev!.removeUser(uri).catch(() => undefined);
          if (newMailbox && !ids.has(uri)) mailboxUris.delete(uri);
          if ((first || !viaIpc) && !ids.has(uri)) access.set(uri, undefined);
          throw e;
        } finally {
          psk.fill(0);
        }
      } finally {
        adding--;
        if (first) modeOfAdding.delete(uri);
      }
    };
    const addConfigured = (id: IdentityConfig) => addIdentity(id.uri, id.psk ?? (id.pskFile ? readPskFile(id.pskFile) : undefined), id.pskName, false, id.mailbox === true, id.uids);
    for (const id of cfg.identities) await addConfigured(id);
    // development identities added over IPC come back with the allow-list they were added with
    if (dev) for (const uri of dev.users()) if (!ids.has(uri)) await addIdentity(uri, undefined, undefined, false, false, dev.uidsOf(uri));

    const deferred = deferredMethods({
      engine,
      Ppub: shardOpts.Ppub,
      period: params.period,
      ...(cfg.profile ? { profile: cfg.profile } : {}),
      isLocal: (uri) => ids.has(uri),
      heldKeys: (uri) => ids.get(uri).renewer.held().map((k) => ({ period: k.period.label, key: k.key })),
      fetchKey: async (uri, atMs) => {
        const { psk } = ids.get(uri) as LocalIdentity & { psk: Uint8Array };
        const k = await requestPrivateKey({ url: kmsUrl, identity: uri, psk, params, engine, date: atMs, ...(ca ? { ca } : {}) });
        k.signingKey?.fill(0);
        return { period: k.period, key: k.key };
      },
      prekeys: () => prekeys!.store(),
    });
    const owners = new ExchangeOwners(cfg.exchangeOwner);
    const exchangesByState = () => sh.byState();
    // The native engine's second core only while cores are to spare (par-policy.ts).
    const par = parPolicy(shardEngine, availableParallelism(), { onSaturated, inlineWhenAlone: cfg.inlineWhenAlone });
    const exchange = Object.fromEntries(EXCHANGE_METHODS.map((m) => [m, (p: Record<string, unknown>) => par.track(() => sh.handle(m, p))])) as Record<string, Handler>;
    const handlers: Record<string, Handler> = access.guard(owners.guard({
      ...built.handlers,
      info: async (p, ctx) => ({
        ...((await built.handlers.info!(p, ctx)) as object),
        mode: dev ? 'development' : 'production',
        kmsUrl,
        kmsId: params.kmsId,
        paramsFingerprint: params.fingerprint,
        period: params.period,
        identities: ids.list().length,
      }),
      'identity.add': async (p, ctx) => {
        onlyFields(p, ['uri', 'psk', 'mailbox', 'uids']);
        const uri = uriParam(p, 'uri');
        const psk = optionalPskParam(p, 'psk');
        if (p.mailbox !== undefined && typeof p.mailbox !== 'boolean') throw new ParamError('mailbox must be a boolean');
        const mailbox = p.mailbox === true;
        const uids = p.uids === undefined ? undefined : parseUids(p.uids, 'uids', (m) => new ParamError(m));
        // a client cannot add an identity it could not use itself
        if (uids && ctx.uid === undefined) throw new DaemonError('NO_PEERCRED', 'uids needs the peer uid of the connection (SO_PEERCRED), which this daemon cannot read');
        if (uids && !uids.includes(ctx.uid!)) throw new ParamError(`uids must include your own uid ${ctx.uid}`);
        const r = await addIdentity(uri, psk, undefined, true, mailbox, uids);
        if (r.added) logger.info({ uids }, `identity ${uri} added${mailbox ? ' (mailbox mode)' : ''}${uids ? ` for uids ${uids.join(',')}` : ''}`);
        return { uri, added: r.added, ...(mailbox ? { mailbox } : {}), ...(uids ? { uids: access.uidsOf(uri) } : {}), periods: [...r.identity.periods].sort() };
      },
      'identity.list': async (p) => {
        onlyFields(p, []);
        return { identities: ids.list() };
      },
      ...exchange,
      ...prekeys.handlers,
      ...deferred,
      metrics: async (p) => {
        onlyFields(p, []);
        await sh.refresh();
        const s = server!.stats;
        return {
          requests: s.requests,
          errors: s.errors,
          overloaded: s.overloaded,
          inFlight: s.inFlight,
          queuedReplyBytes: s.queuedReplyBytes,
          connections: s.connections,
          connectionsRefused: s.connectionsRefused,
          timeouts: s.timeouts,
          identities: ids.list().length,
          workers,
          exchanges: { ...metrics.exchanges, byState: exchangesByState() },
          latency: await metrics.histograms(),
        };
      },
    }));
    const limitsOf = (c: DaemonConfig) => ({ maxInFlight: c.maxInFlight, maxInFlightPerConnection: c.maxInFlightPerConnection, maxQueuedReplyBytes: c.maxQueuedReplyBytes, maxConnections: c.maxConnections, maxConnectionsPerUid: c.maxConnectionsPerUid, idleTimeoutMs: c.idleTimeoutMs, frameTimeoutMs: c.frameTimeoutMs, idlePollUs: c.idlePollUs });
    server = await startDaemon({
      socketPath: cfg.socket,
      handlers,
      limits: limitsOf(cfg),
      logger,
      hooks: { requestDone: (m, s, o) => metrics.observeRequest(m, s, o) },
      yieldThread,
    });
    const running = server;
    metrics.attach({ server: () => running.stats, idlePoll: () => running.idlePoll, exchangesByState, identities: () => ids.list().length, engine: built.engineInfo });
    if (cfg.metricsListen) {
      metricsHttp = await startMetricsServer(parseListen(cfg.metricsListen), metrics);
      logger.info({ url: metricsHttp.url }, `metrics on ${metricsHttp.url}`);
    }
    const armTimer = () => {
      if (timer) clearInterval(timer);
      timer = setInterval(() => {
        ids.dropEnded();
        sh.expire().then(
          (n) => {
            if (n > 0) {
              metrics.exchanges.expired += n;
              log(`expired ${n} exchange state(s)`);
            }
            owners.prune((identity, csb) => ids.has(identity) && sh.exists(identity, csb));
          },
          (e) => logger.error({ code: (e as IbakedError).code ?? 'INTERNAL' }, `expiry failed: ${(e as Error)?.message}`),
        );
      }, cfg.expireIntervalMs);
      timer.unref();
    };
    armTimer();

    const reload = async (nextStart: StartConfig): Promise<ReloadReport> => {
      const next: DaemonConfig = { ...DEFAULTS, ...nextStart } as DaemonConfig;
      const ignored = RESTART_KEYS.filter((k) => JSON.stringify(next[k]) !== JSON.stringify(cfg[k]));
      const report: ReloadReport = { added: [], removed: [], ignored: [...ignored] };
      const wanted = new Set(next.identities.map((i) => i.uri));
      // identities the old configuration listed and the new one does not: unregistered
      for (const old of cfg.identities) {
        if (wanted.has(old.uri) || !ids.has(old.uri)) continue;
        ids.remove(old.uri);
        mailboxUris.delete(old.uri);
        if (dev) await dev.removeUser(old.uri);
        access.set(old.uri, undefined);
        report.removed.push(old.uri);
      }
      const prev = cfg;
      cfg = { ...next, ...Object.fromEntries(RESTART_KEYS.map((k) => [k, prev[k]])) } as DaemonConfig;
      for (const id of next.identities) {
        if (ids.has(id.uri)) {
          access.set(id.uri, id.uids); // a changed allow-list takes effect now
          continue;
        }
        try {
          await addConfigured(id);
          report.added.push(id.uri);
        } catch (e) {
          logger.error({ code: (e as IbakedError).code ?? 'INTERNAL' }, `reload: identity ${id.uri} not added: ${(e as Error).message}`);
        }
      }
      logger.level = cfg.logLevel;
      (pool as Partial<ShardPool> | undefined)?.setLogLevel?.(cfg.logLevel);
      running.setLimits(limitsOf(cfg));
      owners.mode = cfg.exchangeOwner;
      if (next.expireIntervalMs !== prev.expireIntervalMs) armTimer();
      logger.info({ added: report.added.length, removed: report.removed.length, ignored: report.ignored }, 'configuration reloaded');
      if (report.ignored.length) logger.warn({ code: 'RESTART_NEEDED', keys: report.ignored }, `changed keys that need a restart were ignored: ${report.ignored.join(', ')}`);
      return report;
    };

    let closing: Promise<void> | undefined;
    const close = () => (closing ??= cleanup().then(() => log('stopped')));
    return {
      socketPath: running.socketPath,
      mode: dev ? 'development' : 'production',
      kmsUrl,
      params,
      engine,
      identities: ids,
      shards: sh,
      metrics,
      owners,
      access,
      server: running,
      ...(metricsHttp ? { metricsUrl: metricsHttp.url } : {}),
      logger,
      reload,
      async shutdown() {
        const inFlight = running.stats.inFlight;
        logger.info({ inFlight, timeoutMs: cfg.drainTimeoutMs }, 'draining');
        const drained = await running.drain(cfg.drainTimeoutMs);
        if (!drained) logger.warn({ code: 'DRAIN_TIMEOUT', inFlight: running.stats.inFlight }, `drain timed out after ${cfg.drainTimeoutMs} ms`);
        await close();
        return { drained };
      },
      close,
    };
  } catch (e) {
    await cleanup().catch(() => {});
    if (!(e instanceof IbakedError)) throw new DaemonError('START_FAILED', `cannot start: ${(e as Error)?.message ?? String(e)}`);
    throw e;
  }
}
