// `ibake`: the operator's command-line tool. Dispatches to one module per command, loaded on
// demand so `ibake decode` does not pay for the pairing engines. Errors become one line on
// stderr and a non-zero exit, never a stack trace (set IBAKED_DEBUG=1 to see one).
import { selectEngine } from '../engine/select.js';
import { IbakedError } from '../util/errors.js';
import { packageVersion } from '../util/version.js';
import { UsageError, type CliIO, type Command } from './command.js';

/** command name -> module (relative to this file) exporting `command: Command` (or `#name`: that export). */
const COMMANDS: Record<string, string> = {
  selftest: './cmd-selftest.js',
  'kms init': './cmd-kms-init.js',
  'kms extract': './cmd-kms-extract.js',
  'kms serve': './cmd-kms-serve.js',
  'ibe encrypt': './cmd-ibe-encrypt.js',
  'ibe decrypt': './cmd-ibe-decrypt.js',
  'ibs sign': './cmd-ibs-sign.js',
  'ibs verify': './cmd-ibs-verify.js',
  decode: './cmd-decode.js',
  call: './cmd-call.js',
  'sdp offer': './cmd-sdp.js#offer',
  'sdp answer': './cmd-sdp.js#answer',
  'sdp extract': './cmd-sdp.js#extract',
  ipc: './cmd-ipc.js',
};

async function loadCommand(name: string): Promise<Command | undefined> {
  const entry = COMMANDS[name];
  if (!entry) return undefined;
  const [path, exported = 'command'] = entry.split('#') as [string, string?];
  try {
    const mod = (await import(new URL(path, import.meta.url).href)) as Record<string, Command>;
    return mod[exported];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(path.slice(2))) {
      return undefined;
    }
    throw e;
  }
}

async function topHelp(io: CliIO): Promise<void> {
  const lines = ['usage: ibake <command> [options]   (ibake <command> --help for details)', '       ibake --version', '', 'commands:'];
  for (const name of Object.keys(COMMANDS)) {
    const c = await loadCommand(name);
    if (c) lines.push(`  ${name.padEnd(14)} ${c.summary}`);
  }
  io.stdout(lines.join('\n') + '\n');
}

/** The package version, and the pairing engine this process would use and why (engine/select.ts). */
async function version(io: CliIO): Promise<void> {
  let engine: string;
  try {
    engine = (await selectEngine()).reason;
  } catch (e) {
    engine = `none (${(e as Error).message})`;
  }
  io.stdout(`ibake (ibaked) ${packageVersion()}\nengine: ${engine}\n`);
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  try {
    if (argv.length === 1 && argv[0] === '--version') {
      await version(io);
      return 0;
    }
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      await topHelp(io);
      return argv.length === 0 ? 2 : 0;
    }
    const two = argv.length >= 2 ? `${argv[0]} ${argv[1]}` : '';
    let name = COMMANDS[two] ? two : argv[0]!;
    let rest = COMMANDS[two] ? argv.slice(2) : argv.slice(1);
    const cmd = await loadCommand(name);
    if (!cmd) {
      const group = Object.keys(COMMANDS).filter((n) => n.startsWith(argv[0] + ' '));
      if (group.length > 0) {
        io.stderr(`ibake ${argv[0]}: expected one of: ${group.map((g) => g.split(' ')[1]).join(', ')}\n`);
      } else {
        io.stderr(`ibake: unknown command '${argv[0]}' (try ibake --help)\n`);
      }
      return 2;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(cmd.usage.endsWith('\n') ? cmd.usage : cmd.usage + '\n');
      return 0;
    }
    name = cmd.name;
    return await cmd.run(rest, io);
  } catch (e) {
    if (process.env.IBAKED_DEBUG === '1') io.stderr(String((e as Error).stack) + '\n');
    if (e instanceof UsageError) {
      io.stderr(`ibake: ${e.message} (see --help)\n`);
      return 2;
    }
    if (e instanceof IbakedError) {
      io.stderr(`ibake: ${e.code}: ${e.message}\n`);
      return 1;
    }
    io.stderr(`ibake: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    return 70;
  }
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain || process.env.IBAKE_CLI_ENTRY === '1') {
  void main(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: (s) => process.stdout.write(s),
    // a copy: the caller zeroes its plaintext buffer right after, while the write may be pending
    stdoutBytes: (b) => process.stdout.write(Buffer.from(b)),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderr: (s) => process.stderr.write(s),
  }).then((code) => {
    process.exitCode = code;
  });
}
