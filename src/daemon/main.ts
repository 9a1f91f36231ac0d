// `ibaked`: the long-running sidecar (DESIGN §6). Reads its configuration (--config JSON file +
// flags, config.ts), starts everything through startIbaked (engine, power-on self-test — refusing
// to serve if it fails —, KMS side, identities, IPC socket) and serves. Signals: SIGHUP reloads
// the configuration (identities, log level, limits) keeping exchanges; SIGTERM/SIGINT drain
// in-flight requests for at most drainTimeoutMs, then wipe everything and exit 0.
// Exit status: 0 stopped by a signal, 1 start failure, 2 usage or configuration error.
import { parseArgs } from 'node:util';
import { IbakedError } from '../util/errors.js';
import { packageVersion } from '../util/version.js';
import { resolveConfig, type ConfigFlags } from './config.js';
import { startIbaked, type Ibaked } from './daemon.js';
import { createLogger } from './log.js';
import { defaultSocketPath } from './paths.js';

const USAGE = `usage: ibaked [--config FILE] [--socket PATH] [--engine native|wasm|ts] [--max-in-flight N]
              [--workers N] [--var-dir DIR] [--kms-url URL --kms-params FILE [--kms-ca FILE]] [--skip-selftest]
              [--log-level LEVEL] [--log-format json|pretty] [--metrics-listen HOST:PORT]

Serves MIKEY-IBAKE key exchanges to local media apps over a Unix-domain socket
(4-octet big-endian length + one msgpack map per frame; frames over 64 KiB are refused).
Without a KMS configured it runs in development mode: an embedded KMS on 127.0.0.1 with its
store under --var-dir (default ./var). See docs/daemon.md.

  --config FILE       JSON configuration (flags override it; re-read on SIGHUP)
  --socket PATH       socket path (default $XDG_RUNTIME_DIR/ibaked.sock, else /run/ibaked/ibaked.sock)
  --engine NAME       force a pairing engine (default: native, else wasm, else ts; env IBAKED_ENGINE)
  --max-in-flight N   requests admitted at once before replying OVERLOADED (default 256)
  --workers N         exchange worker threads (0 = on the main thread; default: one per
                      core on 5+ cores, else 0)
  --var-dir DIR       development-mode state directory (default ./var, created 0700)
  --kms-url URL       production: the KMS endpoint (e.g. https://kms.example.org/mikey)
  --kms-params FILE   production: the KMS public parameters (params.json), pinned
  --kms-ca FILE       production: PEM CA certificate of an https KMS
  --skip-selftest     do not run the power-on known-answer tests (development only)
  --log-level LEVEL   fatal|error|warn|info|debug|trace|silent (default info)
  --log-format FMT    json (default: one JSON object per line on stderr) or pretty (terminal)
  --metrics-listen A  serve Prometheus metrics on http://A/metrics (loopback only, e.g. 127.0.0.1:9464)
  --version           print the version and exit
  -h, --help          this text

Signals: SIGHUP reloads --config; SIGTERM/SIGINT drain (default 10 s) and exit 0.
`;

export { defaultSocketPath };

export async function runDaemon(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        socket: { type: 'string' },
        engine: { type: 'string' },
        'max-in-flight': { type: 'string' },
        workers: { type: 'string' },
        'var-dir': { type: 'string' },
        'kms-url': { type: 'string' },
        'kms-params': { type: 'string' },
        'kms-ca': { type: 'string' },
        'skip-selftest': { type: 'boolean' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        'metrics-listen': { type: 'string' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    // one line, also for parseArgs's several-line explanation of a value starting with a dash
    process.stderr.write(`ibaked: ${(e as Error).message.trim().replace(/\s*\n\s*/g, ' ')} (see --help)\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`ibaked ${packageVersion()}\n`);
    return 0;
  }
  const flags: ConfigFlags = {
    ...(values.config !== undefined ? { config: values.config } : {}),
    ...(values.socket !== undefined ? { socket: values.socket } : {}),
    ...(values.engine !== undefined ? { engine: values.engine } : {}),
    ...(values['max-in-flight'] !== undefined ? { maxInFlight: values['max-in-flight'] } : {}),
    ...(values.workers !== undefined ? { workers: values.workers } : {}),
    ...(values['var-dir'] !== undefined ? { varDir: values['var-dir'] } : {}),
    ...(values['kms-url'] !== undefined ? { kmsUrl: values['kms-url'] } : {}),
    ...(values['kms-params'] !== undefined ? { kmsParams: values['kms-params'] } : {}),
    ...(values['kms-ca'] !== undefined ? { kmsCa: values['kms-ca'] } : {}),
    ...(values['skip-selftest'] ? { skipSelftest: true } : {}),
    ...(values['log-level'] !== undefined ? { logLevel: values['log-level'] } : {}),
    ...(values['log-format'] !== undefined ? { logFormat: values['log-format'] } : {}),
    ...(values['metrics-listen'] !== undefined ? { metricsListen: values['metrics-listen'] } : {}),
  };
  let cfg;
  try {
    cfg = resolveConfig(flags, process.env, defaultSocketPath());
  } catch (e) {
    process.stderr.write(`ibaked: ${(e as Error).message}\n`);
    return 2;
  }
  const logger = createLogger({ level: cfg.logLevel, format: cfg.logFormat });
  logger.info({ version: packageVersion() }, 'ibaked starting');
  // Signals that arrive while starting are handled once it is up (never the default action:
  // SIGHUP would kill the process and leave a stale socket).
  let d: Ibaked | undefined;
  let stopRequested: string | undefined;
  let wake: () => void = () => {};
  const onStop = (sig: string) => {
    if (stopRequested && d) {
      // a second signal while draining: stop waiting for requests in flight
      logger.warn({ signal: sig, code: 'DRAIN_ABORTED' }, `${sig} again: closing without waiting`);
      void d.close().then(() => process.exit(0));
      return;
    }
    stopRequested ??= sig;
    wake();
  };
  let reloading = Promise.resolve();
  const onHup = () => {
    if (!d) return logger.warn({ code: 'RELOAD_IGNORED' }, 'SIGHUP while starting: ignored');
    const daemon = d;
    reloading = reloading.then(async () => {
      logger.info('SIGHUP: reloading the configuration');
      try {
        await daemon.reload(resolveConfig(flags, process.env, defaultSocketPath()));
      } catch (e) {
        logger.error({ code: (e as IbakedError).code ?? 'INTERNAL' }, `reload failed, keeping the running configuration: ${(e as Error).message}`);
      }
    });
  };
  process.on('SIGTERM', () => onStop('SIGTERM'));
  process.on('SIGINT', () => onStop('SIGINT'));
  process.on('SIGHUP', onHup);
  try {
    d = await startIbaked(cfg, logger);
  } catch (e) {
    const code = e instanceof IbakedError ? e.code : 'START_FAILED';
    logger.fatal({ code }, `${e instanceof IbakedError ? e.message : `cannot start: ${(e as Error)?.message}`}; refusing to start`);
    return code === 'CONFIG' ? 2 : 1;
  }
  if (!stopRequested) await new Promise<void>((resolve) => (wake = resolve));
  logger.info({ signal: stopRequested }, `${stopRequested}: shutting down`);
  await reloading;
  const { drained } = await d.shutdown();
  logger.info({ drained }, 'exiting');
  return 0;
}

if (process.env.IBAKED_DAEMON_ENTRY === '1') {
  runDaemon(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Nothing of ours is left running; do not wait for stray handles of dependencies.
      setTimeout(() => process.exit(code), 200).unref();
    },
    (e) => {
      process.stderr.write(`ibaked: ${(e as Error)?.message ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
