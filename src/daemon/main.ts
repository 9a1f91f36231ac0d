// `ibaked`: the long-running sidecar (DESIGN §6). Reads its configuration (--config JSON file +
// flags, config.ts), starts everything through startIbaked (engine, power-on self-test — refusing
// to serve if it fails —, KMS side, identities, IPC socket) and serves until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { IbakedError } from '../util/errors.js';
import { packageVersion } from '../util/version.js';
import { resolveConfig } from './config.js';
import { startIbaked } from './daemon.js';

const USAGE = `usage: ibaked [--config FILE] [--socket PATH] [--engine native|wasm|ts] [--max-in-flight N]
              [--var-dir DIR] [--kms-url URL --kms-params FILE [--kms-ca FILE]] [--skip-selftest]

Serves MIKEY-IBAKE key exchanges to local media apps over a Unix-domain socket
(4-octet big-endian length + one msgpack map per frame; frames over 64 KiB are refused).
Without a KMS configured it runs in development mode: an embedded KMS on 127.0.0.1 with its
store under --var-dir (default ./var). See docs/daemon.md.

  --config FILE       JSON configuration (flags override it)
  --socket PATH       socket path (default $XDG_RUNTIME_DIR/ibaked.sock, else /run/ibaked/ibaked.sock)
  --engine NAME       force a pairing engine (default: native, else wasm, else ts; env IBAKED_ENGINE)
  --max-in-flight N   requests admitted at once before replying OVERLOADED (default 256)
  --var-dir DIR       development-mode state directory (default ./var, created 0700)
  --kms-url URL       production: the KMS endpoint (e.g. https://kms.example.org/mikey)
  --kms-params FILE   production: the KMS public parameters (params.json), pinned
  --kms-ca FILE       production: PEM CA certificate of an https KMS
  --skip-selftest     do not run the power-on known-answer tests (development only)
  --version           print the version and exit
  -h, --help          this text
`;

export function defaultSocketPath(env = process.env): string {
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'ibaked.sock') : '/run/ibaked/ibaked.sock';
}

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
        'var-dir': { type: 'string' },
        'kms-url': { type: 'string' },
        'kms-params': { type: 'string' },
        'kms-ca': { type: 'string' },
        'skip-selftest': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`ibaked: ${(e as Error).message} (see --help)\n`);
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
  const log = (line: string) => process.stderr.write(`ibaked: ${line}\n`);
  let cfg;
  try {
    cfg = resolveConfig(
      {
        ...(values.config !== undefined ? { config: values.config } : {}),
        ...(values.socket !== undefined ? { socket: values.socket } : {}),
        ...(values.engine !== undefined ? { engine: values.engine } : {}),
        ...(values['max-in-flight'] !== undefined ? { maxInFlight: values['max-in-flight'] } : {}),
        ...(values['var-dir'] !== undefined ? { varDir: values['var-dir'] } : {}),
        ...(values['kms-url'] !== undefined ? { kmsUrl: values['kms-url'] } : {}),
        ...(values['kms-params'] !== undefined ? { kmsParams: values['kms-params'] } : {}),
        ...(values['kms-ca'] !== undefined ? { kmsCa: values['kms-ca'] } : {}),
        ...(values['skip-selftest'] ? { skipSelftest: true } : {}),
      },
      process.env,
      defaultSocketPath(),
    );
  } catch (e) {
    process.stderr.write(`ibaked: ${(e as Error).message}\n`);
    return 2;
  }
  let d;
  try {
    d = await startIbaked(cfg, log);
  } catch (e) {
    log(e instanceof IbakedError ? `${e.message} [${e.code}]; refusing to start` : `cannot start: ${(e as Error)?.message}`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await d.close();
  return 0;
}

if (process.env.IBAKED_DAEMON_ENTRY === '1') {
  runDaemon(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`ibaked: ${(e as Error)?.message ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
