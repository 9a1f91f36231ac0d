// The SIP capture: every SIP datagram the two user agents sent, as IPv4/UDP packets on
// 127.0.0.1, written to a pcap with text2pcap (raw-IP link type, time stamps from the send
// times), then dissected by tshark as SIP/SDP on the agents' ports. The result lists, per
// packet, the SIP method or status, the CSeq method, the key-mgmt protocol id and MIKEY fields
// tshark decoded, and any malformed-packet or error-level expert item.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SipDatagram } from './sip.js';

function ipv4Udp(d: SipDatagram): Buffer {
  const udpLen = 8 + d.bytes.length;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + udpLen, 2);
  ip[8] = 64; // TTL
  ip[9] = 17; // UDP
  Buffer.from([127, 0, 0, 1]).copy(ip, 12);
  Buffer.from([127, 0, 0, 1]).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(d.src, 0);
  udp.writeUInt16BE(d.dst, 2);
  udp.writeUInt16BE(udpLen, 4); // checksum 0: none (allowed for UDP over IPv4)
  return Buffer.concat([ip, udp, d.bytes]);
}

/** text2pcap's input: per packet a time stamp line prefix and an offset-hex dump. */
function hexDump(ds: SipDatagram[]): string {
  const out: string[] = [];
  for (const d of ds) {
    const t = new Date(d.at);
    const stamp = `${t.toISOString().slice(11, 19)}.${String(t.getUTCMilliseconds()).padStart(3, '0')}`;
    const b = ipv4Udp(d);
    for (let off = 0; off < b.length; off += 16) {
      const hex = [...b.subarray(off, off + 16)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
      out.push(`${off === 0 ? stamp + ' ' : ''}${off.toString(16).padStart(6, '0')}  ${hex}`);
    }
    out.push('');
  }
  return out.join('\n') + '\n';
}

export interface DissectedPacket {
  frame: number;
  method: string;
  status: string;
  cseqMethod: string;
  kmpid: string;
  mikeyVersion: string;
  mikeyType: string;
  csbId: string;
  malformed: boolean;
  errors: string;
}

/** Writes `dir/sip-call.pcap` and returns tshark's dissection of it. */
export function writeAndDissect(dir: string, ds: SipDatagram[], timeoutMs: number): { pcap: string; packets: DissectedPacket[] } {
  const txt = join(dir, 'sip-call.txt');
  const pcap = join(dir, 'sip-call.pcap');
  writeFileSync(txt, hexDump(ds));
  execFileSync('text2pcap', ['-q', '-l', '101', '-t', '%H:%M:%S.', txt, pcap], { timeout: timeoutMs, stdio: ['ignore', 'ignore', 'pipe'] });
  const ports = [...new Set(ds.flatMap((d) => [d.src, d.dst]))];
  const fields = ['frame.number', 'sip.Method', 'sip.Status-Code', 'sip.CSeq.method', 'sdp.key_mgmt.kmpid', 'mikey.version', 'mikey.type', 'mikey.csb_id', '_ws.malformed', '_ws.expert.severity'];
  const out = execFileSync(
    'tshark',
    ['-r', pcap, ...ports.flatMap((p) => ['-d', `udp.port==${p},sip`]), '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const packets = out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const c = l.split('\t');
      return {
        frame: Number(c[0]), method: c[1] ?? '', status: c[2] ?? '', cseqMethod: c[3] ?? '', kmpid: c[4] ?? '',
        mikeyVersion: c[5] ?? '', mikeyType: c[6] ?? '', csbId: c[7] ?? '', malformed: (c[8] ?? '') !== '',
        // expert severity 8388608 = error (PI_ERROR)
        errors: (c[9] ?? '').split(',').filter((s) => Number(s) >= 0x800000).join(','),
      };
    });
  return { pcap, packets };
}
