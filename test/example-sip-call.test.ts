// examples/sip-call end to end (npm run example:sip-call): two SIP user agents on loopback, each
// with its own ibaked (sharing one KMS), place a call INVITE(I_MESSAGE_1) / 200(R_MESSAGE_1) /
// ACK / UPDATE(I_MESSAGE_2) / 200(R_MESSAGE_2), then RTP + RTCP flow both ways through GStreamer
// srtpenc -> srtpdec keyed from the daemons' replies. Checks: every packet decrypts byte-identical
// (SRTCP included) and re-verifies with our own RFC 3711 code on the wire; a decoder with another
// call's key fails authentication on every packet; a CSB update mid-stream moves both sides to new
// keys with no packet lost; the SIP pcap (text2pcap) dissects as SIP/SDP with MIKEY in tshark; and
// calls under the other three profiles, AEAD_AES_128_GCM (RFC 7714) included; and srtpdec
// honouring a non-zero ROC from a key entry (packets protected by our own RFC 3711/7714 code);
// the receivers' ports cannot be shared, and a crash of gst-launch is told apart (and the call
// run once more, see once()). Needs gst-launch-1.0 with srtpenc/srtpdec, text2pcap and tshark
// (test/oracles/install-deps installs them): skipped with the reason when missing, failed under CI.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { runSipCall } from '../examples/sip-call/call.js';
import { Collector, crashesOf, decoder, pairsInUse, portPair, protectRtp, rtpPacket, unprotectRtp, udp, type KeyEntry, type Pipeline } from '../examples/sip-call/media.js';
import { SRTP_PROFILES, stackKeys } from '../src/srtp/index.js';
import { oracleTools } from './helpers/oracle-gate.js';

let gcm = false;

/** Our child processes still running (the run must leave none behind). */
function children(): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() && !/\bps -o\b/.test(l));
  } catch {
    return []; // ps exits 1 when nothing matches
  }
}
const have = oracleTools(['gst-srtp', 'tshark', 'text2pcap'], 'examples/sip-call (SRTP through GStreamer, SIP capture)');
if (have) gcm = execFileSync('gst-inspect-1.0', ['srtpenc'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('aes-128-gcm');

/**
 * Should gst-launch crash (GStreamer 1.22's srtpdec did, with keyed caps on both pads, in 4 of
 * 730 calls; media.ts decoder() avoids that), it is a fault of the oracle, not of the keys: the
 * run reports it, and it is run once more. A second crash fails.
 */
async function once<T>(run: () => Promise<T & { oracleCrashes: string[] }>): Promise<T & { oracleCrashes: string[] }> {
  const r = await run();
  if (!r.oracleCrashes.length) return r;
  console.warn(`example-sip-call: GStreamer crashed (${r.oracleCrashes.join(', ')}); running it once more`);
  return run();
}

describe.runIf(have)('examples/sip-call', () => {
  it('a SIP call keyed by two daemons carries SRTP/SRTCP both ways; wrong key fails; CSB update mid-stream; pcap dissects', async () => {
    const pairsBefore = pairsInUse();
    const r = await once(() => runSipCall({ packets: 120, stepTimeoutMs: 30_000 }));
    expect(pairsInUse()).toBe(pairsBefore); // every port pair given back (a long-lived caller would run out)
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.sip.map((l) => l.split(' ')[0] === 'SIP/2.0' ? l.split(' ')[1] : l.split(' ')[0])).toEqual(['INVITE', '200', 'ACK', 'UPDATE', '200', 'UPDATE', '200', 'UPDATE', '200', 'BYE', '200']);
    expect(r.keysAgree && r.learnedSsrcFromR1).toBe(true);
    for (const d of [...r.media, ...r.rekey!.after]) {
      expect(d.sent).toEqual({ rtp: 60, rtcp: 6 });
      expect(d.decrypted).toEqual(d.sent);
      expect(d.mismatched).toBe(0);
      expect(d.authFailures).toBe(0);
      expect(d.tapVerified).toEqual(d.sent);
    }
    expect(r.rekey!.keysChanged).toBe(true);
    expect(r.wrongKey).toEqual({ sent: { rtp: 60, rtcp: 6 }, decrypted: 0, authFailures: 66 });
    // tshark: MIKEY data types 22..25 (I_MESSAGE_1, R_MESSAGE_1, I_MESSAGE_2, R_MESSAGE_2), then the
    // CSB update's U1 (I_MESSAGE_1), U2 (R_MESSAGE_1), U3 (I_MESSAGE_2); U3's 200 has no key-mgmt
    const withMikey = r.pcap!.packets.filter((p) => p.kmpid === 'mikey');
    expect(withMikey.map((p) => p.mikeyType)).toEqual(['22', '23', '24', '25', '22', '23', '24']);
    expect(new Set(withMikey.map((p) => p.csbId)).size).toBe(1);
    expect(r.pcap!.packets.every((p) => !p.malformed && !p.errors)).toBe(true);
    expect(children()).toEqual([]);
  });

  it('a crashed gst-launch is told apart from a stopped one', async () => {
    const k: KeyEntry = { csId: 1, ssrc: 7, roc: 0, profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: new Uint8Array(16).fill(1), masterSalt: new Uint8Array(14).fill(2), gst: stackKeys({ csId: 1, ssrc: 7, roc: 0, profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: new Uint8Array(16).fill(1), masterSalt: new Uint8Array(14).fill(2) }).gst };
    const out = await Collector.open();
    const ports = [await portPair(), await portPair()];
    const pipes = [decoder('crashes', k, ports[0]!, out.port), decoder('stopped', k, ports[1]!, out.port)];
    try {
      await Promise.all(pipes.map((x) => x.playing(20_000)));
      // its ports lie below the kernel's ephemeral range, and the decoder holds them without
      // SO_REUSEADDR: no later socket can share them, not even one that sets it
      const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
      for (const port of ports) expect(port + 1).toBeLessThan(ephemeralLow!);
      for (const port of [ports[0]!, ports[0]! + 1]) {
        const s = createSocket({ type: 'udp4', reuseAddr: true });
        await expect(new Promise((res, rej) => (s.once('error', rej), s.bind(port, '0.0.0.0', () => res(port))))).rejects.toThrow(/EADDRINUSE/);
        s.close();
      }
      expect(pipes[0]!.crash).toBeUndefined();
      process.kill(pipes[0]!.pid!, 'SIGSEGV');
      await pipes[1]!.stop();
      for (let i = 0; i < 100 && !pipes[0]!.crash; i++) await new Promise((r) => setTimeout(r, 20));
      expect(crashesOf(pipes)).toEqual(['crashes SIGSEGV']);
      expect(pipes[0]!.diagnosis()).toMatch(/^crashes exited \(SIGSEGV\)/);
    } finally {
      await Promise.all(pipes.map((x) => x.stop()));
      out.close();
    }
  });

  it.each([700, 2200])('a run past its overall bound (%i ms) stops every child and reports it', async (bound) => {
    // 3000 packets are paced over at least 6 s, so the run cannot finish inside either bound
    const r = await runSipCall({ packets: 3000, totalTimeoutMs: bound, stepTimeoutMs: 10_000 });
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).toMatch(new RegExp(`longer than ${bound} ms`));
    expect(children()).toEqual([]);
  });

  it.each([300, 1500])('an abort after %i ms (main.ts: SIGINT, SIGTERM) stops every child and reports it', async (after) => {
    const abort = new AbortController();
    const t = setTimeout(() => abort.abort(), after);
    const r = await runSipCall({ packets: 3000, signal: abort.signal, stepTimeoutMs: 10_000 });
    clearTimeout(t);
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).toMatch(/the run was aborted; children stopped/);
    expect(children()).toEqual([]);
  });

  it.each(['AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const)('a %s call works the same way', async (profile) => {
    if (profile === 'AEAD_AES_128_GCM' && !gcm) {
      console.warn('example-sip-call: the GCM call is SKIPPED: this srtpenc has no aes-128-gcm');
      return;
    }
    const r = await once(() => runSipCall({ packets: 40, profile, rekey: false, pcap: false, stepTimeoutMs: 30_000 }));
    expect(r.problems).toEqual([]);
    for (const d of r.media) {
      expect(d.decrypted).toEqual({ rtp: 40, rtcp: 4 });
      expect(d.tapVerified).toEqual({ rtp: 40, rtcp: 4 });
    }
    expect(r.wrongKey!.authFailures).toBe(44);
  });

  it.each(['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const)('srtpdec takes a non-zero ROC from the key entry (%s): packets at ROC 5 decrypt, the same caps with ROC 0 fail', async (profile) => {
    if (profile === 'AEAD_AES_128_GCM' && !gcm) return;
    const p = SRTP_PROFILES[profile];
    const base = { csId: 1, ssrc: 0x0badcafe, roc: 5, profile, masterKey: new Uint8Array(randomBytes(p.masterKeyLen)), masterSalt: new Uint8Array(randomBytes(p.masterSaltLen)) };
    const entry: KeyEntry = { ...base, gst: stackKeys(base).gst };
    const roc0: KeyEntry = { ...entry, gst: { ...entry.gst, roc: 0 } };
    const run = async () => {
      const [good, bad] = [await Collector.open(), await Collector.open()];
      const [pg, pb] = [await portPair(), await portPair()];
      const pipes: Pipeline[] = [decoder('roc5', entry, pg, good.port), decoder('roc0', roc0, pb, bad.port)];
      const out = await udp();
      try {
        await Promise.all(pipes.map((x) => x.playing(20_000)));
        const sent = new Map<number, Buffer>();
        for (let seq = 1; seq <= 30; seq++) {
          const plain = rtpPacket(entry.ssrc, seq);
          sent.set(seq, plain);
          const srtp = protectRtp(entry, plain, 5); // index 5·2^16 + seq, as a sender past 5 rollovers
          expect(unprotectRtp(entry, srtp, 5)).toEqual(plain);
          expect(unprotectRtp(entry, srtp, 0)).toBeNull();
          out.send(srtp, pg, '127.0.0.1');
          out.send(srtp, pb, '127.0.0.1');
          await new Promise((r) => setTimeout(r, 2));
        }
        for (let i = 0; i < 200 && !crashesOf(pipes).length && (good.rtp.length < 30 || pipes[1]!.authFailures < 30); i++) await new Promise((r) => setTimeout(r, 50));
        await Promise.all(pipes.map((x) => x.stop()));
        return { sent, decrypted: good.rtp, wrongRoc: bad.rtp.length, authFailures: pipes.map((x) => x.authFailures), oracleCrashes: crashesOf(pipes) };
      } finally {
        await Promise.all(pipes.map((x) => x.stop()));
        out.close();
        good.close();
        bad.close();
      }
    };
    const r = await once(run);
    expect(r.oracleCrashes).toEqual([]);
    expect(r.decrypted.length).toBe(30);
    for (const d of r.decrypted) expect(d.equals(r.sent.get(d.readUInt16BE(2))!)).toBe(true);
    expect(r.authFailures[0]).toBe(0);
    // none decrypted with ROC 0, and what reached it failed authentication: the count is of
    // gst-launch's warning lines, and a CI run under load saw 29 of 30 within the 10 s
    expect(r.wrongRoc).toBe(0);
    expect(r.authFailures[1]).toBeGreaterThanOrEqual(20);
  });
});
