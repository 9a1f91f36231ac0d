// Test helper: runs the `ibake` CLI in-process (no build needed) and captures its output, as text
// and as the exact octets written (binary plaintexts); `tty` pretends stdout is a terminal.
import { Readable } from 'node:stream';
import { main } from '../../src/cli/ibake.js';

export interface CliResult {
  code: number;
  stdout: string;
  /** every octet written to stdout, text and binary, in order */
  stdoutBytes: Buffer;
  stderr: string;
}

export async function runCli(argv: string[], stdin: string | Uint8Array = '', opts: { tty?: boolean } = {}): Promise<CliResult> {
  const out: Buffer[] = [];
  let stderr = '';
  const code = await main(argv, {
    stdin: Readable.from([Buffer.from(stdin)]),
    stdout: (s) => out.push(Buffer.from(s, 'utf8')),
    stdoutBytes: (b) => out.push(Buffer.from(b)),
    stdoutIsTTY: opts.tty === true,
    stderr: (s) => (stderr += s),
  });
  const stdoutBytes = Buffer.concat(out);
  return { code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr };
}
