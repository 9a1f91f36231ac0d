// The shape of one `ibake` sub-command and the small helpers every command shares: argument
// parsing with node:util.parseArgs (strict: unknown flags are errors), and a typed usage error.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { IbakedError } from '../util/errors.js';

export interface CliIO {
  stdin: NodeJS.ReadableStream;
  stdout: (s: string) => void;
  /** Raw octets to stdout (binary output); the implementation copies them before returning. */
  stdoutBytes: (b: Uint8Array) => void;
  /** True when stdout is a terminal (binary output is then refused: raw-output.ts). */
  stdoutIsTTY?: boolean;
  stderr: (s: string) => void;
}

export interface Command {
  /** e.g. "kms init" */
  readonly name: string;
  /** one line for `ibake --help` */
  readonly summary: string;
  /** full text for `ibake <name> --help` */
  readonly usage: string;
  /** returns the process exit code */
  run(argv: string[], io: CliIO): Promise<number>;
}

/** Bad command-line usage: printed as one line plus a hint, exit code 2. */
export class UsageError extends IbakedError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/** The parsed flags: a string or boolean per declared option (absent when not given), plus --help. */
export interface ParsedFlags<T extends FlagSpec> {
  values: { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string } & { help?: boolean };
  positionals: string[];
}

export function parseFlags<T extends FlagSpec>(argv: string[], options: T, allowPositionals = false): ParsedFlags<T> {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals }) as ParsedFlags<T>;
  } catch (e) {
    // parseArgs explains some mistakes over several lines (an option value that starts with a
    // dash, e.g. `--timeout -1`): the CLI prints one line per error
    throw new UsageError((e as Error).message.trim().replace(/\s*\n\s*/g, ' '));
  }
}

/** More input than a command reads (stdin is not read further). Exit status 1, one line. */
export class InputTooLargeError extends IbakedError {
  constructor(
    readonly what: string,
    readonly max: number,
  ) {
    super('INPUT_TOO_LARGE', `${what} holds more than ${max} octets`);
  }
}

/**
 * Reads all of stdin as bytes, at most `max` of them: past that it stops reading and throws
 * InputTooLargeError, so `ibake decode < /dev/zero` (or a stray multi-GB file) ends with one
 * line instead of buffering until memory runs out. What was read is zeroed then (it may be a
 * plaintext).
 */
export async function readAll(stream: NodeJS.ReadableStream, max: number, what = 'stdin'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    n += b.length;
    if (n > max) {
      for (const x of chunks) x.fill(0);
      b.fill(0);
      throw new InputTooLargeError(what, max);
    }
    chunks.push(b);
  }
  const all = Buffer.concat(chunks);
  for (const x of chunks) x.fill(0);
  return all;
}
