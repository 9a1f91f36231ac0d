// KMS benchmark (tinybench, medians): one key request over loopback HTTP — client build +
// POST + server auth/extract/KEMAC + client MAC check, decrypt and pairing check — and the
// server's share alone (KmsService.handle on a fresh REQUEST_KEY_PSK), per available engine.
// Writes bench/results/kms-<YYYY-MM-DD>.json and .md via bench/lib/report.ts.
// Run: npm run bench:kms [-- --engines native,wasm,ts] [--time MS] [--out DIR]
import { randomBytes } from 'node:crypto';
import { Bench } from 'tinybench';
import { DEFAULT_LOADERS } from '../src/engine/select.js';
import type { Engine } from '../src/engine/types.js';
import { setup } from '../src/ibe/index.js';
import { buildParams } from '../src/ibe/params.js';
import { requestPrivateKey, startKmsServer, silentLogger, PskStore } from '../src/kms/index.js';
import { encodeKeyRequest } from '../src/kms/messages.js';
import { msToNtp64 } from '../src/kms/ntp.js';
import { KmsService } from '../src/kms/service.js';
import { benchArgs, taskMedian } from './lib/cli.js';
import { writeResults } from './lib/report.js';

const ARGS = benchArgs({
  name: 'kms',
  command: 'npm run bench:kms --',
  summary: 'One KMS key request over loopback HTTP (client and server together) and the server share alone, per engine.',
  flags: ['engines', 'time', 'out'],
  defaults: { time: 2000 },
});
const WANTED = ARGS.engines;
const TIME = ARGS.time;
const ALICE = 'sip:alice@example.org';
const PSK = '00112233445566778899aabbccddeeff';

const rows: { engine: string; task: string; medianMs: number; samples: number }[] = [];
for (const name of WANTED) {
  let engine: Engine;
  try {
    engine = await DEFAULT_LOADERS[name]();
  } catch {
    console.log(`${name}: not available, skipped`);
    continue;
  }
  const s = await setup('bls12381-bf', engine);
  const params = buildParams('urn:ibaked:kms:bench', 'month', s.params);
  const server = await startKmsServer({ master: s.master, params, users: { [ALICE]: PSK }, engine, port: 0, rateLimit: false, log: silentLogger });
  const service = new KmsService({ master: s.master, params, users: PskStore.fromTable({ [ALICE]: PSK }), engine, log: silentLogger, perUser: false });
  const psk = Buffer.from(PSK, 'hex');
  const bench = new Bench({ time: TIME, iterations: 5 });
  bench
    .add('key request over loopback HTTP (client + server, incl. pairing check)', async () => {
      const k = await requestPrivateKey({ url: server.url, identity: ALICE, psk: PSK, params, engine });
      k.key.fill(0);
    }, { async: true }) // declared: tinybench would otherwise call it once unawaited to find out
    .add('server only: KmsService.handle(REQUEST_KEY_PSK)', async () => {
      const body = encodeKeyRequest({ csbId: 1, tNtp: msToNtp64(Date.now()), rand: new Uint8Array(randomBytes(16)), identities: [ALICE], kmsId: params.kmsId }, psk);
      const r = await service.handle(body, '127.0.0.1');
      if (r.status !== 200) throw new Error(`status ${r.status}`);
    }, { async: true });
  await bench.run();
  for (const t of bench.tasks) {
    const { medianMs: med, samples } = taskMedian(t);
    rows.push({ engine: name, task: t.name, medianMs: Math.round(med * 1000) / 1000, samples });
    console.log(`${name}: ${t.name}: median ${med.toFixed(2)} ms`);
  }
  await server.close();
  service.close();
  s.master.fill(0);
}
const md = ['| engine | task | median (ms) | samples |', '|---|---|---|---|', ...rows.map((r) => `| ${r.engine} | ${r.task} | ${r.medianMs} | ${r.samples} |`)].join('\n');
const out = writeResults('kms', rows, `## KMS key request\n\nRun: \`npm run bench:kms\`\n\n${md}`, { dir: ARGS.out });
console.log(`results: ${out.md}`);
