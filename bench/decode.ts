// Decode throughput of the MIKEY codec (tinybench, medians): a typical I_MESSAGE_1 (2 SRTP crypto
// sessions, T, RAND, IDRi, IDRr, SP, a 260-octet IBAKE ciphertext ≈ BF FullIdent on BLS12-381 of
// IDRi‖ECCPTi‖IDRr), plus its encoding, an R_MESSAGE_2 decode and the `ibake decode` rendering.
// Writes bench/results/decode-<YYYY-MM-DD>.json and .md via bench/lib/report.ts.
// Run: npm run bench:decode [-- --json] [--out DIR]
import { randomBytes } from 'node:crypto';
import { Bench } from 'tinybench';
import { buildIMessage1, buildRMessage2, decodeMessage, encodeMessage, ntpTime, type SpPayload } from '../src/mikey/index.js';
import { describeMessage } from '../src/mikey/describe.js';
import { benchArgs } from './lib/cli.js';
import { describeMachine, writeResults } from './lib/report.js';

const ARGS = benchArgs({
  name: 'decode',
  command: 'npm run bench:decode --',
  summary: 'MIKEY codec throughput: decoding and encoding a typical I_MESSAGE_1, decoding an R_MESSAGE_2, and the `ibake decode` rendering.',
  flags: ['json', 'out'],
});
const json = ARGS.json;

const sp: SpPayload = {
  kind: 'SP',
  policyNo: 0,
  protType: 0,
  params: [[0, 1], [1, 16], [2, 1], [3, 20], [4, 14], [7, 1], [8, 1], [10, 1], [11, 10]].map(([type, v]) => ({ type: type!, value: Uint8Array.of(v!) })),
};
const i1 = buildIMessage1({
  csbId: 0x5eed1234,
  csMap: { type: 0, entries: [{ policyNo: 0, ssrc: 0x1a2b3c4d, roc: 0 }, { policyNo: 0, ssrc: 0, roc: 0 }] },
  t: ntpTime(),
  rand: randomBytes(16),
  idri: 'sip:alice@example.org',
  idrr: 'sip:bob@example.org',
  sp: [sp],
  ibake: randomBytes(260),
});
const i1Bytes = encodeMessage(i1);
const r2Bytes = encodeMessage(buildRMessage2({ request: i1.header, t: ntpTime(), idri: 'sip:alice@example.org', idrr: 'sip:bob@example.org', mac: randomBytes(20) }));
const i1Decoded = decodeMessage(i1Bytes);

const bench = new Bench({ time: 1000, warmupTime: 200 });
bench
  .add(`decodeMessage I_MESSAGE_1 (${i1Bytes.length} octets)`, () => void decodeMessage(i1Bytes))
  .add(`encodeMessage I_MESSAGE_1 (${i1Bytes.length} octets)`, () => void encodeMessage(i1))
  .add(`decodeMessage R_MESSAGE_2 (${r2Bytes.length} octets)`, () => void decodeMessage(r2Bytes))
  .add('describeMessage I_MESSAGE_1 (ibake decode rendering)', () => void describeMessage(i1Decoded));
await bench.run();

interface Row {
  task: string;
  messagesPerSecondMedian: number;
  latencyMedianUs: number;
  samples: number;
}
const rows: Row[] = bench.tasks.map((t) => {
  const r = t.result as { latency?: { p50?: number; samplesCount?: number }; throughput?: { p50?: number } } | undefined;
  const p50 = r?.latency?.p50 ?? NaN;
  return {
    task: t.name,
    messagesPerSecondMedian: Math.round(r?.throughput?.p50 ?? 1000 / p50),
    latencyMedianUs: Math.round(p50 * 1000 * 100) / 100,
    samples: r?.latency?.samplesCount ?? 0,
  };
});
const machine = describeMachine();
const md = [
  '## Results (medians)',
  '',
  '| task | messages/s | latency µs |',
  '|---|---:|---:|',
  ...rows.map((r) => `| ${r.task} | ${r.messagesPerSecondMedian.toLocaleString('en-US')} | ${r.latencyMedianUs} |`),
  '',
  'Reproduce: `npm run bench:decode` (tinybench, 1 s per task after 200 ms warm-up).',
].join('\n');
const files = writeResults('decode', rows.map((r) => ({ ...r, machine })), md, { dir: ARGS.out });
if (json) {
  console.log(JSON.stringify({ machine, rows, files }, null, 2));
} else {
  for (const r of rows) console.log(`${r.task}: ${r.messagesPerSecondMedian.toLocaleString('en-US')} msg/s (median latency ${r.latencyMedianUs} µs)`);
  console.log(`written: ${files.json}, ${files.md}`);
}
