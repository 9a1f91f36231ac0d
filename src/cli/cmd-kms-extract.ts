// `ibake kms extract`: issues the private key of one identity for the period containing
// --date (default: today, UTC) from a KMS directory, as one JSON line {"id","period","key"}.
import { extract, extractSigningKey, identityFor } from '../ibe/index.js';
import { loadKmsDir } from '../kms/master.js';
import { parseFlags, UsageError, type Command } from './command.js';
import { engineFlag, required, timeFlag, toBase64 } from './ibe-cli-util.js';

export const command: Command = {
  name: 'kms extract',
  summary: 'issue the private key of an identity for a key period',
  usage: `usage: ibake kms extract --dir DIR --id URI [--date YYYY-MM-DD] [--signing]
                         [--engine ts|wasm|native]

Prints one JSON line {"id": URI, "period": "YYYY-MM-DD", "key": base64} where period is the
start of the KMS's key period containing --date (default today, UTC) and key is the private
key (bls12381-bf: 96-octet compressed G2; rfc5091-bf: DER BFPrivateKeyBlock).
With --signing (bls12381-bf only) the line also has "signingKey": the Cha–Cheon signing key
of URI ‖ 0x00 ‖ period ‖ 0x00 ‖ "sign" (96-octet compressed G2, base64; \`ibake ibs sign\`).
Treat the output as secret.
Exit 0 printed; 1 with one line if DIR holds no readable KMS (KMS_CONFIG) or --signing is asked
of an rfc5091-bf KMS; 2 usage (missing flag, bad URI or date).
`,
  async run(argv, io) {
    const { values } = parseFlags(argv, {
      dir: { type: 'string' },
      id: { type: 'string' },
      date: { type: 'string' },
      engine: { type: 'string' },
      signing: { type: 'boolean' },
    });
    const dir = required(values.dir, 'dir');
    const uri = required(values.id, 'id');
    const time = timeFlag(values.date);
    const engine = await engineFlag(values.engine);
    const { params, master } = await loadKmsDir(dir, engine);
    try {
      let ident;
      try {
        ident = identityFor(uri, time, params.period);
      } catch (e) {
        throw new UsageError(`--id: ${(e as Error).message}`);
      }
      const key = await extract(master, params, ident.bytes, engine);
      const sig = values.signing ? await extractSigningKey(master, params, ident.bytes, engine) : undefined;
      io.stdout(JSON.stringify({ id: ident.uri, period: ident.period, key: toBase64(key), ...(sig ? { signingKey: toBase64(sig) } : {}) }) + '\n');
      key.fill(0);
      sig?.fill(0);
      return 0;
    } finally {
      master.fill(0);
    }
  },
};
