// Operator-facing rendering of a decoded MIKEY message, for `ibake decode` and logs: a readable
// tree in the style of `tshark -V` naming every field, and a JSON form with the same content
// (enumerations as {value, name}, byte strings as hex, exact offsets and lengths). Ciphertexts
// (IBAKE, ESK, encrypted KEMAC data) are shown as opaque bytes with their lengths. Key material
// only appears in what the message itself carries in clear (NULL-encrypted KEMAC), never more.
import { toHex } from './bytes.js';
import { csCount } from './header.js';
import type { DecodedMessage, InnerPayload, KeyValidity, Payload, Span } from './model.js';
import {
  CERT_TYPE_NAMES, CS_MAP_NAMES, DATA_TYPE_NAMES, DH_GROUP_NAMES, ECC_CURVES, ENCR_ALG_NAMES, ERR_NAMES,
  EXT_TYPE_NAMES, HASH_FUNC_NAMES, ID_ROLE_NAMES, ID_TYPE_NAMES, KEY_TYPE_NAMES, KV_TYPE_NAMES,
  MAC_ALG_NAMES, PAYLOAD_NAMES, PRF_NAMES, PayloadType, RAND_ROLE_NAMES, SIGN_TYPE_NAMES,
  SK_TYPE_NAMES, SRTP_PARAM_NAMES, SRTP_PARAM_VALUE_NAMES, TR_ROLE_NAMES, TS_TYPE_NAMES, nameOf,
} from './registry.js';
import { spParamInt } from './payload-policy.js';
import { ntpToDate } from './builders.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** One rendered field: JSON key/value and the text line(s). */
interface Field {
  key: string;
  label: string;
  json: Json;
  text: string;
  /** nested groups (e.g. SP parameters, KEMAC plaintext sub-payloads) */
  groups?: { title: string; fields: Field[] }[];
}

const TEXT_BYTES = 48;

function enumField(key: string, label: string, table: Readonly<Record<number, string>> | readonly string[], v: number): Field {
  const name = nameOf(table, v);
  return { key, label, json: { value: v, name }, text: name.startsWith('Unknown') ? name : `${name} (${v})` };
}
function num(key: string, label: string, v: number): Field {
  return { key, label, json: v, text: String(v) };
}
function hex32(v: number): string {
  return `0x${v.toString(16).padStart(8, '0')}`;
}
function bytesField(key: string, label: string, b: Uint8Array, note = ''): Field {
  const h = toHex(b);
  const shown = b.length > TEXT_BYTES ? `${toHex(b.subarray(0, TEXT_BYTES))}…` : h;
  const text = b.length === 0 ? '(empty)' : `${shown} (${b.length} byte${b.length === 1 ? '' : 's'}${note ? `, ${note}` : ''})`;
  return { key, label, json: h, text };
}
function printable(b: Uint8Array): string | undefined {
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(b);
    return /^[\x20-\x7e\u00a0-\uffff]*$/.test(s) ? s : undefined;
  } catch {
    return undefined;
  }
}
function idFields(idType: number, data: Uint8Array): Field[] {
  const s = idType !== 2 ? printable(data) : undefined;
  return [
    enumField('idType', 'ID type', ID_TYPE_NAMES, idType),
    num('idLength', 'ID len', data.length),
    s !== undefined ? { key: 'id', label: 'ID', json: s, text: s } : bytesField('idData', 'ID data', data),
  ];
}
function tsFields(tsType: number, value: bigint): Field[] {
  const n = tsType <= 1 ? 16 : 8;
  const hexv = `0x${value.toString(16).padStart(n, '0')}`;
  let text = hexv;
  const json: { [k: string]: Json } = { hex: hexv };
  if (tsType <= 1) {
    const d = ntpToDate(value);
    if (!Number.isNaN(d.getTime())) {
      json.date = d.toISOString();
      text = `${hexv} (${d.toISOString()})`;
    }
  } else if (tsType === 3) {
    const d = ntpToDate(value << 32n);
    if (!Number.isNaN(d.getTime())) {
      json.date = d.toISOString();
      text = `${hexv} (${d.toISOString()})`;
    }
  } else {
    json.counter = Number(value);
    text = `${Number(value)}`;
  }
  return [enumField('tsType', 'TS type', TS_TYPE_NAMES, tsType), { key: 'tsValue', label: 'TS value', json, text }];
}
function kvFields(kv: KeyValidity): Field[] {
  const out = [enumField('kv', 'KV (key validity)', KV_TYPE_NAMES, kv.type)];
  if (kv.type === 1) out.push(bytesField('spi', 'SPI/MKI', kv.spi));
  if (kv.type === 2) out.push(bytesField('validFrom', 'Valid From', kv.from), bytesField('validTo', 'Valid To', kv.to));
  return out;
}

function innerFields(p: InnerPayload): Field[] {
  switch (p.kind) {
    case 'KEY': {
      const f = [enumField('keyType', 'Type', KEY_TYPE_NAMES, p.keyType), num('keyLength', 'Key data len', p.key.length), bytesField('key', 'Key data', p.key)];
      if (p.salt) f.push(num('saltLength', 'Salt len', p.salt.length), bytesField('salt', 'Salt data', p.salt));
      return [...f, ...kvFields(p.kv)];
    }
    case 'SK':
      return [enumField('skType', 'SK type', SK_TYPE_NAMES, p.skType), num('keyLength', 'Key data len', p.key.length), bytesField('key', 'Key data', p.key), ...kvFields(p.kv)];
    case 'ECCPT': {
      const c = ECC_CURVES[p.curve];
      return [
        { key: 'curve', label: 'ECC curve', json: { value: p.curve, name: c?.name ?? `Unknown (${p.curve})` }, text: `${c?.name ?? 'Unknown'} (${p.curve})` },
        bytesField('point', 'ECC point', p.point, p.point[0] === 4 ? 'SEC1 uncompressed' : 'SEC1 compressed'),
        num('authAlg', 'Auth alg (ignored)', p.authAlg ?? 0),
        num('tgkLen', 'TGK len (ignored)', p.tgkLen ?? 0),
        ...kvFields(p.kv),
      ];
    }
    case 'IDR':
      return [enumField('role', 'ID role', ID_ROLE_NAMES, p.role), ...idFields(p.idType, p.data)];
    case 'ID':
      return idFields(p.idType, p.data);
    case 'RANDR':
    case 'EXT':
      return payloadFields(p);
  }
}

function payloadFields(p: Payload): Field[] {
  switch (p.kind) {
    case 'T':
      return tsFields(p.tsType, p.value);
    case 'TR':
      return [enumField('role', 'TS role', TR_ROLE_NAMES, p.role), ...tsFields(p.tsType, p.value)];
    case 'RAND':
      return [num('randLength', 'RAND len', p.rand.length), bytesField('rand', 'RAND', p.rand)];
    case 'RANDR':
      return [enumField('role', 'RAND role', RAND_ROLE_NAMES, p.role), num('randLength', 'RAND len', p.rand.length), bytesField('rand', 'RAND', p.rand)];
    case 'ID':
      return idFields(p.idType, p.data);
    case 'IDR':
      return [enumField('role', 'ID role', ID_ROLE_NAMES, p.role), ...idFields(p.idType, p.data)];
    case 'CERT':
      return [enumField('certType', 'Cert type', CERT_TYPE_NAMES, p.certType), num('certLength', 'Cert len', p.data.length), bytesField('cert', 'Certificate', p.data)];
    case 'CHASH':
      return [enumField('hashFunc', 'Hash func', HASH_FUNC_NAMES, p.hashFunc), bytesField('hash', 'Hash', p.hash)];
    case 'V':
      return [enumField('authAlg', 'Auth alg', MAC_ALG_NAMES, p.authAlg), bytesField('mac', 'Ver data (MAC)', p.mac)];
    case 'SIGN':
      return [enumField('sType', 'S type', SIGN_TYPE_NAMES, p.sType), num('signatureLength', 'Signature len', p.signature.length), bytesField('signature', 'Signature', p.signature)];
    case 'SP': {
      const params = p.params.map((q) => {
        const name = p.protType === 0 ? nameOf(SRTP_PARAM_NAMES, q.type) : `Parameter ${q.type}`;
        const enumNames = p.protType === 0 ? SRTP_PARAM_VALUE_NAMES[q.type] : undefined;
        const iv = spParamInt(q.value);
        let meaning: string | undefined;
        if (enumNames && q.value.length === 1) meaning = nameOf(enumNames, q.value[0]!);
        else if (p.protType === 0 && iv !== undefined) meaning = String(iv);
        const j: { [k: string]: Json } = { type: { value: q.type, name }, value: toHex(q.value) };
        if (meaning !== undefined) j.meaning = meaning;
        return { key: 'param', label: `${name} (${q.type})`, json: j, text: meaning !== undefined ? `${meaning} [${toHex(q.value)}]` : `0x${toHex(q.value)}` } as Field;
      });
      const total = p.params.reduce((a, q) => a + 2 + q.value.length, 0);
      return [
        num('policyNo', 'Policy no', p.policyNo),
        enumField('protType', 'Prot type', { 0: 'SRTP' }, p.protType),
        num('paramLength', 'Policy param length', total),
        { key: 'params', label: 'Parameters', json: params.map((f) => f.json), text: params.length ? '' : '(none: all SRTP defaults)', groups: params.length ? [{ title: 'Parameters', fields: params }] : [] },
      ];
    }
    case 'ERR':
      return [enumField('errNo', 'Error no', ERR_NAMES, p.errNo), num('reserved', 'Reserved', p.reserved ?? 0)];
    case 'EXT': {
      const s = p.extType === 1 ? printable(p.data) : undefined;
      return [
        enumField('extType', 'Type', EXT_TYPE_NAMES, p.extType),
        num('dataLength', 'Length', p.data.length),
        s !== undefined ? { key: 'sdpIds', label: 'SDP IDs', json: s, text: s } : bytesField('data', 'Data', p.data),
      ];
    }
    case 'PKE':
      return [num('c', 'C (envelope key cache)', p.c), num('dataLength', 'Data len', p.data.length), bytesField('data', 'Data (encrypted envelope key)', p.data)];
    case 'DH':
      return [enumField('group', 'DH group', DH_GROUP_NAMES, p.group), bytesField('value', 'DH value', p.value), ...kvFields(p.kv)];
    case 'SAKKE':
      return [num('params', 'SAKKE params', p.params), num('idScheme', 'ID scheme', p.idScheme), num('dataLength', 'SAKKE data len', p.data.length), bytesField('data', 'SAKKE data', p.data)];
    case 'IBAKE':
    case 'ESK':
      return [num('encrDataLength', 'Encr data len', p.encrData.length), bytesField('encrData', 'Encr data', p.encrData, 'IBE ciphertext')];
    case 'KEMAC': {
      const f: Field[] = [
        enumField('encrAlg', 'Encr alg', ENCR_ALG_NAMES, p.encrAlg),
        num('encrDataLength', 'Encr data len', p.encrData.length),
        bytesField('encrData', 'Encr data', p.encrData, p.encrAlg === 0 ? 'plaintext' : 'encrypted'),
        enumField('macAlg', 'MAC alg', MAC_ALG_NAMES, p.macAlg),
        bytesField('mac', 'MAC', p.mac),
      ];
      if (p.plain) {
        const subs = p.plain.map((s) => subGroup(s));
        f.push({ key: 'subPayloads', label: 'Key data sub-payloads', json: subs.map((g) => g.json), text: '', groups: subs.map((g) => g.group) });
      }
      return f;
    }
  }
}

function subGroup(s: InnerPayload & Span): { json: Json; group: { title: string; fields: Field[] } } {
  const type = PayloadType[s.kind];
  const fields = innerFields(s);
  const json: { [k: string]: Json } = { type, name: s.kind, offset: s.offset ?? null, length: s.length ?? null };
  for (const f of fields) json[f.key] = f.json;
  return { json, group: { title: `${PAYLOAD_NAMES[type]} [offset ${s.offset}, ${s.length} bytes within the plaintext]`, fields } };
}

export interface Description {
  json: { [k: string]: Json };
  text: string;
}

/** Renders a decoded message as a tshark-like tree and as JSON. */
export function describeMessage(m: DecodedMessage): Description {
  const h = m.header;
  const nextOf = (i: number): number => {
    const p = m.payloads[i];
    return p ? PayloadType[p.kind] : 0;
  };
  const lines: string[] = [];
  const dtName = nameOf(DATA_TYPE_NAMES, h.dataType);
  lines.push(`MIKEY message, ${m.bytes.length} bytes: ${dtName} (${h.dataType})`);
  lines.push(`  Common Header (HDR) [offset ${h.offset}, ${h.length} bytes]`);
  const cs: Json[] = [];
  const hdr: [string, string][] = [
    ['Version', '1'],
    ['Data type', `${dtName} (${h.dataType})`],
    ['Next payload', `${nameOf(PAYLOAD_NAMES, nextOf(0))} (${nextOf(0)})`],
    ['V', h.v ? '1 (response expected)' : '0'],
    ['PRF func', `${nameOf(PRF_NAMES, h.prf)}${nameOf(PRF_NAMES, h.prf).startsWith('Unknown') ? '' : ` (${h.prf})`}`],
    ['CSB ID', hex32(h.csbId)],
    ['#CS', String(csCount(h.csMap))],
    ['CS ID map type', `${nameOf(CS_MAP_NAMES, h.csMap.type)} (${h.csMap.type})`],
  ];
  for (const [k, v] of hdr) lines.push(`    ${k}: ${v}`);
  if (h.csMap.type === 0) {
    h.csMap.entries.forEach((e, i) => {
      cs.push({ csId: i + 1, policyNo: e.policyNo, ssrc: hex32(e.ssrc), roc: e.roc });
      lines.push(`    CS #${i + 1}: Policy_no ${e.policyNo}, SSRC ${hex32(e.ssrc)}, ROC ${e.roc}`);
    });
  } else if (h.csMap.type === 2) {
    for (const e of h.csMap.entries) {
      cs.push({ csId: e.csId, protType: e.protType, s: e.s, policies: e.policies, sessionData: toHex(e.sessionData), spi: toHex(e.spi) });
      lines.push(`    CS #${e.csId}: Prot type ${e.protType}, S ${e.s ? 1 : 0}, policies [${e.policies.join(', ')}], session data ${toHex(e.sessionData) || '(none)'}, SPI ${toHex(e.spi) || '(none)'}`);
    }
  }
  const payloads: Json[] = [];
  m.payloads.forEach((p, i) => {
    const type = PayloadType[p.kind];
    const fields = payloadFields(p);
    const nxt = p.kind === 'SIGN' ? undefined : nextOf(i + 1);
    lines.push(`  ${PAYLOAD_NAMES[type]} [offset ${p.offset}, ${p.length} bytes]`);
    if (nxt !== undefined) lines.push(`    Next payload: ${nameOf(PAYLOAD_NAMES, nxt)} (${nxt})`);
    const j: { [k: string]: Json } = { type, name: p.kind, offset: p.offset, length: p.length };
    if (nxt !== undefined) j.nextPayload = nxt;
    renderFields(fields, '    ', lines);
    for (const f of fields) j[f.key] = f.json;
    payloads.push(j);
  });
  const json: { [k: string]: Json } = {
    version: 1,
    dataType: { value: h.dataType, name: dtName },
    csbId: hex32(h.csbId),
    prf: { value: h.prf, name: nameOf(PRF_NAMES, h.prf) },
    v: h.v,
    csCount: csCount(h.csMap),
    csMapType: { value: h.csMap.type, name: nameOf(CS_MAP_NAMES, h.csMap.type) },
    cs,
    length: m.bytes.length,
    payloads,
  };
  if (m.mac) json.mac = { offset: m.mac.offset, length: m.mac.length };
  return { json, text: lines.join('\n') + '\n' };
}

function renderFields(fields: Field[], indent: string, lines: string[]): void {
  for (const f of fields) {
    if (f.text !== '' || !f.groups) lines.push(`${indent}${f.label}: ${f.text}`);
    for (const g of f.groups ?? []) {
      lines.push(`${indent}${g.title}`);
      renderFields(g.fields, indent + '    ', lines);
    }
  }
}
