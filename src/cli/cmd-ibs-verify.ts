// `ibake ibs verify`: checks a Cha–Cheon identity-based signature (docs/ibe.md) of stdin by --id
// for the key period containing --date. Prints "valid" and exits 0, or one error line and exits
// 1 (IBE_SIGNATURE_INVALID: well-formed but wrong; IBE_BAD_SIGNATURE: malformed U or V).
import { verify } from '../ibe/index.js';
import { IbeError } from '../ibe/errors.js';
import { MAX_SIGNED_MESSAGE } from '../ibe/bls12381/ibs.js';
import { parseFlags, readAll, type Command } from './command.js';
import { IDENTITY_FLAGS, identityContext, parseBase64, required } from './ibe-cli-util.js';

export const command: Command = {
  name: 'ibs verify',
  summary: 'verify an identity-based signature of stdin',
  usage: `usage: ibake ibs verify --params FILE --id URI --sig B64 [--date YYYY-MM-DD]
                       [--engine ts|wasm|native]

Reads the message from stdin and checks --sig (base64 of U ‖ V, 192 octets) against the signing
identity URI ‖ 0x00 ‖ period-start ‖ 0x00 ‖ "sign" of the params' key period containing --date
(default today, UTC), as e(P, V) = e(P_pub, U + [h]Q_sig).
Exit 0 and "valid" on stdout; 1 with one line: IBE_SIGNATURE_INVALID (another message, identity,
period or KMS), IBE_BAD_SIGNATURE (wrong length, U or V not a valid G2 point), IBE_BAD_PARAMS
(not a bls12381-bf KMS); 2 usage (missing flag, bad base64, bad URI or date).
`,
  async run(argv, io) {
    const { values } = parseFlags(argv, { ...IDENTITY_FLAGS, sig: { type: 'string' as const } });
    const sig = parseBase64(required(values.sig, 'sig'), '--sig');
    const { engine, params, id } = await identityContext(values);
    const msg = new Uint8Array(await readAll(io.stdin, MAX_SIGNED_MESSAGE));
    if (!(await verify(params, id, msg, sig, engine))) {
      throw new IbeError('IBE_SIGNATURE_INVALID', 'the signature does not verify for --id in this key period');
    }
    io.stdout('valid\n');
    return 0;
  },
};
