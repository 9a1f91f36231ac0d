// Writing classic pcap files for tshark to dissect: IPv4/UDP datagrams on loopback (link type
// 101, raw IP, so no Ethernet header is needed) and the SIP INVITE that carries an SDP body.
import { writeFileSync } from 'node:fs';

export const SIP_PORT = 5060;
export const MIKEY_PORT = 2269; // IANA port of MIKEY over UDP: tshark dissects it as MIKEY

function ipChecksum(header) {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One IPv4/UDP datagram 127.0.0.1 -> 127.0.0.1 (UDP checksum 0 = not computed, valid in IPv4). */
export function udpDatagram(payload, sport, dport, ident = 1) {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.from([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip.writeUInt16BE(ident & 0xffff, 4);
  ip.writeUInt16BE(ipChecksum(ip), 10);
  return Buffer.concat([ip, udp, Buffer.from(payload)]);
}

/** Writes packets (Buffers of raw IPv4) as a pcap file, one second apart. */
export function writePcap(file, packets) {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(101, 20);
  const recs = packets.map((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_800_000_000 + i, 0);
    r.writeUInt32LE(p.length, 8);
    r.writeUInt32LE(p.length, 12);
    return Buffer.concat([r, p]);
  });
  writeFileSync(file, Buffer.concat([head, ...recs]));
}

/** A SIP INVITE over UDP carrying `sdp` (a string with CRLF line ends) as its body. */
export function sipInvite(sdp, n = 1) {
  const body = Buffer.from(sdp, 'utf8');
  const head = [
    'INVITE sip:bob@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${SIP_PORT};branch=z9hG4bK-ibaked-${n}`,
    'Max-Forwards: 70',
    'From: <sip:alice@127.0.0.1>;tag=ibaked' + n,
    'To: <sip:bob@127.0.0.1>',
    `Call-ID: ibaked-oracle-${n}@127.0.0.1`,
    'CSeq: 1 INVITE',
    `Contact: <sip:alice@127.0.0.1:${SIP_PORT}>`,
    'Content-Type: application/sdp',
    `Content-Length: ${body.length}`,
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head + '\r\n\r\n'), body]);
}

/** An SDP offer with one session-level a=key-mgmt:mikey line. */
export function sdpWithKeyMgmt(b64) {
  return ['v=0', 'o=alice 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `a=key-mgmt:mikey ${b64}`,
    'm=audio 49170 RTP/SAVP 0', 'a=rtpmap:0 PCMU/8000'].join('\r\n') + '\r\n';
}
