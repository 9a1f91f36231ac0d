// Plaintext octets on stdout, as they are, with the guard of `age -d`: binary output is refused
// only when stdout is a terminal (where it would garble the screen or smuggle escape sequences);
// a pipe or a file gets the raw octets whatever they are. `--b64` is the way to see binary on a
// terminal.
import { UsageError, type CliIO } from './command.js';

// C0 controls other than TAB, LF, CR; DEL; C1 controls (ESC and CSI can drive the terminal)
const CONTROL = /[\u0000-\u0008\u000b-\u000c\u000e-\u001f\u007f-\u009f]/;

/** True when the octets are UTF-8 text without control characters (TAB, LF and CR allowed). */
export function isPrintableText(octets: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(octets);
  } catch {
    return false;
  }
  return !CONTROL.test(text);
}

/** Writes the octets to stdout; refuses (usage error, nothing written) binary on a terminal. */
export function writeRaw(io: CliIO, octets: Uint8Array): void {
  if (io.stdoutIsTTY && !isPrintableText(octets)) {
    throw new UsageError('the plaintext is not printable text and stdout is a terminal: rerun with --b64, or redirect stdout to a file or a pipe');
  }
  io.stdoutBytes(octets);
}
