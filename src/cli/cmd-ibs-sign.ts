// `ibake ibs sign`: Cha–Cheon identity-based signature (docs/ibe.md) of stdin with the signing
// key of --id for the key period containing --date; prints the 192-octet signature U ‖ V in
// base64. The key is checked first (e(P, d) = e(P_pub, Q_sig)): a key of another identity or
// period is IBE_BAD_KEY, exit 1.
import { sign, verifySigningKey } from '../ibe/index.js';
import { IbeError } from '../ibe/errors.js';
import { MAX_SIGNED_MESSAGE } from '../ibe/bls12381/ibs.js';
import { parseFlags, readAll, type Command } from './command.js';
import { IDENTITY_FLAGS, identityContext, parseBase64, required, toBase64 } from './ibe-cli-util.js';

export const command: Command = {
  name: 'ibs sign',
  summary: 'sign stdin with an identity-based signing key (base64 signature out)',
  usage: `usage: ibake ibs sign --params FILE --id URI --key B64 [--date YYYY-MM-DD]
                     [--engine ts|wasm|native]

Reads the message (0 octets .. 1 MiB) from stdin and prints its Cha–Cheon signature (U ‖ V,
192 octets, base64) under the signing identity URI ‖ 0x00 ‖ period-start ‖ 0x00 ‖ "sign" of
the params' key period containing --date (default today, UTC). --key is the signing key
(\`ibake kms extract --signing\`, "signingKey"). bls12381-bf KMSs only.
Exit 0 signed; 1 the key is not the signing key of --id for that period (IBE_BAD_KEY) or the
params are not bls12381-bf (IBE_BAD_PARAMS); 2 usage.
`,
  async run(argv, io) {
    const { values } = parseFlags(argv, { ...IDENTITY_FLAGS, key: { type: 'string' as const } });
    const key = parseBase64(required(values.key, 'key'), '--key');
    try {
      const { engine, params, id } = await identityContext(values);
      const msg = new Uint8Array(await readAll(io.stdin, MAX_SIGNED_MESSAGE));
      if (!(await verifySigningKey(params, id, key, engine))) {
        throw new IbeError('IBE_BAD_KEY', 'the key is not the signing key of --id for this key period');
      }
      io.stdout(toBase64(await sign(params, id, key, msg, engine)) + '\n');
      return 0;
    } finally {
      key.fill(0);
    }
  },
};
