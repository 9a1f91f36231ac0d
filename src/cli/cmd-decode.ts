// `ibake decode [--json] [MESSAGE|-]`: reads one MIKEY message (base64, hex, an
// `a=key-mgmt:mikey …` line, or a whole SDP/SIP text containing one) and prints every field as a
// tree, or as JSON. Exit 0 when well formed, 1 when malformed (typed error with code and an
// integer offset — the byte of the message, or for MIKEY_INPUT the character of the input text,
// 0 for empty input: one line on stderr, or {"error":{…}} on stdout with --json). No curves are
// loaded.
import { InputTooLargeError, UsageError, parseFlags, readAll, type CliIO, type Command } from './command.js';
import { MikeyError, decodeMessage, parseMessageText } from '../mikey/index.js';
import { describeMessage } from '../mikey/describe.js';
import { MAX_STDIN_TEXT, MAX_TEXT } from '../mikey/text.js';

/** stdin as text, read up to MAX_STDIN_TEXT octets; more is MIKEY_INPUT like any over-long input. */
async function readStdinText(io: CliIO): Promise<string> {
  try {
    return (await readAll(io.stdin, MAX_STDIN_TEXT)).toString('utf8');
  } catch (e) {
    if (!(e instanceof InputTooLargeError)) throw e;
    throw new MikeyError('MIKEY_INPUT', MAX_TEXT, `input is more than ${MAX_STDIN_TEXT} octets, at most ${MAX_TEXT} characters are read`, 'character');
  }
}

const usage = `usage: ibake decode [--json] [MESSAGE|-]

Decodes one MIKEY message (RFC 3830 / RFC 6267 MIKEY-IBAKE) and names every field.
MESSAGE is base64, hex, or a whole "a=key-mgmt:mikey <base64>" SDP line; with no
MESSAGE or "-", it is read from stdin (an SDP body or SIP message with one
a=key-mgmt:mikey line works too). IBAKE / ESK ciphertexts are shown as opaque bytes.

options:
  --json      print JSON: {"version","dataType","csbId","prf","v","cs","payloads":[...]}
  -h, --help  this text

exit status: 0 well formed, 1 malformed, 2 usage. A malformed message gives its error code, the
offset where decoding failed and the reason: one line on stderr, or with --json
{"error":{"code","offset","message"}} on stdout. The offset is the byte of the message, or for
MIKEY_INPUT (text that is not base64/hex/a key-mgmt line) the character of the input (0: empty).`;

export const command: Command = {
  name: 'decode',
  summary: 'decode a MIKEY message (base64, hex or a=key-mgmt line) into named fields',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, { json: { type: 'boolean' } }, true);
    if (positionals.length > 1) throw new UsageError('give at most one MESSAGE');
    const arg = positionals[0];
    try {
      const text = arg === undefined || arg === '-' ? await readStdinText(io) : arg;
      const { bytes, format } = parseMessageText(text);
      const m = decodeMessage(bytes);
      const d = describeMessage(m);
      if (values.json) {
        io.stdout(JSON.stringify({ ...d.json, inputFormat: format }, null, 2) + '\n');
      } else {
        io.stdout(d.text.replace(/^(MIKEY message, \d+ bytes)/, `$1 (from ${format})`));
      }
      return 0;
    } catch (e) {
      if (!(e instanceof MikeyError)) throw e;
      const offset = Math.max(e.offset, 0); // every error has a position; the start when none is tied to one
      if (values.json) {
        io.stdout(JSON.stringify({ error: { code: e.code, offset, message: e.reason } }) + '\n');
      } else {
        io.stderr(`ibake decode: ${e.code} at ${e.unit} ${offset}: ${e.reason}\n`);
      }
      return 1;
    }
  },
};
