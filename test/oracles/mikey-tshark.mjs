#!/usr/bin/env node
// mikey-tshark: Wireshark's MIKEY dissector (tshark) as an independent judge of MIKEY messages.
// Prints one JSON object on stdout and exits 0 when every message is well formed, 1 when a
// problem was found, 2 on a usage error or when tshark is missing or fails.
//
//   mikey-tshark.mjs [--allow-unknown] [--hex|--base64] MESSAGE   base64, hex or an a=key-mgmt line
//   mikey-tshark.mjs [--allow-unknown] --sdp FILE                 every a=key-mgmt:mikey of an SDP body (- = stdin)
//   mikey-tshark.mjs [--allow-unknown] --pcap FILE                every a=key-mgmt:mikey in a capture
//   options: --pretty (indented JSON), --keep DIR (keep the pcaps tshark read)
//
// How: each message is dissected twice, from pcaps this script writes: raw in a UDP datagram to
// the MIKEY port 2269, and base64 in a session-level a=key-mgmt line of an SDP body in a SIP
// INVITE (the way SIP carries it). The verdict lists the payloads as tshark laid them out
// (name, offset, length), the Wireshark expert infos, and problems: expert infos of severity
// Warning/Error (Malformed...), gaps, bytes after the last payload, a version other than 1.
// tshark 4.0 does not know RFC 6267 (data types 19–25, payloads IBAKE 22, ESK 23): it decodes
// the standard prefix and stops at the first payload it does not know, silently. By default such
// a message is a problem ("tshark could not check all of it"); --allow-unknown accepts it when
// everything before the stop is clean, and `unknown_payload_types` / `decoded_bytes` say where
// tshark stopped. Needs tshark (Debian package "tshark"; test/oracles/install-deps).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBase64, headerComment, messageText, readMessage } from './lib/input.mjs';
import { MIKEY_PORT, SIP_PORT, sdpWithKeyMgmt, sipInvite, udpDatagram, writePcap } from './lib/pcap.mjs';
import { field, findAll, packets, parsePdml } from './lib/pdml.mjs';

const NAMES = {
  'mikey.hdr': 'HDR', 'mikey.kemac': 'KEMAC', 'mikey.pke': 'PKE', 'mikey.dh': 'DH', 'mikey.sign': 'SIGN', 'mikey.t': 'T',
  'mikey.id': 'ID', 'mikey.cert': 'CERT', 'mikey.chash': 'CHASH', 'mikey.v': 'V', 'mikey.sp': 'SP', 'mikey.rand': 'RAND',
  'mikey.err': 'ERR', 'mikey.idr': 'IDR', 'mikey.key': 'KEY', 'mikey.ext': 'EXT', 'mikey.sakke': 'SAKKE',
};
const FAILING = new Set(['Error', 'Warning']);

class Usage extends Error {}

// ---- running tshark ---------------------------------------------------------------------------
function tshark(args) {
  const r = spawnSync('tshark', args, { maxBuffer: 1 << 30, encoding: 'utf8', timeout: 300_000 });
  if (r.error) throw new Usage(r.error.code === 'ENOENT' ? 'tshark not found (apt-get install tshark, or test/oracles/install-deps)' : String(r.error));
  if (r.status !== 0) throw new Usage(`tshark ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim().slice(-500)}`);
  return r.stdout;
}
const pdmlPackets = (pcap, extra = []) => packets(parsePdml(tshark(['-n', '-r', pcap, '-T', 'pdml', ...extra])));
function tsharkVersion() {
  const m = /TShark \(Wireshark\) (\S+)/.exec(tshark(['--version']));
  return m ? m[1] : null;
}

// ---- reading the dissection -------------------------------------------------------------------
/** Expert infos below `el`, each with the protocol layer it belongs to. */
function experts(el, layer) {
  const out = [];
  for (const c of el.children) {
    let here = layer;
    if (c.tag === 'proto') {
      const mal = /^\[Malformed Packet: (.*)\]$/.exec(c.attrs.showname ?? '');
      here = mal ? mal[1] : c.attrs.name;
    } else if (c.attrs.name === '_ws.expert') {
      const m = /^Expert Info \(([^/]+)\/([^)]+)\): (.*)$/.exec(c.attrs.showname ?? '');
      if (m) out.push({ severity: m[1], group: m[2], message: m[3], layer: here });
    }
    out.push(...experts(c, here));
  }
  return out;
}
const mikeyProtos = (pkt) => findAll(pkt, (c) => c.tag === 'proto' && c.attrs.name === 'mikey');

/** One top-level payload item of a <proto name="mikey">, as the verdict lists it. */
function payloadItem(f, base) {
  const name = f.attrs.name ? (NAMES[f.attrs.name] ?? f.attrs.name) : 'UNKNOWN';
  const item = { name, tshark: f.attrs.showname ?? 'Text item', offset: Number(f.attrs.pos) - base, length: name === 'UNKNOWN' ? null : Number(f.attrs.size) };
  const np = f.children.find((c) => c.attrs.name === 'mikey.next_payload');
  if (np) {
    item.next_payload = Number(np.attrs.show);
    item.next_payload_tshark = (np.attrs.showname ?? '').replace(/^Next Payload: /, '');
  }
  return item;
}

/** The verdict on one dissected message (before the carriage and option checks). */
function analyse(proto, messageBytes, threw) {
  const complete = (proto.attrs.showname ?? '').startsWith('Multimedia Internet KEYing: ');
  const items = proto.children.filter((c) => c.tag === 'field');
  const base = items.length ? Number(items[0].attrs.pos) : 0;
  const payloads = items.map((f) => payloadItem(f, base));
  const res = { tshark_label: proto.attrs.showname, complete, payloads, problems: [], notes: [], unknown_payload_types: [] };
  const typeField = field(proto, 'mikey.type');
  if (payloads[0]?.name === 'HDR' && typeField) {
    res.version = Number(field(proto, 'mikey.version')?.attrs.show ?? 0);
    res.data_type = { value: Number(typeField.attrs.show), tshark: (typeField.attrs.showname ?? '').replace(/^Data Type: /, '') };
  }
  // Where did tshark stop? An unknown payload type below 27 shows as a bare "Text item"; one of
  // 27 or more only as the previous payload's "Next Payload: Unknown (N)"; any other early end
  // (an exception, or a value tshark cannot size) leaves the last item running to the end.
  const last = payloads.at(-1);
  let failed;
  if (last?.name === 'UNKNOWN') res.unknown_payload_types.push(payloads.at(-2)?.next_payload ?? null);
  else if (last && !complete) {
    if (last.next_payload && /^Unknown/.test(last.next_payload_tshark ?? '')) res.unknown_payload_types.push(last.next_payload);
    else {
      failed = last;
      failed.failed = true;
      failed.length = null;
    }
  }
  let covered = 0;
  for (const p of payloads) {
    if (p.offset !== covered) {
      res.problems.push(`payload ${p.name} at offset ${p.offset}, expected ${covered} (gap or overlap)`);
      break;
    }
    if (p.length === null) break;
    covered += p.length;
  }
  res.decoded_bytes = covered;
  res.message_bytes = messageBytes;
  res.unknown_values = findAll(proto, (c) => c.tag === 'field' && !['mikey.next_payload', 'mikey.type'].includes(c.attrs.name) && /: Unknown \(\d+\)$/.test(c.attrs.showname ?? ''))
    .map((c) => [c.attrs.name, c.attrs.showname]);
  if (!payloads.length) res.problems.push('tshark decoded no MIKEY payload');
  if (res.data_type && res.version !== 1) res.problems.push(`HDR version is ${res.version}; RFC 3830 defines only 1 (tshark does not flag it)`);
  if (res.data_type && /^Unknown/.test(res.data_type.tshark)) res.notes.push(`data type ${res.data_type.value} is not known to tshark`);
  if (res.unknown_payload_types.length) {
    res.notes.push(`tshark stopped at payload type ${res.unknown_payload_types.join(', ')}, which it does not know; octets ${covered}.. were not checked`);
  } else if (failed && threw) {
    res.problems.push(`tshark failed inside payload ${failed.name} at offset ${failed.offset} (exception: a length runs past the data)`);
  } else if (failed) {
    res.stopped_on_unknown_value = { payload: failed.name, offset: failed.offset };
    res.notes.push(`tshark stopped silently inside payload ${failed.name} at offset ${failed.offset} (no decoder, or a value it does not know); octets ${covered}.. were not checked`);
  }
  if (complete && covered < messageBytes) res.problems.push(`${messageBytes - covered} octet(s) after the last payload (the chain ended at octet ${covered} of ${messageBytes})`);
  if (complete && covered > messageBytes) res.problems.push(`payloads cover ${covered} octets but the message has ${messageBytes}`);
  return res;
}

/** The SIP/SDP carriage of a message: did tshark dissect MIKEY from the a=key-mgmt line, cleanly? */
function carriage(pkt, bytes) {
  const protos = mikeyProtos(pkt);
  const out = { mikey_dissected: protos.length > 0, expert: experts(pkt) };
  if (protos.length) out.tshark_label = protos[0].attrs.showname;
  const km = field(pkt, 'sdp.key_mgmt');
  const data = km && field(km, 'sdp.key_mgmt.data');
  if (data) {
    out.kmpid = field(km, 'sdp.key_mgmt.kmpid')?.attrs.show;
    out.decoded_equals_input = data.attrs.value === Buffer.from(bytes).toString('hex');
  }
  return out;
}

/** Turns the collected facts into problems and the final `ok`. */
function conclude(res, allowUnknown) {
  const problems = [...(res.input_problem ? [res.input_problem] : []), ...res.problems];
  for (const e of res.expert) if (FAILING.has(e.severity)) problems.push(`expert ${e.severity}/${e.group} in ${e.layer}: ${e.message}`);
  const car = res.sip_sdp;
  const threwInSip = car.expert.some((e) => e.group === 'Malformed' && e.layer === 'MIKEY');
  if (!car.mikey_dissected && !threwInSip) problems.push('SIP/SDP carriage: tshark did not dissect MIKEY from the a=key-mgmt line');
  for (const e of car.expert) if (FAILING.has(e.severity)) problems.push(`SIP/SDP carriage: expert ${e.severity}/${e.group} in ${e.layer}: ${e.message}`);
  if (car.decoded_equals_input === false) problems.push('SIP/SDP carriage: the a=key-mgmt base64 does not decode to the message');
  const partial = res.unknown_payload_types?.length || res.stopped_on_unknown_value || /^Unknown/.test(res.data_type?.tshark ?? '');
  if (partial && !allowUnknown) problems.push('tshark does not know a data type, payload type or value in it, so it could not check all of it (--allow-unknown accepts what it could check)');
  res.problems = [...new Set(problems)];
  res.ok = res.problems.length === 0;
  return res;
}

/** Dissects messages ({ bytes, b64?, problem? }) and returns one verdict each. */
function judge(messages, work, allowUnknown) {
  const raw = join(work, 'mikey-udp2269.pcap');
  const sip = join(work, 'mikey-sip.pcap');
  writePcap(raw, messages.map((m, i) => udpDatagram(m.bytes, MIKEY_PORT, MIKEY_PORT, i + 1)));
  writePcap(sip, messages.map((m, i) => udpDatagram(sipInvite(sdpWithKeyMgmt(m.b64 ?? Buffer.from(m.bytes).toString('base64')), i + 1), SIP_PORT, SIP_PORT, i + 1)));
  const rawPkts = pdmlPackets(raw);
  const sipPkts = pdmlPackets(sip);
  return messages.map((m, i) => {
    const pkt = rawPkts[i];
    const expert = experts(pkt);
    const proto = mikeyProtos(pkt)[0];
    const base = proto
      ? analyse(proto, m.bytes.length, expert.some((e) => e.group === 'Malformed'))
      : { complete: false, payloads: [], problems: ['tshark did not run its MIKEY dissector'], notes: [], unknown_payload_types: [], decoded_bytes: 0, message_bytes: m.bytes.length };
    return conclude({ ...base, ...(m.problem ? { input_problem: m.problem } : {}), expert, sip_sdp: carriage(sipPkts[i], m.bytes) }, allowUnknown);
  });
}

/** Every a=key-mgmt attribute of a packet dissected with MIKEY disabled: { level, kmpid, text }. */
function keyMgmtLines(pkt) {
  const out = [];
  for (const f of findAll(pkt, (c) => c.tag === 'field')) {
    const name = f.attrs.name;
    if (name === 'sdp.key_mgmt') {
      const [kmpid, text = ''] = (f.attrs.show ?? '').split(/ (.*)/s);
      out.push({ level: 'session', kmpid, text });
    } else if (name === 'sdp.media_attr' || name === 'sdp.session_attr') {
      const prefix = name === 'sdp.media_attr' ? 'sdp.media_attribute' : 'sdp.session_attribute';
      if (field(f, `${prefix}.field`)?.attrs.show !== 'key-mgmt') continue;
      const [kmpid, text = ''] = (field(f, `${prefix}.value`)?.attrs.show ?? '').split(/ (.*)/s);
      out.push({ level: name === 'sdp.media_attr' ? 'media' : 'session', kmpid, text });
    }
  }
  return out;
}

/** --sdp / --pcap: judges every a=key-mgmt:mikey of the capture, and the capture's own expert infos. */
function judgeCapture(pcap, work, allowUnknown) {
  // With MIKEY disabled tshark keeps the whole SDP tree even where MIKEY would throw.
  const linesPass = pdmlPackets(pcap, ['--disable-protocol', 'mikey']);
  const fullPass = pdmlPackets(pcap);
  const found = [];
  const carriageExpert = [];
  linesPass.forEach((pkt, i) => {
    const frame = Number(field(pkt, 'frame.number')?.attrs.show ?? i + 1);
    for (const km of keyMgmtLines(pkt)) {
      if (km.kmpid !== 'mikey') continue;
      const { bytes, problem } = decodeBase64(km.text);
      found.push({ frame, level: km.level, bytes, b64: km.text, problem });
    }
    const ex = experts(fullPass[i]);
    if (ex.length) carriageExpert.push({ frame, expert: ex });
  });
  const good = found.filter((m) => m.bytes);
  const verdicts = good.length ? judge(good, work, allowUnknown) : [];
  const messages = found.map((m) => ({ ...(m.bytes ? verdicts.shift() : { ok: false, problems: [m.problem] }), frame: m.frame, level: m.level }));
  const out = { carriage_expert: carriageExpert, messages };
  out.ok = messages.length > 0 && messages.every((m) => m.ok) && !carriageExpert.some((c) => c.expert.some((e) => FAILING.has(e.severity)));
  if (!messages.length) out.problems = ['no a=key-mgmt:mikey attribute found'];
  return out;
}

async function main(argv) {
  const o = { allowUnknown: false, pretty: false, force: undefined, keep: undefined, sdp: undefined, pcap: undefined, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--allow-unknown') o.allowUnknown = true;
    else if (a === '--pretty') o.pretty = true;
    else if (a === '--hex' || a === '--base64') o.force = a.slice(2);
    else if (a === '--keep') o.keep = value();
    else if (a === '--sdp') o.sdp = value();
    else if (a === '--pcap') o.pcap = value();
    else if (a === '-h' || a === '--help') {
      process.stdout.write(headerComment(import.meta.url));
      return 0;
    } else if (a.startsWith('--')) throw new Usage(`unknown option ${a}`);
    else o.rest.push(a);
  }
  const work = o.keep ?? mkdtempSync(join(tmpdir(), 'mikey-tshark-'));
  if (o.keep) mkdirSync(o.keep, { recursive: true });
  try {
    let out = { oracle: 'tshark', tshark_version: tsharkVersion() };
    if (o.sdp || o.pcap) {
      let pcap = o.pcap;
      if (!pcap) {
        const body = o.sdp === '-' ? readFileSync(0, 'utf8') : readFileSync(o.sdp, 'utf8');
        pcap = join(work, 'sdp-as-given.pcap');
        writePcap(pcap, [udpDatagram(sipInvite(body.replace(/^[\r\n]+|[\r\n]+$/g, '').replace(/\r?\n/g, '\r\n') + '\r\n'), SIP_PORT, SIP_PORT)]);
      }
      out = { ...out, source: o.pcap ?? o.sdp, ...judgeCapture(pcap, work, o.allowUnknown) };
    } else {
      let msg;
      try {
        msg = readMessage(await messageText(o.rest), o.force);
      } catch (e) {
        throw new Usage(e.message);
      }
      out = { ...out, message_bytes: msg.bytes.length, ...judge([msg], work, o.allowUnknown)[0] };
    }
    process.stdout.write(JSON.stringify(out, null, o.pretty ? 1 : undefined) + '\n');
    return out.ok ? 0 : 1;
  } finally {
    if (!o.keep) rmSync(work, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`mikey-tshark: ${e instanceof Usage ? e.message : e.stack}\n`);
    process.exitCode = 2;
  },
);
