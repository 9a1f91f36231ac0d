// `ibake ibe encrypt`: Boneh–Franklin encryption of stdin to an identity (for the key period
// containing --date) under a KMS's public parameters; prints the DER ciphertext as base64.
import { encrypt } from '../ibe/index.js';
import { MAX_PLAINTEXT } from '../ibe/bls12381/bf.js';
import { parseFlags, readAll, UsageError, type Command } from './command.js';
import { IDENTITY_FLAGS, identityContext, toBase64 } from './ibe-cli-util.js';

export const command: Command = {
  name: 'ibe encrypt',
  summary: 'IBE-encrypt stdin to an identity (base64 DER ciphertext out)',
  usage: `usage: ibake ibe encrypt --params FILE --id URI [--date YYYY-MM-DD] [--engine ts|wasm|native]

Reads the plaintext (1 octet .. 1 MiB) from stdin and prints the BFCiphertextBlock (DER) in
base64. The recipient identity is URI ‖ 0x00 ‖ start of the params' key period containing
--date (default today, UTC).
`,
  async run(argv, io) {
    const { values } = parseFlags(argv, IDENTITY_FLAGS);
    const { engine, params, id } = await identityContext(values);
    const pt = new Uint8Array(await readAll(io.stdin, MAX_PLAINTEXT));
    if (pt.length === 0) throw new UsageError('empty plaintext on stdin');
    try {
      io.stdout(toBase64(await encrypt(params, id, pt, engine)) + '\n');
    } finally {
      pt.fill(0);
    }
    return 0;
  },
};
