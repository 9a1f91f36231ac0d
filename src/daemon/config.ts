// ibaked configuration: an optional JSON file (`ibaked --config FILE`) merged with command-line
// flags (flags win), validated strictly (unknown keys are errors) into one DaemonConfig.
// Without a `kms` section the daemon runs in embedded development mode (a local KMS and its
// store under varDir); with `kms: {url, params, ca?}` it is a production endpoint that fetches
// its identities' keys from that KMS with per-identity PSKs. See docs/daemon.md.
import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { EngineName } from '../engine/types.js';
import { SRTP_PROFILES } from '../srtp/policy.js';
import { IbakedError } from '../util/errors.js';
import { readFileBounded } from '../util/read-bounded.js';
import { parseUids } from './identity-access.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log.js';
import { MAX_IDLE_POLL_US } from './idle-poll.js';

export class ConfigError extends IbakedError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

export interface IdentityConfig {
  uri: string;
  /** PSK as hex (16..64 octets); or `pskFile`, a file holding the hex (mode 0600). */
  psk?: string;
  pskFile?: string;
  /** Name of the PSK in the KMS users table when it is not the identity itself. */
  pskName?: string;
  /**
   * Mailbox mode (deferred delivery, docs/profile.md §6.4): this identity answers I_MESSAGE_1s
   * addressed to others with one of their signed prekeys (mailbox.prekeys.add) and stores the
   * I_MESSAGE_2; it never gets media keys. Its exchanges run on the main thread.
   */
  mailbox?: boolean;
  /**
   * Peer uids (SO_PEERCRED) allowed to act for this identity (identity-access.ts); absent = any
   * client that can reach the socket.
   */
  uids?: number[];
}

/** The caller's side of deferred delivery: which mailboxes may answer for whom, and the v1 fallback. */
export interface DeferredConfig {
  /** Addressed user -> mailbox identities allowed to answer for it. */
  mailboxes: Record<string, string[]>;
  /** 'allow': fall back to the escrowed v1 flow when the mailbox has no prekey (the KMS can read the content). Default 'deny'. */
  escrowed: 'allow' | 'deny';
}

export interface KmsConfig {
  /** KMS endpoint, e.g. https://kms.example.org/mikey */
  url: string;
  /** Path of the KMS public parameters (params.json), obtained out of band and pinned. */
  params: string;
  /** PEM CA certificate file for an https KMS. */
  ca?: string;
}

export interface DaemonConfig {
  socket: string;
  engine?: EngineName;
  maxInFlight: number;
  /** Requests admitted at once on one IPC connection (OVERLOADED beyond). */
  maxInFlightPerConnection: number;
  /** Reply octets queued to clients across connections before backlogged ones stop being read. */
  maxQueuedReplyBytes: number;
  /**
   * Exchange worker threads (DESIGN §6): 0 = exchanges on the main thread; N = N shard workers,
   * each with its own engine handle, keyrings and endpoints. Default: defaultWorkers().
   */
  workers: number;
  skipSelftest: boolean;
  /** Development mode state: varDir/kms (KMS dir) and varDir/dev-users.json. Default ./var */
  varDir: string;
  /** Absent = embedded development mode. */
  kms?: KmsConfig;
  identities: IdentityConfig[];
  /** Deferred delivery as a caller (absent: no mailbox answer is accepted). */
  deferred?: DeferredConfig;
  /** SRTP profile keyed by our exchanges (default AES_CM_128_HMAC_SHA1_80). */
  profile?: string;
  handshakeTimeoutMs: number;
  establishedLifetimeMs: number;
  /** Exchange states per identity and table (half-open ones beyond it refused, established ones evicted LRU). */
  maxSessions: number;
  /** Half-open exchanges per peer identity (a new one evicts that peer's oldest). */
  maxHalfOpenPerPeer: number;
  /** How often expired exchange states are purged (ms). */
  expireIntervalMs: number;
  /** Open IPC connections accepted at once. */
  maxConnections: number;
  /** Open IPC connections of one uid (when SO_PEERCRED is available). */
  maxConnectionsPerUid: number;
  /** An IPC connection with nothing in flight and no byte received for this long is closed. */
  idleTimeoutMs: number;
  /** A frame must be complete this long after its first octet. */
  frameTimeoutMs: number;
  /** Longest idle-polling window (µs) of the main thread once nothing is in flight; 0 = off (idle-poll.ts). */
  idlePollUs: number;
  /** The main thread runs its engine operations inline while one exchange request is in flight (par-policy.ts). */
  inlineWhenAlone: boolean;
  /** SIGTERM/SIGINT: how long in-flight requests may still finish. */
  drainTimeoutMs: number;
  /** Identities registered at once (config, development store and identity.add together). */
  maxIdentities: number;
  /** Who may touch an exchange besides its connection: the same uid ("uid") or nobody. */
  exchangeOwner: 'uid' | 'connection';
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** HOST:PORT of the Prometheus listener (loopback only); absent = off. */
  metricsListen?: string;
}

/** From this many cores up, the default is one shard worker per core. */
export const SHARD_FROM_CORES = 5;

/**
 * One worker per core on hosts with SHARD_FROM_CORES cores or more; below, none. Measured
 * (docs/performance.md, bench:daemon): the main thread spends about 0.7 ms per call when it
 * runs the exchanges itself and a call needs about 3.3 ms of CPU in all, so the main thread
 * is the limit only from about 5 cores; below that a worker hop adds latency (two thread
 * wake-ups per request) and CPU per call without adding throughput.
 */
export function defaultWorkers(cores = availableParallelism()): number {
  return cores >= SHARD_FROM_CORES ? cores : 0;
}

export const MAX_WORKERS = 256;

export const DEFAULTS = {
  maxInFlight: 256,
  maxInFlightPerConnection: 64,
  maxQueuedReplyBytes: 64 * 1024 * 1024,
  varDir: './var',
  handshakeTimeoutMs: 60_000,
  establishedLifetimeMs: 12 * 3600_000,
  maxSessions: 4096,
  maxHalfOpenPerPeer: 256,
  expireIntervalMs: 10_000,
  maxConnections: 1024,
  maxConnectionsPerUid: 256,
  idleTimeoutMs: 300_000,
  frameTimeoutMs: 10_000,
  idlePollUs: 100,
  inlineWhenAlone: true,
  drainTimeoutMs: 10_000,
  maxIdentities: 4096,
  exchangeOwner: 'uid',
  logLevel: 'info',
  logFormat: 'json',
} as const;

const ENGINES = ['native', 'wasm', 'ts'];
/** Longest Unix-domain socket path on Linux (sun_path is 108 octets including the NUL). */
const MAX_SOCKET_PATH = 107;
const URI_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s\0]+$/;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function keys(o: Obj, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ConfigError(`${where}: unknown key '${k}' (allowed: ${allowed.join(', ')})`);
}
function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096 || v.includes('\0')) throw new ConfigError(`${where} must be a non-empty string`);
  return v;
}
function int(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${where} must be an integer in ${min}..${max}`);
  return v;
}
function oneOf<T extends string>(v: unknown, where: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new ConfigError(`${where} must be one of ${allowed.join(', ')}`);
  return v as T;
}
function uri(v: unknown, where: string): string {
  const s = str(v, where);
  if (!URI_RE.test(s) || s.length > 1024) throw new ConfigError(`${where} must be a URI such as sip:alice@example.org`);
  return s;
}

/** Flag values as given on the command line (all optional). */
export interface ConfigFlags {
  config?: string;
  socket?: string;
  engine?: string;
  maxInFlight?: string;
  workers?: string;
  skipSelftest?: boolean;
  varDir?: string;
  kmsUrl?: string;
  kmsParams?: string;
  kmsCa?: string;
  logLevel?: string;
  logFormat?: string;
  metricsListen?: string;
}

/** Parses and validates a config object (from JSON). `base` resolves relative paths. */
export function parseConfigObject(raw: unknown, base: string): Partial<DaemonConfig> {
  if (!isObj(raw)) throw new ConfigError('configuration must be a JSON object');
  keys(raw, ['socket', 'engine', 'maxInFlight', 'maxInFlightPerConnection', 'maxQueuedReplyBytes', 'workers', 'skipSelftest', 'varDir', 'kms', 'identities', 'profile', 'handshakeTimeoutMs', 'establishedLifetimeMs', 'maxSessions', 'maxHalfOpenPerPeer', 'expireIntervalMs', 'maxConnections', 'maxConnectionsPerUid', 'idleTimeoutMs', 'frameTimeoutMs', 'idlePollUs', 'inlineWhenAlone', 'drainTimeoutMs', 'maxIdentities', 'exchangeOwner', 'logLevel', 'logFormat', 'metricsListen', 'deferred'], 'config');
  const path = (v: unknown, where: string) => {
    const s = str(v, where);
    return isAbsolute(s) ? s : join(base, s);
  };
  const out: Partial<DaemonConfig> = {};
  if (raw.socket !== undefined) out.socket = path(raw.socket, 'socket');
  if (raw.engine !== undefined) {
    if (typeof raw.engine !== 'string' || !ENGINES.includes(raw.engine)) throw new ConfigError(`engine must be one of ${ENGINES.join(', ')}`);
    out.engine = raw.engine as EngineName;
  }
  if (raw.maxInFlight !== undefined) out.maxInFlight = int(raw.maxInFlight, 'maxInFlight', 1, 100_000);
  if (raw.maxInFlightPerConnection !== undefined) out.maxInFlightPerConnection = int(raw.maxInFlightPerConnection, 'maxInFlightPerConnection', 1, 100_000);
  // at least one whole frame; at most 16 GiB
  if (raw.maxQueuedReplyBytes !== undefined) out.maxQueuedReplyBytes = int(raw.maxQueuedReplyBytes, 'maxQueuedReplyBytes', 65_536, 2 ** 34);
  if (raw.workers !== undefined) out.workers = int(raw.workers, 'workers', 0, MAX_WORKERS);
  if (raw.inlineWhenAlone !== undefined) {
    if (typeof raw.inlineWhenAlone !== 'boolean') throw new ConfigError('inlineWhenAlone must be a boolean');
    out.inlineWhenAlone = raw.inlineWhenAlone;
  }
  if (raw.skipSelftest !== undefined) {
    if (typeof raw.skipSelftest !== 'boolean') throw new ConfigError('skipSelftest must be a boolean');
    out.skipSelftest = raw.skipSelftest;
  }
  if (raw.varDir !== undefined) out.varDir = path(raw.varDir, 'varDir');
  if (raw.profile !== undefined) out.profile = oneOf(raw.profile, 'profile', Object.keys(SRTP_PROFILES));
  if (raw.handshakeTimeoutMs !== undefined) out.handshakeTimeoutMs = int(raw.handshakeTimeoutMs, 'handshakeTimeoutMs', 1000, 3600_000);
  if (raw.establishedLifetimeMs !== undefined) out.establishedLifetimeMs = int(raw.establishedLifetimeMs, 'establishedLifetimeMs', 1000, 7 * 86400_000);
  if (raw.maxSessions !== undefined) out.maxSessions = int(raw.maxSessions, 'maxSessions', 1, 10_000_000);
  if (raw.maxHalfOpenPerPeer !== undefined) out.maxHalfOpenPerPeer = int(raw.maxHalfOpenPerPeer, 'maxHalfOpenPerPeer', 1, 100_000);
  if (raw.expireIntervalMs !== undefined) out.expireIntervalMs = int(raw.expireIntervalMs, 'expireIntervalMs', 100, 3600_000);
  if (raw.maxConnections !== undefined) out.maxConnections = int(raw.maxConnections, 'maxConnections', 1, 100_000);
  if (raw.maxConnectionsPerUid !== undefined) out.maxConnectionsPerUid = int(raw.maxConnectionsPerUid, 'maxConnectionsPerUid', 1, 100_000);
  if (raw.idleTimeoutMs !== undefined) out.idleTimeoutMs = int(raw.idleTimeoutMs, 'idleTimeoutMs', 100, 86400_000);
  if (raw.frameTimeoutMs !== undefined) out.frameTimeoutMs = int(raw.frameTimeoutMs, 'frameTimeoutMs', 100, 600_000);
  if (raw.idlePollUs !== undefined) out.idlePollUs = int(raw.idlePollUs, 'idlePollUs', 0, MAX_IDLE_POLL_US);
  if (raw.drainTimeoutMs !== undefined) out.drainTimeoutMs = int(raw.drainTimeoutMs, 'drainTimeoutMs', 0, 600_000);
  if (raw.maxIdentities !== undefined) out.maxIdentities = int(raw.maxIdentities, 'maxIdentities', 1, 1_000_000);
  if (raw.exchangeOwner !== undefined) out.exchangeOwner = oneOf(raw.exchangeOwner, 'exchangeOwner', ['uid', 'connection'] as const);
  if (raw.logLevel !== undefined) out.logLevel = oneOf(raw.logLevel, 'logLevel', LOG_LEVELS);
  if (raw.logFormat !== undefined) out.logFormat = oneOf(raw.logFormat, 'logFormat', LOG_FORMATS);
  if (raw.metricsListen !== undefined) out.metricsListen = str(raw.metricsListen, 'metricsListen');
  if (out.metricsListen !== undefined) parseListen(out.metricsListen);
  if (raw.deferred !== undefined) out.deferred = deferredConfig(raw.deferred);
  if (raw.kms !== undefined) {
    if (!isObj(raw.kms)) throw new ConfigError('kms must be an object {url, params, ca?}');
    keys(raw.kms, ['url', 'params', 'ca'], 'kms');
    const url = str(raw.kms.url, 'kms.url');
    if (!/^https?:\/\//.test(url)) throw new ConfigError('kms.url must be an http(s) URL');
    out.kms = { url, params: path(raw.kms.params, 'kms.params'), ...(raw.kms.ca !== undefined ? { ca: path(raw.kms.ca, 'kms.ca') } : {}) };
  }
  if (raw.identities !== undefined) {
    if (!Array.isArray(raw.identities) || raw.identities.length > 1000) throw new ConfigError('identities must be an array (at most 1000)');
    const seen = new Set<string>();
    out.identities = raw.identities.map((e, i) => {
      const where = `identities[${i}]`;
      if (!isObj(e)) throw new ConfigError(`${where} must be an object {uri, psk | pskFile}`);
      keys(e, ['uri', 'psk', 'pskFile', 'pskName', 'mailbox', 'uids'], where);
      const id: IdentityConfig = { uri: uri(e.uri, `${where}.uri`) };
      if (seen.has(id.uri)) throw new ConfigError(`${where}: identity ${id.uri} listed twice`);
      seen.add(id.uri);
      if (e.psk !== undefined && e.pskFile !== undefined) throw new ConfigError(`${where}: give psk or pskFile, not both`);
      if (e.psk !== undefined) {
        if (typeof e.psk !== 'string' || !/^([0-9a-fA-F]{2}){16,64}$/.test(e.psk)) throw new ConfigError(`${where}.psk must be 16..64 octets of hex`);
        id.psk = e.psk.toLowerCase();
      }
      if (e.pskFile !== undefined) id.pskFile = path(e.pskFile, `${where}.pskFile`);
      if (e.pskName !== undefined) id.pskName = uri(e.pskName, `${where}.pskName`);
      if (e.mailbox !== undefined) {
        if (typeof e.mailbox !== 'boolean') throw new ConfigError(`${where}.mailbox must be a boolean`);
        if (e.mailbox) id.mailbox = true;
      }
      if (e.uids !== undefined) id.uids = parseUids(e.uids, `${where}.uids`, (m) => new ConfigError(m));
      return id;
    });
  }
  return out;
}

/** The `deferred` section: {mailboxes: {user: [mailbox, ...]}, escrowed?: 'allow' | 'deny'}. */
function deferredConfig(v: unknown): DeferredConfig {
  if (!isObj(v)) throw new ConfigError('deferred must be an object {mailboxes, escrowed?}');
  keys(v, ['mailboxes', 'escrowed'], 'deferred');
  if (!isObj(v.mailboxes) || Object.keys(v.mailboxes).length > 10_000) throw new ConfigError('deferred.mailboxes must be an object {user URI: [mailbox URI, ...]} (at most 10000 users)');
  const mailboxes: Record<string, string[]> = {};
  for (const [user, list] of Object.entries(v.mailboxes)) {
    const where = `deferred.mailboxes[${JSON.stringify(user.slice(0, 80))}]`;
    uri(user, where);
    if (!Array.isArray(list) || list.length < 1 || list.length > 16) throw new ConfigError(`${where} must be an array of 1..16 mailbox URIs`);
    mailboxes[user] = list.map((m, i) => uri(m, `${where}[${i}]`));
  }
  return { mailboxes, escrowed: v.escrowed === undefined ? 'deny' : oneOf(v.escrowed, 'deferred.escrowed', ['allow', 'deny'] as const) };
}

/** Largest configuration file read (thousands of identities fit); more is CONFIG (EFBIG). */
export const MAX_CONFIG_FILE = 16 << 20;

/** Reads the JSON config file (if any) and applies the flags on top; fills the defaults. */
export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv, defaultSocket: string): DaemonConfig {
  let file: Partial<DaemonConfig> = {};
  if (flags.config !== undefined) {
    let text: string;
    try {
      text = readFileBounded(flags.config, MAX_CONFIG_FILE).toString('utf8');
    } catch (e) {
      throw new ConfigError(`cannot read ${flags.config}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${flags.config} is not valid JSON: ${(e as Error).message}`);
    }
    file = parseConfigObject(raw, dirname(resolve(flags.config)));
  }
  const cfg: DaemonConfig = {
    socket: flags.socket ?? file.socket ?? defaultSocket,
    maxInFlight: file.maxInFlight ?? DEFAULTS.maxInFlight,
    maxInFlightPerConnection: file.maxInFlightPerConnection ?? DEFAULTS.maxInFlightPerConnection,
    maxQueuedReplyBytes: file.maxQueuedReplyBytes ?? DEFAULTS.maxQueuedReplyBytes,
    workers: file.workers ?? defaultWorkers(),
    skipSelftest: flags.skipSelftest ?? file.skipSelftest ?? false,
    varDir: flags.varDir ?? file.varDir ?? DEFAULTS.varDir,
    identities: file.identities ?? [],
    handshakeTimeoutMs: file.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
    establishedLifetimeMs: file.establishedLifetimeMs ?? DEFAULTS.establishedLifetimeMs,
    maxSessions: file.maxSessions ?? DEFAULTS.maxSessions,
    maxHalfOpenPerPeer: file.maxHalfOpenPerPeer ?? DEFAULTS.maxHalfOpenPerPeer,
    expireIntervalMs: file.expireIntervalMs ?? DEFAULTS.expireIntervalMs,
    maxConnections: file.maxConnections ?? DEFAULTS.maxConnections,
    maxConnectionsPerUid: file.maxConnectionsPerUid ?? DEFAULTS.maxConnectionsPerUid,
    idleTimeoutMs: file.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    frameTimeoutMs: file.frameTimeoutMs ?? DEFAULTS.frameTimeoutMs,
    idlePollUs: file.idlePollUs ?? DEFAULTS.idlePollUs,
    inlineWhenAlone: file.inlineWhenAlone ?? DEFAULTS.inlineWhenAlone,
    drainTimeoutMs: file.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs,
    maxIdentities: file.maxIdentities ?? DEFAULTS.maxIdentities,
    exchangeOwner: file.exchangeOwner ?? DEFAULTS.exchangeOwner,
    logLevel: flags.logLevel !== undefined ? oneOf(flags.logLevel, '--log-level', LOG_LEVELS) : (file.logLevel ?? DEFAULTS.logLevel),
    logFormat: flags.logFormat !== undefined ? oneOf(flags.logFormat, '--log-format', LOG_FORMATS) : (file.logFormat ?? DEFAULTS.logFormat),
    ...((flags.metricsListen ?? file.metricsListen) && parseListen(flags.metricsListen ?? file.metricsListen!, '--metrics-listen') ? { metricsListen: flags.metricsListen ?? file.metricsListen } : {}),
    ...(file.profile ? { profile: file.profile } : {}),
    ...(file.kms ? { kms: file.kms } : {}),
    ...(file.deferred ? { deferred: file.deferred } : {}),
  };
  // sun_path holds 108 octets with the NUL: a longer path fails at listen with a misleading ENOENT
  const sockLen = Buffer.byteLength(cfg.socket);
  // an empty one would reach listen() as a TCP port and fail as SOCKET_LISTEN ERR_SOCKET_BAD_PORT
  if (sockLen === 0) throw new ConfigError('socket path is empty');
  if (sockLen > MAX_SOCKET_PATH) throw new ConfigError(`socket path is ${sockLen} octets; a Unix socket path may have at most ${MAX_SOCKET_PATH}: ${cfg.socket.slice(0, 60)}…`);
  if (flags.maxInFlight !== undefined) {
    const n = Number(flags.maxInFlight);
    cfg.maxInFlight = int(n, '--max-in-flight', 1, 100_000);
  }
  if (flags.workers !== undefined) {
    cfg.workers = int(/^[0-9]+$/.test(flags.workers) ? Number(flags.workers) : NaN, '--workers', 0, MAX_WORKERS);
  }
  const engine = flags.engine ?? env.IBAKED_ENGINE ?? file.engine;
  if (engine !== undefined) {
    if (!ENGINES.includes(engine)) throw new ConfigError(`unknown engine '${engine}' (${ENGINES.join('|')})`);
    cfg.engine = engine as EngineName;
  }
  if (flags.kmsUrl !== undefined || flags.kmsParams !== undefined || flags.kmsCa !== undefined) {
    if ((flags.kmsUrl ?? cfg.kms?.url) === undefined) throw new ConfigError('--kms-params/--kms-ca need --kms-url URL (or "kms" in --config)');
    if ((flags.kmsParams ?? cfg.kms?.params) === undefined) throw new ConfigError('--kms-url needs --kms-params FILE, the KMS public parameters (or "kms" in --config)');
    const merged = parseConfigObject({ kms: { url: flags.kmsUrl ?? cfg.kms?.url, params: flags.kmsParams ?? cfg.kms?.params, ...((flags.kmsCa ?? cfg.kms?.ca) ? { ca: flags.kmsCa ?? cfg.kms?.ca } : {}) } }, process.cwd());
    cfg.kms = merged.kms!;
  }
  return cfg;
}

/** The PSK of a configured identity, as hex (reads pskFile; refuses group/world-readable files). */
export function readPskFile(path: string): string {
  let text: string;
  try {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0) throw new ConfigError(`${path} is accessible by group/others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    text = readFileBounded(path, 4096).toString('utf8').trim();
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!/^([0-9a-fA-F]{2}){16,64}$/.test(text)) throw new ConfigError(`${path} must hold 16..64 octets of hex`);
  return text.toLowerCase();
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses the metrics listener address, `HOST:PORT` / `[::1]:PORT`; the host must be a loopback address. */
export function parseListen(s: string, where = 'metricsListen'): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s);
  const host = m ? (m[1] ?? m[2])! : '';
  const port = m ? Number(m[3]) : NaN;
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (!m || !(port >= 0 && port <= 65535)) throw new ConfigError(`${where} must be HOST:PORT, e.g. 127.0.0.1:9464`);
  if (!loopback) throw new ConfigError(`${where}: ${host} is not a loopback address (127.0.0.0/8, ::1, localhost)`);
  return { host, port };
}
