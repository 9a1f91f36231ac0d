// `ibake ipc`: one request to a running ibaked from the shell (docs/daemon.md §1): connects to
// the socket, sends METHOD with JSON params (octet strings as {"$base64": …}), prints the reply
// {"ok": true, "result": …} or {"ok": false, "error": {code, message, reply?}} as one JSON line.
// Exit status: 0 ok, 1 error reply or no daemon, 2 usage.
import { IbakedClient, IpcError } from '../client/ipc.js';
import { defaultSocketPath } from '../daemon/paths.js';
import { parseFlags, UsageError, type Command } from './command.js';
import { fromJson, toJson } from './ipc-json.js';

/** Seconds `ibake ipc` and `ibake call --via` wait for a connection or a reply. */
export const DEFAULT_TIMEOUT_S = 30;

export const command: Command = {
  name: 'ipc',
  summary: 'send one request to a running ibaked and print the reply as JSON',
  usage: `usage: ibake ipc [--socket PATH] [--timeout S] METHOD [JSON-PARAMS]

Sends one request to ibaked and prints its reply as one JSON line:
  {"ok":true,"result":…}  or  {"ok":false,"error":{"code","message","reply"?}}
Octet strings (MIKEY messages, keys) are {"$base64":"…"} both ways; params may also use
{"$hex":"…"}. Methods and params: docs/daemon.md §2.

  --socket PATH   the daemon's socket (default $XDG_RUNTIME_DIR/ibaked.sock, else /run/ibaked/ibaked.sock)
  --timeout S     give up after S seconds without a connection or a reply (default 30):
                  error code IPC_TIMEOUT, exit status 1

Examples:
  ibake ipc ping
  ibake ipc identity.add '{"uri":"sip:alice@example.org"}'
  ibake ipc decode '{"message":{"$base64":"AQYA…"}}'
Exit status: 0 ok, 1 error reply or daemon unreachable, 2 usage.
`,
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, { socket: { type: 'string' }, timeout: { type: 'string' } }, true);
    const timeout = values.timeout === undefined ? DEFAULT_TIMEOUT_S : Number(values.timeout);
    if (!/^\d+(\.\d+)?$/.test(String(values.timeout ?? DEFAULT_TIMEOUT_S)) || !(timeout > 0 && timeout <= 86400)) throw new UsageError('--timeout must be a number of seconds in (0, 86400]');
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError('expected METHOD [JSON-PARAMS]');
    const [method, json] = positionals as [string, string | undefined];
    let params: unknown = {};
    if (json !== undefined) {
      try {
        params = JSON.parse(json);
      } catch (e) {
        throw new UsageError(`JSON-PARAMS is not valid JSON: ${(e as Error).message}`);
      }
      if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new UsageError('JSON-PARAMS must be a JSON object');
      params = fromJson(params);
    }
    const c = await IbakedClient.connect((values.socket as string | undefined) ?? defaultSocketPath(), { timeoutMs: timeout * 1000 });
    try {
      const result = await c.request(method, params as Record<string, unknown>);
      io.stdout(JSON.stringify({ ok: true, result: toJson(result) }) + '\n');
      return 0;
    } catch (e) {
      if (!(e instanceof IpcError)) throw e;
      io.stdout(JSON.stringify({ ok: false, error: { code: e.code, message: e.message, ...(e.reply ? { reply: toJson(e.reply) } : {}) } }) + '\n');
      return 1;
    } finally {
      c.close();
    }
  },
};
