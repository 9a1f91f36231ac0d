// The media half of the example: GStreamer pipelines (gst-launch-1.0) that protect RTP/RTCP with
// srtpenc and unprotect it with srtpdec, keyed from ibaked's key entries (their `gst` fields);
// an RTP/RTCP source with known packets; collectors that check what srtpdec hands back is byte
// for byte what was sent; and a tap that re-checks the SRTP packets on the wire with our own
// RFC 3711 / RFC 7714 code (session keys from src/srtp/kdf.ts, Node's AES), independently of
// libsrtp. Loopback only; every child process is stopped by stop().
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { deriveSrtpSessionKeys, deriveSrtcpSessionKeys } from '../../src/srtp/kdf.js';
import { SRTP_PROFILES, sessionKeyLengths, type SrtpProfileName } from '../../src/srtp/policy.js';
import { gstCapsString, type GstSrtpFields, type StackKeyInput } from '../../src/srtp/stack.js';
import { Child } from './child.js';

/** A key entry as ibaked replies with it (the fields this file uses). */
export interface KeyEntry extends StackKeyInput {
  gst: GstSrtpFields;
}

export const PT = 96;
const RTP_CAPS = `application/x-rtp,media=(string)audio,clock-rate=(int)8000,encoding-name=(string)L16,payload=(int)${PT}`;

/** Binds a UDP socket on 127.0.0.1 (port 0 = any) and resolves with it. */
export function udp(port = 0): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = createSocket('udp4');
    s.once('error', rej);
    s.bind(port, '127.0.0.1', () => res(s));
  });
}

/**
 * Ports portPair has handed out in this process and not yet had back (releasePair): not handed
 * out again meanwhile. A pair is released for GStreamer before its pipeline binds it, so the
 * socket check alone would not stop a second pipeline from being given the same port.
 */
const handedOut = new Set<number>();

/**
 * The kernel's ephemeral port range (/proc/sys/net/ipv4/ip_local_port_range): bind(0) and a
 * send from an unbound socket take their port from it.
 */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo! > 0 && hi! >= lo!) return [lo!, hi!];
  } catch {
    /* not Linux, or no /proc: the usual default */
  }
  return [32768, 60999];
}

/**
 * Where portPair looks: 12 288 ports just below the ephemeral range (20480–32767 by default).
 * Not in it, because a port released for GStreamer must stay free until the pipeline binds it,
 * and the kernel would hand an ephemeral one to the next bind(0) in any process (in a stress run
 * here, a sender's socket got a decoder's port and took its packets). Null when the range leaves no
 * room below it; portPair then falls back to bind(0).
 */
function portWindow(): [number, number] | null {
  const [lo] = ephemeralRange();
  const from = Math.max(1024, lo - 12288);
  return lo - from >= 1024 ? [from, lo - 2] : null;
}

/** Binds both ports of a pair and releases them; false when either is taken. */
async function pairFree(p: number): Promise<boolean> {
  let a: Socket | undefined;
  try {
    a = await udp(p);
    (await udp(p + 1)).close();
    return true;
  } catch {
    return false;
  } finally {
    a?.close();
  }
}

/**
 * An even port p with p+1 also free (RTP and RTCP), found by binding both, then released for
 * GStreamer; outside the kernel's ephemeral range where there is room (see portWindow).
 */
export async function portPair(): Promise<number> {
  const w = portWindow();
  for (let i = 0; i < 200; i++) {
    let p: number;
    if (w) p = randomInt(w[0] >> 1, (w[1] >> 1) + 1) * 2;
    else {
      const s = await udp();
      p = s.address().port;
      s.close();
      if (p % 2 !== 0 || p >= 65535) continue;
    }
    if (handedOut.has(p) || handedOut.has(p + 1)) continue;
    handedOut.add(p).add(p + 1); // before the await: a concurrent call must not pick it too
    if (await pairFree(p)) return p;
    releasePair(p);
  }
  throw new Error('no free RTP/RTCP port pair on 127.0.0.1');
}

/** Pairs handed out and not yet given back. */
export const pairsInUse = (): number => handedOut.size / 2;

/** Gives a pair from portPair back once nothing binds it any more (its pipeline stopped, its socket closed). */
export function releasePair(p: number): void {
  handedOut.delete(p);
  handedOut.delete(p + 1);
}

/**
 * Every udpsrc binds 127.0.0.1 without SO_REUSEADDR. With GStreamer's default (reuse=true on
 * 0.0.0.0) the kernel may give the same port to any later bind(0) that sets SO_REUSEADDR, as
 * GStreamer's own udpsink/multiudpsink sockets do, and on loopback the later socket then
 * receives every packet sent to the port.
 */
const SRC = ['address=127.0.0.1', 'reuse=false'];

/**
 * How many sockets on this host are bound to UDP port `port` (IPv4, from /proc/net/udp); -1 when
 * that cannot be read. More than one on a decoder's port means another socket shares it.
 */
export function udpSocketsOn(port: number): number {
  try {
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    return readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1).filter((l) => l.trim().split(/\s+/)[1]?.endsWith(hex)).length;
  } catch {
    return -1;
  }
}

const compact = (caps: string) => caps.replace(/, /g, ',');
/**
 * Network sinks neither wait for the clock nor hold the pipeline's state change: otherwise an RTP
 * branch waits in PAUSED until its RTCP branch has seen a first packet (and a stream without
 * RTCP would never flow).
 */
const SINK = ['sync=false', 'async=false'];

/** Signals that mean gst-launch crashed (ours are SIGINT, then SIGKILL after a grace period). */
const CRASH_SIGNALS = new Set<string>(['SIGSEGV', 'SIGBUS', 'SIGABRT', 'SIGILL', 'SIGFPE', 'SIGTRAP']);

/** A running gst-launch-1.0 pipeline; `authFailures` counts srtpdec's dropped packets. */
export class Pipeline {
  private child: Child;

  constructor(
    readonly name: string,
    args: string[],
  ) {
    // srtpdec logs every packet that fails authentication at WARNING level; SIGINT lets gst-launch shut down cleanly
    // --no-fault: a crash ends the process at once (by default gst-launch catches it and spins, waiting for a debugger)
    this.child = new Child('gst-launch-1.0', ['--no-fault', ...args], 'SIGINT', { ...process.env, GST_DEBUG: process.env.SIPCALL_GST_DEBUG ?? 'srtpdec:2,srtpenc:2', GST_DEBUG_NO_COLOR: '1' });
  }

  /** Resolves once the pipeline is PLAYING (its udpsrc sockets are bound before that). */
  async playing(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!/Setting pipeline to PLAYING/.test(this.child.out)) {
      if (this.child.exited !== undefined) throw new Error(`gst-launch ${this.name} exited (${this.child.signal ?? this.child.exited}): ${(this.child.out + this.child.err).slice(-600)}`);
      if (Date.now() > end) throw new Error(`gst-launch ${this.name} not PLAYING within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * The signal a crash of gst-launch itself ended it with (SIGSEGV, SIGABRT, ...), or undefined.
   * That is a fault of the oracle, not of the keys, and a run reports it as such
   * (SipCallReport.oracleCrashes); see decoder() for the one we know and avoid.
   */
  get crash(): string | undefined {
    const sig = this.child.signal;
    if (sig && CRASH_SIGNALS.has(sig)) return sig;
    return /Caught (SIG[A-Z]+)/.exec(this.child.out + this.child.err)?.[1];
  }

  /**
   * What the pipeline is doing, for a report when it handed back fewer packets than were sent:
   * running or its exit status, and its last lines of output (key-like hex redacted).
   */
  diagnosis(): string {
    const state = this.child.exited === undefined ? 'running' : `exited (${this.child.signal ?? this.child.exited})`;
    const tail = (this.child.out + this.child.err).split('\n').map((l) => l.trim()).filter(Boolean).slice(-3).join(' | ').replace(/[0-9a-fA-F]{24,}/g, '<hex>');
    return `${this.name} ${state}${tail ? `; last output: ${tail}` : ''}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get authFailures(): number {
    return (this.child.err.match(/Error authentication packet, dropping/g) ?? []).length;
  }

  stop(): Promise<void> {
    return this.child.stop(3000);
  }
}

/** The pipelines that crashed, as "name SIGNAL". */
export const crashesOf = (pipelines: readonly Pipeline[]): string[] => pipelines.filter((p) => p.crash).map((p) => `${p.name} ${p.crash}`);

/** srtpenc keyed with `k`: plain RTP on inPort, RTCP on inPort+1; SRTP/SRTCP to every port pair in `to`. */
export function encoder(name: string, k: KeyEntry, inPort: number, to: number[]): Pipeline {
  const g = k.gst;
  const key = Buffer.from(g['srtp-key']).toString('hex');
  const clients = (d: number) => to.map((p) => `127.0.0.1:${p + d}`).join(',');
  return new Pipeline(name, [
    'udpsrc', ...SRC, `port=${inPort}`, `caps=${RTP_CAPS}`, '!', 'e.rtp_sink_0',
    'srtpenc', 'name=e', `key=${key}`, `rtp-cipher=${g['srtp-cipher']}`, `rtp-auth=${g['srtp-auth']}`, `rtcp-cipher=${g['srtcp-cipher']}`, `rtcp-auth=${g['srtcp-auth']}`,
    'e.rtp_src_0', '!', 'multiudpsink', ...SINK, `clients=${clients(0)}`,
    'udpsrc', ...SRC, `port=${inPort + 1}`, 'caps=application/x-rtcp', '!', 'e.rtcp_sink_0',
    'e.rtcp_src_0', '!', 'multiudpsink', ...SINK, `clients=${clients(1)}`,
  ]);
}

/**
 * srtpdec keyed from the caps built of `k`: SRTP on port, SRTCP on port+1; plain RTP to outPort,
 * RTCP to outPort+1. Only the RTP pad's caps carry the key: srtpdec keys one stream (an SSRC)
 * for RTP and RTCP alike, so the SRTCP of that SSRC decrypts with it. With the key on both
 * pads, gst-launch crashed now and then: GStreamer 1.22's srtpdec applies a pad's caps without
 * taking its lock, and both udpsrc threads send their caps at once when the pipeline starts,
 * so two threads change its libsrtp session together (SIGSEGV in 4 of 730 calls here; none in
 * 786 with the RTP pad alone).
 */
export function decoder(name: string, k: KeyEntry, port: number, outPort: number): Pipeline {
  return new Pipeline(name, [
    'udpsrc', ...SRC, `port=${port}`, `caps=${compact(gstCapsString('application/x-srtp', k.gst))}`, '!', 'd.rtp_sink',
    'srtpdec', 'name=d', 'd.rtp_src', '!', 'udpsink', ...SINK, 'host=127.0.0.1', `port=${outPort}`,
    'udpsrc', ...SRC, `port=${port + 1}`, 'caps=application/x-srtcp', '!', 'd.rtcp_sink',
    'd.rtcp_src', '!', 'udpsink', ...SINK, 'host=127.0.0.1', `port=${outPort + 1}`,
  ]);
}

/** RTP packet `seq` of stream `ssrc`: 12-octet header, 160 octets of random payload. */
export function rtpPacket(ssrc: number, seq: number): Buffer {
  const p = Buffer.alloc(12 + 160);
  p[0] = 0x80;
  p[1] = PT;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE((seq * 160) >>> 0, 4);
  p.writeUInt32BE(ssrc, 8);
  randomBytes(160).copy(p, 12);
  return p;
}

/** An RTCP sender report (no report blocks) of stream `ssrc`, numbered `n`. */
export function rtcpSr(ssrc: number, n: number, sent: number): Buffer {
  const r = Buffer.alloc(28);
  r[0] = 0x80;
  r[1] = 200;
  r.writeUInt16BE(6, 2);
  r.writeUInt32BE(ssrc, 4);
  r.writeUInt32BE(0x83aa7e80 + n, 8); // NTP seconds (arbitrary, distinct)
  randomBytes(4).copy(r, 12);
  r.writeUInt32BE((n * 1600) >>> 0, 16);
  r.writeUInt32BE(sent, 20);
  r.writeUInt32BE(sent * 160, 24);
  return r;
}

/** Collects datagrams arriving on an RTP/RTCP port pair. */
export class Collector {
  rtp: Buffer[] = [];
  rtcp: Buffer[] = [];
  private constructor(
    private a: Socket,
    private b: Socket,
  ) {
    a.on('message', (m) => this.rtp.push(m));
    b.on('message', (m) => this.rtcp.push(m));
  }
  get port(): number {
    return this.a.address().port;
  }
  static async open(): Promise<Collector> {
    for (let i = 0; i < 50; i++) {
      const p = await portPair();
      try {
        const a = await udp(p);
        try {
          return new Collector(a, await udp(p + 1));
        } catch {
          a.close();
        }
      } catch {
        /* raced: try again */
      }
    }
    throw new Error('no port pair for a collector');
  }
  close(): void {
    const port = this.port;
    this.a.close();
    this.b.close();
    releasePair(port);
  }
}

/** What was sent on one stream, by sequence number / SR number, to check the decrypted copies against. */
export class Stream {
  rtp = new Map<number, Buffer>();
  rtcp = new Map<number, Buffer>();
  private seq = 1;
  private srs = 0;
  private out: Promise<Socket>;
  /** set by stop(): send() returns at the next packet */
  private stopped = false;
  constructor(readonly ssrc: number) {
    this.out = udp();
  }
  /** Sends `count` RTP packets (an SR after every 10th) to an encoder's input pair, paced. */
  async send(inPort: number, count: number): Promise<void> {
    const s = await this.out;
    for (let i = 0; i < count && !this.stopped; i++) {
      const seq = this.seq++;
      const p = rtpPacket(this.ssrc, seq);
      this.rtp.set(seq, p);
      s.send(p, inPort, '127.0.0.1');
      if (seq % 10 === 0) {
        const r = rtcpSr(this.ssrc, ++this.srs, seq);
        this.rtcp.set(r.readUInt32BE(8), r);
        s.send(r, inPort + 1, '127.0.0.1');
      }
      await new Promise((res) => setTimeout(res, 2));
    }
  }
  /** How many received datagrams equal a sent one byte for byte (and how many do not). */
  match(c: Collector): { rtp: number; rtcp: number; mismatched: number } {
    let rtp = 0;
    let rtcp = 0;
    let mismatched = 0;
    for (const p of c.rtp) (this.rtp.get(p.readUInt16BE(2))?.equals(p) ? rtp++ : mismatched++);
    for (const r of c.rtcp) (r.length >= 12 && this.rtcp.get(r.readUInt32BE(8))?.equals(r) ? rtcp++ : mismatched++);
    return { rtp, rtcp, mismatched };
  }
  stop(): void {
    this.stopped = true;
  }
  async close(): Promise<void> {
    this.stop();
    (await this.out).close();
  }
}

const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && timingSafeEqual(a, b);

/** The session keys and per-packet values of one SRTP packet (RFC 3711 §4.1.1 / RFC 7714 §8.1). */
function rtpCrypto(k: KeyEntry, hdr: Buffer, roc: number) {
  const p = SRTP_PROFILES[k.profile as SrtpProfileName];
  const s = deriveSrtpSessionKeys(k.masterKey, k.masterSalt, { lengths: sessionKeyLengths(p) });
  const ssrc = hdr.readUInt32BE(8);
  const seq = hdr.readUInt16BE(2);
  let iv: Buffer;
  if (p.aead) {
    // IV = (0x0000 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt (12 octets)
    iv = Buffer.alloc(12);
    iv.writeUInt32BE(ssrc, 2);
    iv.writeUInt32BE(roc, 6);
    iv.writeUInt16BE(seq, 10);
    for (let i = 0; i < 12; i++) iv[i]! ^= s.salt[i]!;
  } else {
    // IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16), i = 2^16 · ROC + SEQ
    const index = BigInt(roc) * 65536n + BigInt(seq);
    iv = Buffer.alloc(16);
    Buffer.from(s.salt).copy(iv, 0);
    for (let i = 0; i < 4; i++) iv[4 + i]! ^= (ssrc >>> (24 - 8 * i)) & 255;
    for (let i = 0; i < 6; i++) iv[13 - i]! ^= Number((index >> BigInt(8 * i)) & 255n);
  }
  const rocBytes = Buffer.alloc(4);
  rocBytes.writeUInt32BE(roc);
  // HMAC-SHA1 over the authenticated portion ‖ ROC, truncated to the profile's tag
  const hmac = (authenticated: Buffer) => createHmac('sha1', s.authKey).update(authenticated).update(rocBytes).digest().subarray(0, p.tagLen);
  return { p, s, iv, hmac, cipher: `aes-${k.masterKey.length * 8}-${p.aead ? 'gcm' : 'ctr'}` as const };
}

/**
 * Unprotects one SRTP packet with our own code (RFC 3711 AES-CM + HMAC-SHA1, or RFC 7714
 * AES-GCM), given the ROC; null when authentication fails. Only for the example's checks.
 */
export function unprotectRtp(k: KeyEntry, pkt: Buffer, roc = k.roc): Buffer | null {
  const hdr = pkt.subarray(0, 12);
  const { p, s, iv, hmac, cipher } = rtpCrypto(k, hdr, roc);
  const body = pkt.subarray(0, pkt.length - p.tagLen);
  if (p.aead) {
    const d = createDecipheriv(cipher as 'aes-128-gcm', s.encKey, iv);
    d.setAAD(hdr);
    d.setAuthTag(pkt.subarray(pkt.length - p.tagLen));
    try {
      return Buffer.concat([hdr, d.update(body.subarray(12)), d.final()]);
    } catch {
      return null;
    }
  }
  if (!eq(hmac(body), pkt.subarray(pkt.length - p.tagLen))) return null;
  const c = createCipheriv(cipher, s.encKey, iv);
  return Buffer.concat([hdr, c.update(body.subarray(12)), c.final()]);
}

/** Protects one RTP packet (12-octet header, no CSRC) with our own code, at rollover counter `roc`. */
export function protectRtp(k: KeyEntry, plain: Buffer, roc = k.roc): Buffer {
  const hdr = plain.subarray(0, 12);
  const { p, s, iv, hmac, cipher } = rtpCrypto(k, hdr, roc);
  if (p.aead) {
    const e = createCipheriv(cipher as 'aes-128-gcm', s.encKey, iv);
    e.setAAD(hdr);
    const ct = Buffer.concat([e.update(plain.subarray(12)), e.final()]);
    return Buffer.concat([hdr, ct, e.getAuthTag()]);
  }
  const c = createCipheriv(cipher, s.encKey, iv);
  const body = Buffer.concat([hdr, c.update(plain.subarray(12)), c.final()]);
  return Buffer.concat([body, hmac(body)]);
}

/** Unprotects one SRTCP packet with our own code (RFC 3711 AES-CM + HMAC-SHA1-80, or RFC 7714 §9 AES-GCM); null on auth failure. */
export function unprotectRtcp(k: KeyEntry, pkt: Buffer): Buffer | null {
  const p = SRTP_PROFILES[k.profile as SrtpProfileName];
  const s = deriveSrtcpSessionKeys(k.masterKey, k.masterSalt, { index: 0, lengths: sessionKeyLengths(p) });
  const ssrc = pkt.readUInt32BE(4);
  if (p.aead) {
    // header(8) ‖ ciphertext ‖ tag(16) ‖ E‖index(4); AAD = header ‖ E‖index
    const word = pkt.length - 4;
    const index = pkt.readUInt32BE(word) & 0x7fffffff;
    const iv = Buffer.alloc(12);
    iv.writeUInt32BE(ssrc, 2);
    iv.writeUInt32BE(index, 8);
    for (let i = 0; i < 12; i++) iv[i]! ^= s.salt[i]!;
    const d = createDecipheriv('aes-128-gcm', s.encKey, iv);
    d.setAAD(Buffer.concat([pkt.subarray(0, 8), pkt.subarray(word)]));
    d.setAuthTag(pkt.subarray(word - p.tagLen, word));
    try {
      return Buffer.concat([pkt.subarray(0, 8), d.update(pkt.subarray(8, word - p.tagLen)), d.final()]);
    } catch {
      return null;
    }
  }
  const word = pkt.length - 10 - 4; // SRTCP auth tag is always 80 bits here
  const eIndex = pkt.readUInt32BE(word);
  const index = eIndex & 0x7fffffff;
  const tag = createHmac('sha1', s.authKey).update(pkt.subarray(0, word + 4)).digest().subarray(0, 10);
  if (!eq(tag, pkt.subarray(word + 4))) return null;
  if (!(eIndex & 0x80000000)) return pkt.subarray(0, word);
  const iv = Buffer.alloc(16);
  Buffer.from(s.salt).copy(iv, 0);
  for (let i = 0; i < 4; i++) iv[4 + i]! ^= (ssrc >>> (24 - 8 * i)) & 255;
  for (let i = 0; i < 4; i++) iv[13 - i]! ^= (index >>> (8 * i)) & 255;
  const c = createCipheriv(`aes-${k.masterKey.length * 8}-ctr`, s.encKey, iv);
  return Buffer.concat([pkt.subarray(0, 8), c.update(pkt.subarray(8, word)), c.final()]);
}
