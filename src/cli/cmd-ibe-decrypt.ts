// `ibake ibe decrypt`: checks that --key is the private key of --id for the period, then
// decrypts the base64 DER ciphertext on stdin and writes the plaintext's raw octets to stdout
// (refused only for binary on a terminal, as `age -d` does; --b64 prints base64). Any tampering,
// wrong key or wrong identity ends in one error line and a non-zero exit; nothing of the
// plaintext is printed in that case.
import { decrypt } from '../ibe/index.js';
import { MAX_PLAINTEXT } from '../ibe/bls12381/bf.js';

/** stdin bound: the base64 of the largest ciphertext (a 1 MiB plaintext, both suites) is under 1.5 MiB. */
const MAX_CIPHERTEXT_TEXT = 2 * MAX_PLAINTEXT;
import { parseFlags, readAll, type Command } from './command.js';
import { IDENTITY_FLAGS, identityContext, parseBase64, required, toBase64 } from './ibe-cli-util.js';
import { writeRaw } from './raw-output.js';

export const command: Command = {
  name: 'ibe decrypt',
  summary: 'IBE-decrypt a base64 ciphertext from stdin with a private key',
  usage: `usage: ibake ibe decrypt --params FILE --id URI --key B64 [--date YYYY-MM-DD]
                        [--engine ts|wasm|native] [--b64]

Reads a base64 BFCiphertextBlock from stdin (one line, or wrapped as base64/openssl print it)
and writes the plaintext's octets to stdout as they are (binary too: redirect to a file or a
pipe). When stdout is a terminal and the plaintext is
not printable text, it refuses (exit 2) rather than garble the terminal: use --b64 to print
base64 instead, or redirect. Exit 1 with one line
(IBE_DECRYPT_FAILED / IBE_BAD_KEY) if the ciphertext was altered or the key does not belong to
--id for the key period containing --date (default today, UTC).
`,
  async run(argv, io) {
    const { values } = parseFlags(argv, { ...IDENTITY_FLAGS, key: { type: 'string' as const }, b64: { type: 'boolean' as const } });
    const key = parseBase64(required(values.key, 'key'), '--key');
    try {
      const { engine, params, id } = await identityContext(values);
      const ct = parseBase64((await readAll(io.stdin, MAX_CIPHERTEXT_TEXT)).toString('utf8'), 'ciphertext on stdin', { lines: true });
      const pt = await decrypt(params, id, key, ct, engine);
      try {
        if (values.b64) {
          io.stdout(toBase64(pt) + '\n');
        } else {
          writeRaw(io, pt);
        }
      } finally {
        pt.fill(0);
      }
    } finally {
      key.fill(0);
    }
    return 0;
  },
};
