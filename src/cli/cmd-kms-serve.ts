// `ibake kms serve`: runs the KMS key-issuing service (REQUEST_KEY_PSK over HTTP(S) POST
// application/mikey) for a KMS directory made by `ibake kms init` and a users file of PSKs.
// Prints one "listening" line on stdout, audit events (JSON lines, no key material) on stderr,
// and stops cleanly on SIGINT/SIGTERM. An audit record that cannot be written stops the
// service (no unaudited issuance): it wipes the master secret and PSKs and exits 1. Plain HTTP
// on an address other than loopback needs --insecure-http.
import { loadKmsDir } from '../kms/master.js';
import { chainedJsonLineLogger } from '../kms/issuance-log.js';
import { closeSync, openSync, writeSync } from 'node:fs';
import { isIP } from 'node:net';
import { KmsError } from '../kms/errors.js';
import { PskStore } from '../kms/psk-store.js';
import { startKmsServer, type KmsRateLimits } from '../kms/server.js';
import { parseFlags, UsageError, type CliIO, type Command } from './command.js';
import { engineFlag, required } from './ibe-cli-util.js';
import { readFileBounded } from '../util/read-bounded.js';

/** Largest PEM file read (--cert, --key, --pke-key): a certificate chain fits many times over. */
const MAX_PEM = 1 << 20;

export const DEFAULT_KMS_PORT = 8270;

const USAGE = `usage: ibake kms serve --dir DIR --users FILE [--host H] [--port N] [--cert F --key F]
                       [--pke-key F] [--audit FILE] [--skew SECONDS] [--user-rate N/S]
                       [--addr-rate N/S] [--conn-per-addr N] [--idle-timeout SECONDS]
                       [--insecure-http] [--engine ts|wasm|native]

Serves private keys of the KMS in DIR (from \`ibake kms init\`) to the users in FILE:
POST http(s)://H:N/mikey, Content-Type application/mikey, body REQUEST_KEY_PSK (RFC 6267),
answer REQUEST_KEY_RESP or an RFC 3830 Error message (see docs/kms.md).

  --dir DIR         KMS directory (master.key 0600 + params.json)
  --users FILE      JSON {"<uri>": "<psk hex>", ...}; a value may also be
                    {"psk": "<hex>", "sign": "<PEM RSA public key or cert>", "identities": ["<uri>", ...]}.
                    Must be mode 0600 or 0400, in a directory not writable by group/others
                    (DIR and its params.json must not be either).
  --host H          address to listen on (default 127.0.0.1); plain HTTP on an address other
                    than loopback is refused without --insecure-http (give --cert/--key)
  --port N          TCP port (default ${DEFAULT_KMS_PORT}; 0 = any free port)
  --cert F --key F  PEM certificate and key: serve HTTPS (both or neither)
  --pke-key F       PEM RSA private key (2048..8192 bits) of the KMS: also accept REQUEST_KEY_PKE
                    (envelope key under this key, request signed with the user's "sign" key)
  --audit FILE      also append the audit events to FILE (created 0600); if a record cannot be
                    written the service stops (master secret and PSKs wiped, exit status 1)
  --skew SECONDS    allowed clock difference for the request timestamp (default 300)
  --user-rate N/S   per-user token bucket: burst N, refill one per S seconds (default 10/5)
  --addr-rate N/S   per-address token bucket before reading the body (default 30/0.2)
  --conn-per-addr N open connections per client address (default 16)
  --idle-timeout S  close a connection idle for S seconds (default 15)
  --insecure-http   allow plain HTTP on a non-loopback address (keys then travel under the
                    PSK-derived KEMAC only; the transport is not authenticated)
  --engine E        pairing engine (default: best available)

Prints "ibake kms: listening on URL ..." on stdout; audit events (issued keys: identity,
period, time, client address, key id; rejections: reason code) go to stderr as JSON lines,
numbered (seq) and hash-chained (prev = SHA-256 of the previous line), never with key material.
SIGHUP reloads the users file (a bad file is reported and the old users stay);
SIGINT/SIGTERM stop the service.
`;

/** Loopback addresses: 127.0.0.0/8, ::1, localhost. */
function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

function rate(v: string | undefined, flag: string): { burst: number; perSecond: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) throw new UsageError(`--${flag} must be N/S (burst N, one token every S seconds), e.g. 10/5`);
  return { burst: Number(m[1]), perSecond: 1 / Number(m[2]) };
}

/** Runs the service until `stop` fires; each `reload` event re-reads the users file. Exported for in-process tests. */
export async function serve(argv: string[], io: CliIO, stop: AbortSignal, reload?: EventTarget): Promise<number> {
  const { values } = parseFlags(argv, {
    dir: { type: 'string' },
    users: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    skew: { type: 'string' },
    'user-rate': { type: 'string' },
    'addr-rate': { type: 'string' },
    'pke-key': { type: 'string' },
    audit: { type: 'string' },
    engine: { type: 'string' },
    'conn-per-addr': { type: 'string' },
    'idle-timeout': { type: 'string' },
    'insecure-http': { type: 'boolean' },
  });
  const dir = required(values.dir, 'dir');
  const usersPath = required(values.users, 'users');
  const host = values.host ?? '127.0.0.1';
  const port = values.port === undefined ? DEFAULT_KMS_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0..65535');
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
  if (values.cert === undefined && !isLoopback(host) && values['insecure-http'] !== true) {
    throw new UsageError(`plain HTTP on ${host} (not loopback): give --cert and --key, or --insecure-http to accept it`);
  }
  const positive = (v: string | undefined, flag: string, max: number): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new UsageError(`--${flag} must be 1..${max}`);
    return Number(v);
  };
  const connPerAddr = positive(values['conn-per-addr'], 'conn-per-addr', 100_000);
  const idleS = positive(values['idle-timeout'], 'idle-timeout', 3600);
  let skewMs: number | undefined;
  if (values.skew !== undefined) {
    if (!/^\d+$/.test(values.skew) || Number(values.skew) < 1 || Number(values.skew) > 86400) throw new UsageError('--skew must be 1..86400 seconds');
    skewMs = Number(values.skew) * 1000;
  }
  const rateLimit: KmsRateLimits = {};
  const ur = rate(values['user-rate'], 'user-rate');
  const ar = rate(values['addr-rate'], 'addr-rate');
  if (ur) rateLimit.perUser = ur;
  if (ar) rateLimit.perAddress = ar;
  const engine = await engineFlag(values.engine);

  let tls: { cert: Uint8Array; key: Uint8Array } | undefined;
  if (values.cert !== undefined && values.key !== undefined) {
    try {
      tls = { cert: readFileBounded(values.cert, MAX_PEM), key: readFileBounded(values.key, MAX_PEM) };
    } catch (e) {
      throw new KmsError('KMS_CONFIG', `cannot read certificate/key: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  let pkeKey: Uint8Array | undefined;
  if (values['pke-key'] !== undefined) {
    try {
      pkeKey = readFileBounded(values['pke-key'], MAX_PEM);
    } catch (e) {
      throw new KmsError('KMS_CONFIG', `cannot read --pke-key: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  // Synchronous appends keep the hash chain in file order (events are rare: one per request).
  let auditFd: number | undefined;
  if (values.audit !== undefined) {
    try {
      auditFd = openSync(values.audit, 'a', 0o600);
    } catch (e) {
      throw new KmsError('KMS_CONFIG', `cannot open --audit file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const closeAudit = () => {
    if (auditFd !== undefined) closeSync(auditFd);
    auditFd = undefined;
  };
  const users = await PskStore.fromFile(usersPath).catch((e: unknown) => {
    closeAudit();
    throw e;
  });
  const { params, master } = await loadKmsDir(dir, engine).catch((e: unknown) => {
    users.destroy();
    closeAudit();
    throw e;
  });
  // An audit record that cannot be written: stop (the issuance it records is not answered).
  const fatal = new AbortController();
  let auditError: string | undefined;
  let server;
  try {
    server = await startKmsServer({
      master, params, users, host, port, engine, rateLimit,
      ...(connPerAddr !== undefined ? { maxConnectionsPerAddress: connPerAddr } : {}),
      ...(idleS !== undefined ? { idleTimeoutMs: idleS * 1000 } : {}),
      ...(tls ? { tls } : {}),
      ...(pkeKey ? { pke: { key: pkeKey } } : {}),
      ...(skewMs !== undefined ? { skewMs } : {}),
      // The audit file first: a record it did not take is not printed either (and its
      // issuance is not answered: the throw reaches the request as a 500 without the key).
      log: chainedJsonLineLogger((l) => {
        if (auditError !== undefined) throw new KmsError('KMS_CONFIG', 'audit log unavailable');
        if (auditFd !== undefined) {
          try {
            writeSync(auditFd, l);
          } catch (e) {
            auditError = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
            fatal.abort();
            throw new KmsError('KMS_CONFIG', `audit log write failed: ${auditError}`);
          }
        }
        io.stderr(l);
      }),
    });
  } catch (e) {
    users.destroy();
    closeAudit();
    throw e;
  } finally {
    master.fill(0);
    tls?.key.fill(0);
    pkeKey?.fill(0);
  }
  io.stdout(`ibake kms: listening on ${server.url} (kms-id ${params.kmsId}, period ${params.period}, params ${params.fingerprint.slice(0, 16)}, ${users.size} users${server.pkePublicKey ? ', PKE on' : ''})\n`);
  const onReload = () => {
    server.setUsers(usersPath).then(
      (n) => io.stdout(`ibake kms: users reloaded (${n} users)\n`),
      (e: unknown) => io.stdout(`ibake kms: users file NOT reloaded, keeping the old one: ${(e as Error).message}\n`),
    );
  };
  reload?.addEventListener('reload', onReload);
  await new Promise<void>((resolve) => {
    if (stop.aborted || fatal.signal.aborted) return resolve();
    stop.addEventListener('abort', () => resolve(), { once: true });
    fatal.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  reload?.removeEventListener('reload', onReload);
  await server.close().catch(() => undefined); // wipes the master copy (and PSKs it loaded)
  users.destroy();
  closeAudit();
  if (auditError !== undefined) {
    io.stderr(`ibake kms: audit log write failed (${auditError}): stopped, master secret and PSKs wiped\n`);
    return 1;
  }
  io.stdout('ibake kms: stopped\n');
  return 0;
}

export const command: Command = {
  name: 'kms serve',
  summary: 'serve private keys over HTTP(S) (REQUEST_KEY_PSK, application/mikey)',
  usage: USAGE,
  async run(argv, io) {
    const ac = new AbortController();
    const reload = new EventTarget();
    const onSig = () => ac.abort();
    const onHup = () => reload.dispatchEvent(new Event('reload'));
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
    process.on('SIGHUP', onHup);
    try {
      return await serve(argv, io, ac.signal, reload);
    } finally {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      process.off('SIGHUP', onHup);
    }
  },
};
