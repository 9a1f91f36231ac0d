// `ibake ibe decrypt`: checks that --key is the private key of --id for the period, then
// decrypts the base64 DER ciphertext on stdin and writes the plaintext's raw octets to stdout
// (refused only for binary on a terminal, as `age -d` does; --b64 prints base64). Any tampering,
// wrong key or wrong identity ends in one error line and a non-zero exit; nothing of the
// plaintext is printed in that case.
import { decrypt, identityFor } from '../ibe/index.js';
import { loadParamsFile } from '../kms/master.js';
import { parseFlags, readAll, UsageError, type Command } from './command.js';
import { engineFlag, parseBase64, required, timeFlag, toBase64 } from './ibe-cli-util.js';
import { writeRaw } from './raw-output.js';

export const command: Command = {
  name: 'ibe decrypt',
  summary: 'IBE-decrypt a base64 ciphertext from stdin with a private key',
  usage: `usage: ibake ibe decrypt --params FILE --id URI --key B64 [--date YYYY-MM-DD]
                        [--engine ts|wasm|native] [--b64]

Reads a base64 BFCiphertextBlock from stdin and writes the plaintext's octets to stdout as they
are (binary too: redirect to a file or a pipe). When stdout is a terminal and the plaintext is
not printable text, it refuses (exit 2) rather than garble the terminal: use --b64 to print
base64 instead, or redirect. Exit 1 with one line
(IBE_DECRYPT_FAILED / IBE_BAD_KEY) if the ciphertext was altered or the key does not belong to
--id for the key period containing --date (default today, UTC).
`,
  async run(argv, io) {
    const { values } = parseFlags(argv, {
      params: { type: 'string' },
      id: { type: 'string' },
      key: { type: 'string' },
      date: { type: 'string' },
      engine: { type: 'string' },
      b64: { type: 'boolean' },
    });
    const file = required(values.params, 'params');
    const uri = required(values.id, 'id');
    const key = parseBase64(required(values.key, 'key'), '--key');
    const time = timeFlag(values.date);
    const engine = await engineFlag(values.engine);
    const params = await loadParamsFile(file, engine);
    let id;
    try {
      id = identityFor(uri, time, params.period).bytes;
    } catch (e) {
      throw new UsageError(`--id: ${(e as Error).message}`);
    }
    const ct = parseBase64((await readAll(io.stdin)).toString('utf8'), 'ciphertext on stdin');
    try {
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
