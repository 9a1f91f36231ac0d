// The example end to end: two SIP user agents (alice, bob), each with its own running ibaked,
// place a call on loopback carrying MIKEY-IBAKE in SDP (INVITE(I_MESSAGE_1) / 200(R_MESSAGE_1) /
// ACK / UPDATE(I_MESSAGE_2) / 200(R_MESSAGE_2)), then send RTP and RTCP both ways through
// GStreamer srtpenc -> srtpdec keyed only from their daemons' replies. Optional parts: a decoder
// keyed from another call (must fail authentication on every packet), a CSB update in mid-stream
// (UPDATE(U1) / 200(U2) / UPDATE(U3) / 200, both sides move to new keys), and the pcap of
// the SIP signalling dissected by tshark. Everything is bounded by timeouts and torn down in
// `finally` (pipelines, daemons, sockets, the temporary directory).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { buildSdpBody } from '../../src/srtp/sdp-body.js';
import { startDaemon, startKms, type RunningDaemon } from './daemon.js';
import { Collector, Pipeline, Stream, crashesOf, decoder, encoder, portPair, releasePair, unprotectRtcp, unprotectRtp, udpSocketsOn, type KeyEntry } from './media.js';
import { writeAndDissect, type DissectedPacket } from './pcap.js';
import { SipTransport, header, tagOf, token, viaPort, type DialogIds, type SipDatagram, type SipMessage } from './sip.js';

export interface SipCallOptions {
  /** RTP packets per direction (an RTCP SR after every 10th); default 200 */
  packets?: number;
  /** SRTP profile both daemons are configured with; default AES_CM_128_HMAC_SHA1_80 */
  profile?: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AES_256_CM_HMAC_SHA1_80' | 'AEAD_AES_128_GCM';
  /** also feed alice's stream to a decoder keyed from another call; default true */
  wrongKey?: boolean;
  /** CSB update after half of the packets; default true */
  rekey?: boolean;
  /** write and dissect the SIP pcap; default true */
  pcap?: boolean;
  /** pairing engine of the daemons (default: theirs) */
  engine?: string;
  /** bound on each step (daemon start, SIP transaction, pipeline start, media drain); default 20 s */
  stepTimeoutMs?: number;
  /** bound on the whole run: when it passes, every child process is stopped and the run fails; default 90 s */
  totalTimeoutMs?: number;
  /** keep the temporary directory (pcap, logs) instead of removing it */
  keepDir?: boolean;
  /** aborting it stops every child process at once and fails the run (main.ts: SIGINT / SIGTERM) */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface DirectionReport {
  from: string;
  to: string;
  ssrc: number;
  sent: { rtp: number; rtcp: number };
  /** srtpdec output equal byte for byte to a sent packet */
  decrypted: { rtp: number; rtcp: number };
  mismatched: number;
  authFailures: number;
  /** SRTP/SRTCP packets on the wire that our own RFC 3711/7714 code authenticated and decrypted to the sent bytes */
  tapVerified: { rtp: number; rtcp: number };
  tapSeen: { rtp: number; rtcp: number };
  /**
   * Only when srtpdec handed back fewer packets than were sent: the decoder's state and last
   * output, and how many sockets were bound to its RTP / RTCP ports at the end of the drain.
   */
  receiver?: string;
}

export interface SipCallReport {
  ok: boolean;
  problems: string[];
  profile: string;
  dir?: string;
  sip: string[];
  keysAgree: boolean;
  learnedSsrcFromR1: boolean;
  media: DirectionReport[];
  wrongKey?: { sent: { rtp: number; rtcp: number }; decrypted: number; authFailures: number };
  rekey?: { keysChanged: boolean; before: DirectionReport[]; after: DirectionReport[] };
  pcap?: { file?: string; packets: DissectedPacket[] };
  /**
   * gst-launch pipelines that crashed during the run ("bob-dec-g1 SIGSEGV"): a fault of the
   * oracle, reported as a problem too; a caller may run the call again (the test does, once).
   */
  oracleCrashes: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Recv {
  reply?: Uint8Array;
  replyName?: string;
  csMap: Array<{ csId: number; ssrc: number; roc: number }>;
  established?: { csbId: number; keys: KeyEntry[] };
}

/** The RTP port of the first m-line of an SDP body. */
function mediaPort(sdp: string): number {
  const m = /^m=audio (\d+) RTP\/SAVP/m.exec(sdp);
  if (!m) throw new Error('SDP without an audio RTP/SAVP m-line');
  return Number(m[1]);
}

/** One user agent: a SIP transport, its ibaked, and the call state this example needs. */
class UserAgent {
  readonly sip: SipTransport;
  readonly tag = token();
  dialog?: DialogIds;
  keys?: KeyEntry[];
  csbId?: number;
  /** RTP port of our decoder (what our SDP advertises) and the peer's */
  myMediaPort = 0;
  peerMediaPort = 0;
  failures: Error[] = [];

  constructor(
    readonly name: string,
    readonly uri: string,
    readonly daemon: RunningDaemon,
    capture: SipDatagram[],
    timeoutMs: number,
  ) {
    this.sip = new SipTransport(capture, timeoutMs);
    this.sip.onError = (e) => this.failures.push(e);
  }

  receive(sdpOrSip: string): Promise<Recv> {
    return this.daemon.client.request<Recv>('exchange.receive', { identity: this.uri, sdp: sdpOrSip });
  }

  /** The UAS side: answers INVITE / UPDATE by feeding the whole request to ibaked; ACK and BYE. */
  serve(onEstablished: (keys: KeyEntry[]) => void): void {
    this.sip.onRequest = (m: SipMessage) => {
      void this.handle(m, onEstablished).catch((e: Error) => {
        this.failures.push(e);
        this.sip.respond(m, 488, 'Not Acceptable Here', this.tag, viaPort(m));
      });
    };
  }

  private async handle(m: SipMessage, onEstablished: (keys: KeyEntry[]) => void): Promise<void> {
    const back = viaPort(m);
    if (m.method === 'ACK') return;
    if (m.method === 'BYE') {
      this.sip.respond(m, 200, 'OK', this.tag, back);
      return;
    }
    if (m.method !== 'INVITE' && m.method !== 'UPDATE') {
      this.sip.respond(m, 405, 'Method Not Allowed', this.tag, back);
      return;
    }
    if (m.method === 'INVITE') {
      this.dialog = { callId: header(m, 'call-id')!, localUri: this.uri, localTag: this.tag, remoteUri: /<([^>]+)>/.exec(header(m, 'from')!)![1]!, remoteTag: tagOf(header(m, 'from')), remotePort: back };
    }
    this.peerMediaPort = mediaPort(m.body);
    const r = await this.receive(m.raw); // the whole SIP request: ibaked finds the a=key-mgmt line
    if (r.established) {
      this.keys = r.established.keys;
      this.csbId = r.established.csbId;
      onEstablished(r.established.keys);
    }
    // the last message of a CSB update needs no answer: the 200 carries SDP without key-mgmt
    if (!r.reply && !r.established) throw new Error(`${m.method}: ibaked gave neither a reply nor keys`);
    this.sip.respond(m, 200, 'OK', this.tag, back, buildSdpBody(r.reply ?? null, { port: this.myMediaPort }));
  }
}

/** Runs the whole example; resolves with what happened (never leaves a process behind). */
export async function runSipCall(o: SipCallOptions = {}): Promise<SipCallReport> {
  const log = o.log ?? (() => {});
  const N = o.packets ?? 200;
  const T = o.stepTimeoutMs ?? 20_000;
  const profile = o.profile ?? 'AES_CM_128_HMAC_SHA1_80';
  const dir = mkdtempSync(join(tmpdir(), 'ibaked-sip-call-'));
  const report: SipCallReport = { ok: false, problems: [], profile, sip: [], keysAgree: false, learnedSsrcFromR1: false, media: [], oracleCrashes: [] };
  const capture: SipDatagram[] = [];
  const pipelines: Pipeline[] = [];
  const closers: Array<() => unknown> = [];
  const daemons: RunningDaemon[] = [];
  const streams: Stream[] = [];
  /** port pairs handed to pipelines, given back once they are stopped */
  const ports: number[] = [];
  const pair = async () => {
    const p = await portPair();
    ports.push(p);
    return p;
  };
  const ALICE = 'sip:alice@example.org';
  const BOB = 'sip:bob@example.org';
  // The whole-run bound: stopping the children makes whatever step is waiting fail at once.
  // An abort (o.signal) takes the same path.
  let overdue = false;
  let aborted = false;
  let kms: Awaited<ReturnType<typeof startKms>> | undefined;
  const stopChildren = () => {
    for (const st of streams) st.stop();
    for (const p of pipelines) void p.stop();
    for (const d of daemons) void d.stop();
    void kms?.stop();
  };
  const watchdog = setTimeout(() => {
    overdue = true;
    stopChildren();
  }, o.totalTimeoutMs ?? 90_000);
  const onAbort = () => {
    aborted = true;
    stopChildren();
  };
  if (o.signal?.aborted) aborted = true;
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  /** Between steps: a child started after the bound passed is stopped by `finally`; stop here. */
  const onTime = () => {
    if (aborted) throw new Error('stopped: the run was aborted');
    if (overdue) throw new Error('stopped at the overall bound');
  };
  try {
    onTime();
    // One KMS, two daemons (each holds one identity and is configured with the profile: the
    // exchange itself carries no SP payload, so both sides must agree on it beforehand).
    log(`starting a KMS and two ibaked daemons (profile ${profile}) in ${dir}`);
    const k = await startKms(dir, [ALICE, BOB], T);
    kms = k;
    onTime();
    // both starts are awaited (settled) before going on, so a failure of one never leaves the other running unseen
    const started = await Promise.allSettled(
      [['alice', ALICE], ['bob', BOB]].map(([n, uri]) => startDaemon(n!, dir, { uri: uri!, kms: k, profile, timeoutMs: T, ...(o.engine ? { engine: o.engine } : {}) })),
    );
    for (const r of started) if (r.status === 'fulfilled') daemons.push(r.value);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const [da, db] = daemons;
    onTime();
    const alice = new UserAgent('alice', ALICE, da!, capture, T);
    const bob = new UserAgent('bob', BOB, db!, capture, T);
    closers.push(() => alice.sip.close(), () => bob.sip.close());
    await Promise.all([alice.sip.bind(), bob.sip.bind()]);
    [alice.myMediaPort, bob.myMediaPort] = await Promise.all([pair(), pair()]);
    let bobKeys: KeyEntry[] | undefined;
    bob.serve((k) => (bobKeys = k));
    alice.serve(() => {});

    // INVITE (I_MESSAGE_1) / 200 OK (R_MESSAGE_1) / ACK
    const aliceSsrc = randomInt(1, 2 ** 31);
    const init = await da!.client.request<{ csbId: number; message: Uint8Array; keyMgmt: string }>('exchange.initiate', { from: ALICE, to: BOB, ssrcs: [aliceSsrc, 0] });
    alice.dialog = { callId: `${token()}@127.0.0.1`, localUri: ALICE, localTag: alice.tag, remoteUri: BOB, remotePort: bob.sip.port };
    const ok1 = await alice.sip.request(alice.dialog, 'INVITE', buildSdpBody(init.message, { port: alice.myMediaPort }));
    if (ok1.status !== 200) throw new Error(`INVITE answered ${ok1.status} ${ok1.reason}`);
    alice.dialog.remoteTag = tagOf(header(ok1, 'to'));
    alice.peerMediaPort = mediaPort(ok1.body);
    const r1 = await alice.receive(ok1.raw);
    await alice.sip.request(alice.dialog, 'ACK', '', 1);
    // R_MESSAGE_1 is where alice learns the SSRC bob chose for csId 2 (her offer had 0)
    const bobSsrc = r1.csMap[1]?.ssrc ?? 0;
    report.learnedSsrcFromR1 = r1.csMap[0]?.ssrc === aliceSsrc && bobSsrc !== 0;
    if (r1.replyName !== 'I_MESSAGE_2') throw new Error(`alice's answer to R_MESSAGE_1 is ${r1.replyName}`);

    // UPDATE (I_MESSAGE_2) / 200 OK (R_MESSAGE_2)
    const ok2 = await alice.sip.request(alice.dialog, 'UPDATE', buildSdpBody(r1.reply!, { port: alice.myMediaPort }));
    if (ok2.status !== 200) throw new Error(`UPDATE answered ${ok2.status} ${ok2.reason}`);
    const r2 = await alice.receive(ok2.raw);
    if (!r2.established || !bobKeys) throw new Error('the exchange did not complete on both sides');
    alice.keys = r2.established.keys;
    const aliceKeys = alice.keys;
    report.keysAgree = aliceKeys.length === 2 && aliceKeys.every((k, i) => hex(k.gst['srtp-key']) === hex(bobKeys![i]!.gst['srtp-key']) && k.ssrc === bobKeys![i]!.ssrc);
    if (aliceKeys[1]!.ssrc !== bobSsrc) report.problems.push('the SSRC of csId 2 in the keys differs from the one R_MESSAGE_1 announced');
    log(`SIP: INVITE/200/ACK/UPDATE/200 done; keys agree: ${report.keysAgree}; alice SSRC ${aliceSsrc.toString(16)}, bob SSRC ${bobSsrc.toString(16)} (learned from R_MESSAGE_1)`);

    // A second, unrelated call between the same daemons, only for its keys (the wrong-key check).
    let otherKey: KeyEntry | undefined;
    if (o.wrongKey !== false) otherKey = await otherCallKey(da!, db!, ALICE, BOB);

    onTime();
    // Media, first generation of keys
    const half = o.rekey === false ? N : Math.floor(N / 2);
    const aStream = new Stream(aliceSsrc);
    const bStream = new Stream(bobSsrc);
    streams.push(aStream, bStream);
    closers.push(() => aStream.close(), () => bStream.close());
    const gen1 = await startMedia({ alice, bob, aliceKeys, bobKeys, otherKey, T, pipelines, closers, pair, tag: 'g1' });
    log(`media: ${half} RTP packets each way (+ SRTCP), keys of the call`);
    await Promise.all([aStream.send(gen1.aIn, half), bStream.send(gen1.bIn, half)]);

    let gen2: Awaited<ReturnType<typeof startMedia>> | undefined;
    if (o.rekey !== false) {
      // CSB update in mid-stream (profile v2: three messages): UPDATE(U1 = update I_MESSAGE_1) /
      // 200(U2 = R_MESSAGE_1 + V: alice switches) / UPDATE(U3 = I_MESSAGE_2 + V: bob switches) / 200;
      // new ports, new pipelines
      const up = await da!.client.request<{ message: Uint8Array }>('exchange.rekey', { identity: ALICE, csbId: init.csbId, peer: BOB });
      bobKeys = undefined;
      [alice.myMediaPort, bob.myMediaPort] = await Promise.all([pair(), pair()]);
      const ok3 = await alice.sip.request(alice.dialog, 'UPDATE', buildSdpBody(up.message, { port: alice.myMediaPort }));
      if (ok3.status !== 200) throw new Error(`re-keying UPDATE answered ${ok3.status}`);
      alice.peerMediaPort = mediaPort(ok3.body);
      const r3 = await alice.receive(ok3.raw);
      if (!r3.established || !r3.reply) throw new Error(`alice's answer to the update R_MESSAGE_1 is ${r3.replyName ?? 'missing'}`);
      const ok4 = await alice.sip.request(alice.dialog, 'UPDATE', buildSdpBody(r3.reply, { port: alice.myMediaPort }));
      if (ok4.status !== 200) throw new Error(`confirming UPDATE answered ${ok4.status}`);
      if (!bobKeys) throw new Error('the CSB update did not complete on both sides');
      const newKeys = r3.established.keys;
      const changed = newKeys.every((k, i) => hex(k.gst['srtp-key']) !== hex(aliceKeys[i]!.gst['srtp-key']));
      const agree = newKeys.every((k, i) => hex(k.gst['srtp-key']) === hex(bobKeys![i]!.gst['srtp-key']));
      if (!agree) report.problems.push('keys after the CSB update differ between the sides');
      log(`CSB update: UPDATE/200 done; new keys ${changed ? 'differ from' : 'EQUAL'} the old ones`);
      gen2 = await startMedia({ alice, bob, aliceKeys: newKeys, bobKeys, T, pipelines, closers, pair, tag: 'g2' });
      await Promise.all([aStream.send(gen2.aIn, N - half), bStream.send(gen2.bIn, N - half)]);
      report.rekey = { keysChanged: changed, before: [], after: [] };
    }

    onTime();
    // drain: wait until every packet came out (or the step timeout), then stop the pipelines
    const expect1 = { rtp: half, rtcp: Math.floor(half / 10) };
    const expect2 = { rtp: N - half, rtcp: Math.floor(N / 10) - Math.floor(half / 10) };
    const end = Date.now() + T;
    const full = (g: typeof gen1, e: typeof expect1) => [g.aOut, g.bOut].every((c) => c.rtp.length >= e.rtp && c.rtcp.length >= e.rtcp);
    const crashed = () => crashesOf(pipelines).length > 0;
    while (Date.now() < end && !overdue && !aborted && !crashed() && !(full(gen1, expect1) && (!gen2 || full(gen2, expect2)))) await sleep(50);
    await sleep(200); // late duplicates or wrong-key packets, if any
    // for a short direction's report: the receiver as it was before being stopped
    const receivers = new Map<Collector, string>();
    for (const g of [gen1, gen2]) {
      for (const [out, dec, port] of g ? ([[g.bOut, g.bDec, g.bPort], [g.aOut, g.aDec, g.aPort]] as const) : []) {
        receivers.set(out, `${dec.diagnosis()}; sockets on its ports ${port}/${port + 1}: ${udpSocketsOn(port)}/${udpSocketsOn(port + 1)}`);
      }
    }
    for (const p of pipelines) await p.stop();
    report.oracleCrashes = crashesOf(pipelines);

    const direction = (g: typeof gen1, who: 'a' | 'b', e: typeof expect1): DirectionReport => {
      const s = who === 'a' ? aStream : bStream;
      const out = who === 'a' ? g.bOut : g.aOut;
      const m = s.match(out);
      const tap = who === 'a' ? g.aTap : g.bTap;
      const k = who === 'a' ? g.keysA : g.keysB;
      let tr = 0;
      let tc = 0;
      for (const p of tap.rtp) if (unprotectRtp(k, p)?.equals(s.rtp.get(p.readUInt16BE(2)) ?? Buffer.alloc(0))) tr++;
      for (const p of tap.rtcp) {
        const plain = unprotectRtcp(k, p);
        if (plain && plain.length >= 12 && s.rtcp.get(plain.readUInt32BE(8))?.equals(plain)) tc++;
      }
      return {
        from: who === 'a' ? 'alice' : 'bob', to: who === 'a' ? 'bob' : 'alice', ssrc: s.ssrc,
        sent: e, decrypted: { rtp: m.rtp, rtcp: m.rtcp }, mismatched: m.mismatched,
        authFailures: (who === 'a' ? g.bDec : g.aDec).authFailures,
        tapVerified: { rtp: tr, rtcp: tc }, tapSeen: { rtp: tap.rtp.length, rtcp: tap.rtcp.length },
        ...(m.rtp < e.rtp || m.rtcp < e.rtcp ? { receiver: receivers.get(out) } : {}),
      };
    };
    report.media = [direction(gen1, 'a', expect1), direction(gen1, 'b', expect1)];
    if (gen2 && report.rekey) {
      report.rekey.before = report.media;
      report.rekey.after = [direction(gen2, 'a', expect2), direction(gen2, 'b', expect2)];
    }
    if (gen1.wrong) {
      report.wrongKey = { sent: expect1, decrypted: gen1.wrong.out.rtp.length + gen1.wrong.out.rtcp.length, authFailures: gen1.wrong.dec.authFailures };
    }

    // BYE / 200, close the exchanges on both daemons
    const bye = await alice.sip.request(alice.dialog, 'BYE');
    if (bye.status !== 200) report.problems.push(`BYE answered ${bye.status}`);
    await da!.client.request('exchange.close', { identity: ALICE, csbId: init.csbId });
    await db!.client.request('exchange.close', { identity: BOB, csbId: init.csbId });
    for (const ua of [alice, bob]) for (const e of ua.failures) report.problems.push(`${ua.name}: ${e.message}`);

    onTime();
    report.sip = capture.map((d) => d.bytes.toString('utf8').split('\r\n')[0]!);
    if (o.pcap !== false) {
      const { pcap, packets } = writeAndDissect(dir, capture, T);
      report.pcap = { ...(o.keepDir ? { file: pcap } : {}), packets };
    }
    onTime();
    judge(report);
    return report;
  } catch (e) {
    report.oracleCrashes = crashesOf(pipelines);
    if (overdue) report.problems.push(`the run took longer than ${o.totalTimeoutMs ?? 90_000} ms; children stopped`);
    if (aborted) report.problems.push('the run was aborted; children stopped');
    report.problems.push((e as Error).message);
    return report;
  } finally {
    clearTimeout(watchdog);
    o.signal?.removeEventListener('abort', onAbort);
    for (const p of pipelines) await p.stop();
    for (const p of ports) releasePair(p);
    for (const d of daemons) await d.stop();
    await kms?.stop();
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch {
        /* already closed */
      }
    }
    if (o.keepDir) report.dir = dir;
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** Keys of a second exchange between the same identities, carried directly between the daemons. */
async function otherCallKey(da: RunningDaemon, db: RunningDaemon, alice: string, bob: string): Promise<KeyEntry> {
  const i = await da.client.request<{ message: Uint8Array; csbId: number }>('exchange.initiate', { from: alice, to: bob });
  let msg: Uint8Array | undefined = i.message;
  let toBob = true;
  let keys: KeyEntry[] | undefined;
  while (msg) {
    const r: Recv = await (toBob ? db : da).client.request<Recv>('exchange.receive', { identity: toBob ? bob : alice, message: msg });
    if (r.established && !toBob) keys = r.established.keys;
    msg = r.reply;
    toBob = !toBob;
  }
  await da.client.request('exchange.close', { identity: alice, csbId: i.csbId });
  await db.client.request('exchange.close', { identity: bob, csbId: i.csbId });
  if (!keys) throw new Error('the second call did not complete');
  return keys[0]!;
}

interface MediaArgs {
  alice: UserAgent;
  bob: UserAgent;
  aliceKeys: KeyEntry[];
  bobKeys: KeyEntry[];
  otherKey?: KeyEntry;
  T: number;
  pipelines: Pipeline[];
  closers: Array<() => unknown>;
  /** a port pair for a pipeline (portPair, given back when the run ends) */
  pair: () => Promise<number>;
  tag: string;
}

/**
 * One generation of media: each side's decoder on the port its SDP advertised, keyed with its
 * copy of the peer's stream key; each side's encoder keyed with its own stream key, sending to
 * the peer's advertised port and to a tap (and alice's also to a wrong-key decoder).
 */
async function startMedia(a: MediaArgs) {
  const own = (keys: KeyEntry[], role: 'initiator' | 'responder') => keys.find((k) => (k.csId % 2 === 1) === (role === 'initiator'))!;
  const keysA = own(a.aliceKeys, 'initiator'); // alice sends csId 1
  const keysB = own(a.bobKeys, 'responder'); // bob sends csId 2
  // Every socket and pipeline is handed to the run's cleanup the moment it exists, so a step
  // that fails half way leaves nothing open (an open socket or child also keeps Node running).
  const collector = async () => {
    const c = await Collector.open();
    a.closers.push(() => c.close());
    return c;
  };
  const launch = (p: Pipeline) => (a.pipelines.push(p), p);
  const [aOut, bOut, aTap, bTap] = [await collector(), await collector(), await collector(), await collector()];
  // decoders: bob receives alice's stream with bob's copy of csId 1, and the other way round
  const bDec = launch(decoder(`bob-dec-${a.tag}`, own(a.bobKeys, 'initiator'), a.bob.myMediaPort, bOut.port));
  const aDec = launch(decoder(`alice-dec-${a.tag}`, own(a.aliceKeys, 'responder'), a.alice.myMediaPort, aOut.port));
  const started: Pipeline[] = [bDec, aDec];
  let wrong: { dec: Pipeline; out: Collector } | undefined;
  const aTargets = [a.alice.peerMediaPort, aTap.port];
  if (a.otherKey) {
    const out = await collector();
    const port = await a.pair();
    // another call's key, presented for this stream's SSRC so srtpdec tries it on every packet
    const k = { ...a.otherKey, ssrc: keysA.ssrc, gst: { ...a.otherKey.gst, ssrc: keysA.ssrc, roc: keysA.roc } };
    wrong = { dec: launch(decoder(`wrong-dec-${a.tag}`, k, port, out.port)), out };
    started.push(wrong.dec);
    aTargets.push(port);
  }
  await Promise.all(started.map((p) => p.playing(a.T)));
  const [aIn, bIn] = [await a.pair(), await a.pair()];
  const aEnc = launch(encoder(`alice-enc-${a.tag}`, keysA, aIn, aTargets));
  const bEnc = launch(encoder(`bob-enc-${a.tag}`, keysB, bIn, [a.bob.peerMediaPort, bTap.port]));
  await Promise.all([aEnc.playing(a.T), bEnc.playing(a.T)]);
  return { aIn, bIn, aOut, bOut, aTap, bTap, aDec, bDec, aPort: a.alice.myMediaPort, bPort: a.bob.myMediaPort, keysA, keysB, wrong };
}

/** Sets report.ok and lists every expectation that failed. */
function judge(r: SipCallReport): void {
  const p = r.problems;
  if (r.oracleCrashes.length) p.push(`GStreamer crashed (${r.oracleCrashes.join(', ')}): a fault of gst-launch, not of the keys; its direction's counts below are short`);
  if (!r.keysAgree) p.push('the two sides did not get the same keys');
  if (!r.learnedSsrcFromR1) p.push("R_MESSAGE_1's CS map did not give alice bob's SSRC");
  const dirs = [...r.media, ...(r.rekey?.after ?? [])];
  for (const d of dirs) {
    const what = `${d.from}->${d.to}`;
    if (d.decrypted.rtp !== d.sent.rtp || d.decrypted.rtcp !== d.sent.rtcp) p.push(`${what}: ${d.decrypted.rtp}/${d.sent.rtp} RTP and ${d.decrypted.rtcp}/${d.sent.rtcp} RTCP decrypted${d.receiver ? ` (receiver: ${d.receiver})` : ''}`);
    if (d.mismatched) p.push(`${what}: ${d.mismatched} decrypted packets differ from what was sent`);
    if (d.authFailures) p.push(`${what}: ${d.authFailures} authentication failures at the receiver`);
    if (d.tapVerified.rtp !== d.sent.rtp || d.tapVerified.rtcp !== d.sent.rtcp) p.push(`${what}: the independent SRTP check verified ${d.tapVerified.rtp} RTP / ${d.tapVerified.rtcp} RTCP packets`);
  }
  if (r.rekey && !r.rekey.keysChanged) p.push('the CSB update did not change the keys');
  if (r.wrongKey) {
    const n = r.wrongKey.sent.rtp + r.wrongKey.sent.rtcp;
    if (r.wrongKey.decrypted !== 0 || r.wrongKey.authFailures !== n) p.push(`another call's key: ${r.wrongKey.decrypted} packets decrypted, ${r.wrongKey.authFailures}/${n} failed authentication`);
  }
  if (r.pcap) {
    const sip = r.pcap.packets;
    if (sip.length !== r.sip.length) p.push(`tshark read ${sip.length} of ${r.sip.length} SIP datagrams`);
    for (const x of sip) {
      if (x.malformed || x.errors) p.push(`tshark: frame ${x.frame} is malformed or has an error`);
      if (!x.method && !x.status) p.push(`tshark: frame ${x.frame} was not dissected as SIP`);
      const hasMikey = x.method === 'INVITE' || x.method === 'UPDATE' || (x.status === '200' && /INVITE|UPDATE/.test(x.cseqMethod) && x.kmpid !== '');
      if (hasMikey && (x.kmpid !== 'mikey' || x.mikeyVersion !== '1')) p.push(`tshark: frame ${x.frame} (${x.method || x.status}) has no dissected a=key-mgmt:mikey`);
    }
  }
  r.ok = p.length === 0;
}
