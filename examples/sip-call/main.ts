// `npm run example:sip-call`: runs the example (two SIP user agents, two ibaked daemons, one KMS,
// GStreamer SRTP both ways) and prints what happened. Exit 0 when every check passed, 1 when one
// failed, 2 on usage errors.
import { parseArgs } from 'node:util';
import { runSipCall, type SipCallOptions, type SipCallReport } from './call.js';

const usage = `usage: npm run example:sip-call -- [--profile P] [--packets N] [--no-rekey] [--no-wrong-key]
                                   [--no-pcap] [--keep] [--json] [--engine native|wasm|ts]

Places a MIKEY-IBAKE call between sip:alice@example.org and sip:bob@example.org on loopback
(INVITE / 200 / ACK / UPDATE / 200, keys from two ibaked daemons sharing a KMS), sends RTP and
RTCP both ways through GStreamer srtpenc -> srtpdec, and checks every packet decrypts
byte-identical; a decoder keyed from another call must fail on every packet; a CSB update in
mid-stream moves both sides to new keys; the SIP capture must dissect in tshark.

  --profile P    AES_CM_128_HMAC_SHA1_80 (default), AES_CM_128_HMAC_SHA1_32,
                 AES_256_CM_HMAC_SHA1_80 or AEAD_AES_128_GCM
  --packets N    RTP packets per direction, 10..20000 (default 200; with the CSB update,
                 half before it and half after)
  --no-rekey     skip the CSB update in mid-stream
  --no-wrong-key skip the decoder keyed from another call
  --no-pcap      skip the SIP capture and its tshark check
  --engine E     pairing engine of both daemons: native, wasm or ts (default: their own choice)
  --keep         keep the temporary directory (pcap, configurations) and print its path
  --json         print the whole report as JSON

Every step (daemon start, SIP transaction, media drain) has a 20 s timeout and a 90 s watchdog
stops every child process; so do SIGINT and SIGTERM. Exit status: 0 every check passed, 1 a
check failed, 2 usage, 130 / 143 stopped by SIGINT / SIGTERM.`;

const PROFILES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const;

function human(r: SipCallReport): string {
  const L: string[] = [];
  L.push(`SIP signalling (${r.sip.length} datagrams):`);
  for (const s of r.sip) L.push(`  ${s}`);
  L.push(`keys agree on both sides: ${r.keysAgree}; alice learned bob's SSRC from R_MESSAGE_1: ${r.learnedSsrcFromR1}`);
  const dir = (d: SipCallReport['media'][number]) =>
    `  ${d.from} -> ${d.to} ssrc 0x${d.ssrc.toString(16)}: sent ${d.sent.rtp} RTP + ${d.sent.rtcp} RTCP; srtpdec gave back ${d.decrypted.rtp} + ${d.decrypted.rtcp} byte-identical, ${d.mismatched} different, ${d.authFailures} auth failures; independent check of the wire: ${d.tapVerified.rtp}/${d.tapSeen.rtp} SRTP, ${d.tapVerified.rtcp}/${d.tapSeen.rtcp} SRTCP`;
  L.push(`media (${r.profile}${r.rekey ? ', before the CSB update' : ''}):`, ...r.media.map(dir));
  if (r.rekey) L.push(`after the CSB update (keys changed: ${r.rekey.keysChanged}):`, ...r.rekey.after.map(dir));
  if (r.wrongKey) L.push(`decoder with another call's key: ${r.wrongKey.decrypted} packets decrypted, ${r.wrongKey.authFailures} of ${r.wrongKey.sent.rtp + r.wrongKey.sent.rtcp} failed authentication`);
  if (r.pcap) {
    L.push(`tshark on the SIP pcap${r.pcap.file ? ` (${r.pcap.file})` : ''}:`);
    for (const p of r.pcap.packets) L.push(`  frame ${p.frame}: ${p.method || `${p.status} (${p.cseqMethod})`}${p.kmpid ? ` key-mgmt ${p.kmpid}, MIKEY v${p.mikeyVersion} type ${p.mikeyType} CSB ${p.csbId}` : ''}${p.malformed ? ' MALFORMED' : ''}`);
  }
  if (r.dir) L.push(`files kept in ${r.dir}`);
  L.push(r.ok ? 'OK: every check passed' : `FAILED:\n${r.problems.map((p) => `  - ${p}`).join('\n')}`);
  return L.join('\n') + '\n';
}

async function main(): Promise<number> {
  let v;
  try {
    ({ values: v } = parseArgs({
      options: {
        profile: { type: 'string' }, packets: { type: 'string' }, 'no-rekey': { type: 'boolean' }, 'no-wrong-key': { type: 'boolean' },
        'no-pcap': { type: 'boolean' }, keep: { type: 'boolean' }, json: { type: 'boolean' }, engine: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${usage}\n`);
    return 2;
  }
  if (v.help) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  const o: SipCallOptions = { log: (l) => process.stderr.write(`sip-call: ${l}\n`) };
  if (v.profile !== undefined) {
    if (!(PROFILES as readonly string[]).includes(v.profile)) return (process.stderr.write(`--profile must be one of ${PROFILES.join(', ')}\n`), 2);
    o.profile = v.profile as SipCallOptions['profile'];
  }
  if (v.packets !== undefined) {
    if (!/^\d{1,5}$/.test(v.packets) || Number(v.packets) < 10 || Number(v.packets) > 20000) return (process.stderr.write('--packets must be 10..20000\n'), 2);
    o.packets = Number(v.packets);
  }
  if (v.engine !== undefined) {
    if (!['native', 'wasm', 'ts'].includes(v.engine)) return (process.stderr.write('--engine must be native, wasm or ts\n'), 2);
    o.engine = v.engine;
  }
  if (v['no-rekey']) o.rekey = false;
  if (v['no-wrong-key']) o.wrongKey = false;
  if (v['no-pcap']) o.pcap = false;
  if (v.keep) o.keepDir = true;
  // SIGINT / SIGTERM stop every child (the daemons, the KMS, the pipelines) before we exit
  const abort = new AbortController();
  let caught: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    caught = sig;
    abort.abort();
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  o.signal = abort.signal;
  const r = await runSipCall(o);
  process.stdout.write(v.json ? JSON.stringify(r, null, 2) + '\n' : human(r));
  if (caught) return caught === 'SIGINT' ? 130 : 143;
  return r.ok ? 0 : 1;
}

process.exitCode = await main();
