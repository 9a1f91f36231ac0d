// `ibake kms init`: creates a KMS directory — a fresh master secret (DIR/master.key, mode 0600)
// and the public parameters (DIR/params.json) — and prints the parameters. Never overwrites.
import { DEFAULT_PERIOD, DEFAULT_SUITE, IBE_SUITES, PERIOD_KINDS, validateUri } from '../ibe/index.js';
import { paramsToJson } from '../ibe/params.js';
import { initKmsDir } from '../kms/master.js';
import { parseFlags, UsageError, type Command } from './command.js';
import { engineFlag, oneOf, required } from './ibe-cli-util.js';

const DEFAULT_KMS_ID = 'urn:ibaked:kms:local';

export const command: Command = {
  name: 'kms init',
  summary: 'create a KMS directory: master secret (0600) and public params',
  usage: `usage: ibake kms init --dir DIR [--suite bls12381-bf|rfc5091-bf] [--period month|week|day]
                      [--kms-id URI] [--level 1024|2048|3072] [--engine ts|wasm|native]

Creates DIR (mode 0700) with DIR/master.key (the IBE master secret, mode 0600) and
DIR/params.json (public parameters with their SHA-256 fingerprint), then prints params.json.
Refuses a DIR that already holds a KMS; never overwrites a master key.

  --dir DIR       KMS directory (required)
  --suite S       bls12381-bf (default; BF on BLS12-381) or rfc5091-bf (RFC 5091 type-1 curves)
  --period P      key period published with the params: month (default), week (ISO, Monday), day
  --kms-id URI    this KMS's identifier (default ${DEFAULT_KMS_ID})
  --level N       rfc5091-bf only: RFC 5091 security parameter (1024: |p|=512 SHA-1,
                  2048 (default): |p|=1024 SHA-224, 3072: |p|=1536 SHA-256)
  --engine E      pairing engine for bls12381-bf (default: best available)

Exit 0 created; 1 with one line if DIR already holds a KMS or cannot be written (KMS_CONFIG);
2 usage (missing --dir, unknown suite, period or level).
`,
  async run(argv, io) {
    const { values } = parseFlags(argv, {
      dir: { type: 'string' },
      suite: { type: 'string' },
      period: { type: 'string' },
      'kms-id': { type: 'string' },
      level: { type: 'string' },
      engine: { type: 'string' },
    });
    const dir = required(values.dir, 'dir');
    const suite = oneOf(values.suite, IBE_SUITES, 'suite', DEFAULT_SUITE);
    const period = oneOf(values.period, PERIOD_KINDS, 'period', DEFAULT_PERIOD);
    const kmsId = values['kms-id'] ?? DEFAULT_KMS_ID;
    try {
      validateUri(kmsId);
    } catch (e) {
      throw new UsageError(`--kms-id: ${(e as Error).message}`);
    }
    const levelStr = oneOf(values.level, ['1024', '2048', '3072'] as const, 'level');
    if (levelStr !== undefined && suite !== 'rfc5091-bf') throw new UsageError('--level applies only to --suite rfc5091-bf');
    const engine = suite === 'bls12381-bf' ? await engineFlag(values.engine) : undefined;
    if (suite !== 'bls12381-bf') oneOf(values.engine, ['ts', 'wasm', 'native'] as const, 'engine');
    const params = await initKmsDir(dir, {
      suite,
      period,
      kmsId,
      engine,
      rfc5091Level: levelStr === undefined ? undefined : (Number(levelStr) as 1024 | 2048 | 3072),
    });
    io.stdout(paramsToJson(params));
    return 0;
  },
};
