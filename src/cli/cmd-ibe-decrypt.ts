// `ibake ibe decrypt`: checks that --key is the private key of --id for the period, then
// decrypts the base64 DER ciphertext on stdin. Any tampering, wrong key or wrong identity ends
// in one error line and a non-zero exit; nothing of the plaintext is printed in that case.
import { decrypt } from '../ibe/index.js';
import { loadParamsFile } from '../kms/master.js';
import { parseFlags, readAll, UsageError, type Command } from './command.js';
import { engineFlag, identityFlag, parseBase64, required, timeFlag, toBase64 } from './ibe-cli-util.js';

export const command: Command = {
  name: 'ibe decrypt',
  summary: 'IBE-decrypt a base64 ciphertext from stdin with a private key',
  usage: `usage: ibake ibe decrypt --params FILE --id URI --key B64 [--date YYYY-MM-DD]
                        [--engine ts|wasm|native] [--b64]

Reads a base64 BFCiphertextBlock from stdin and writes the plaintext to stdout (as text; use
--b64 to print it as base64, required for binary plaintexts). Exit 1 with one line
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
    const id = identityFlag(uri, time, params);
    const ct = parseBase64((await readAll(io.stdin)).toString('utf8'), 'ciphertext on stdin');
    try {
      const pt = await decrypt(params, id, key, ct, engine);
      try {
        if (values.b64) {
          io.stdout(toBase64(pt) + '\n');
        } else {
          let text: string;
          try {
            text = new TextDecoder('utf-8', { fatal: true }).decode(pt);
          } catch {
            throw new UsageError('plaintext is not UTF-8 text; rerun with --b64');
          }
          io.stdout(text);
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
