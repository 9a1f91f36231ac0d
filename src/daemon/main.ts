// `ibaked`: the long-running sidecar (DESIGN §6). Selects the pairing engine, runs the power-on
// self-test on it (refusing to serve if it fails), then serves the IPC socket until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { startDaemon } from './server.js';
import { buildHandlers } from './methods.js';

const USAGE = `usage: ibaked [--socket PATH] [--engine native|wasm|ts] [--max-in-flight N] [--skip-selftest]

Serves MIKEY-IBAKE key exchanges to local media apps over a Unix-domain socket
(4-octet big-endian length + one msgpack map per frame; frames over 64 KiB are refused).

  --socket PATH       socket path (default $XDG_RUNTIME_DIR/ibaked.sock, else /run/ibaked/ibaked.sock)
  --engine NAME       force a pairing engine (default: native, else wasm, else ts; env IBAKED_ENGINE)
  --max-in-flight N   requests admitted at once before replying OVERLOADED (default 256)
  --skip-selftest     do not run the power-on known-answer tests (development only)
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
        socket: { type: 'string' },
        engine: { type: 'string' },
        'max-in-flight': { type: 'string' },
        'skip-selftest': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
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
  const maxInFlight = values['max-in-flight'] === undefined ? 256 : Number(values['max-in-flight']);
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > 100_000) {
    process.stderr.write('ibaked: --max-in-flight must be an integer in 1..100000\n');
    return 2;
  }
  const engineName = values.engine ?? process.env.IBAKED_ENGINE;
  if (engineName !== undefined && !['native', 'wasm', 'ts'].includes(engineName)) {
    process.stderr.write(`ibaked: unknown engine '${engineName}' (native|wasm|ts)\n`);
    return 2;
  }
  const log = (line: string) => process.stderr.write(`ibaked: ${line}\n`);
  const { handlers, engineInfo, selftest } = await buildHandlers({ engine: engineName as 'native' | 'wasm' | 'ts' | undefined, log });
  log(`engine ${engineInfo.name} (${engineInfo.reason})`);
  if (!values['skip-selftest']) {
    const st = await selftest();
    if (st.failed > 0) {
      log(`self-test FAILED (${st.failed} of ${st.passed + st.failed} checks); refusing to start`);
      return 1;
    }
    log(`self-test passed (${st.passed} checks)`);
  }
  const socketPath = values.socket ?? defaultSocketPath();
  const d = await startDaemon({ socketPath, handlers, maxInFlight, log });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await d.close();
  log('stopped');
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
