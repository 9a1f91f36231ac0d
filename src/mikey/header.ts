// The MIKEY Common Header (RFC 3830 §6.1, RFC 4563 Empty map, RFC 6043 GENERIC-ID): version,
// data type, next payload, V flag, PRF func, CSB ID, #CS, CS ID map type and map info.
// The map info is parsed by map type and #CS (RFC 3830's "16 bits" label is wrong). Non-zero
// SSRCs must be distinct (keystream reuse otherwise; 0 means "responder fills it in").
import { Reader, Writer, checkBytes, checkUint } from './bytes.js';
import { MikeyError, encodeError } from './errors.js';
import type { CsMap, GenericIdEntry, MikeyHeader, SrtpIdEntry } from './model.js';
import { DATA_TYPE_NAMES } from './registry.js';

export interface RawHeader {
  header: MikeyHeader & { offset: number; length: number };
  /** the HDR's Next payload (type of the first payload) */
  next: number;
}

export function decodeHeader(r: Reader): RawHeader {
  const start = r.at;
  const version = r.u8('HDR version');
  if (version !== 1) throw new MikeyError('MIKEY_VERSION', start, `HDR version is ${version}, only 1 is defined`);
  const dtAt = r.at;
  const dataType = r.u8('HDR data type');
  if (dataType >= DATA_TYPE_NAMES.length) {
    throw new MikeyError('MIKEY_UNKNOWN_DATA_TYPE', dtAt, `unknown HDR data type ${dataType} (0..26 are defined)`);
  }
  const next = r.u8('HDR next payload');
  const vprf = r.u8('HDR V/PRF');
  const csbId = r.u32('HDR CSB ID');
  const ncs = r.u8('HDR #CS');
  const mtAt = r.at;
  const mapType = r.u8('HDR CS ID map type');
  let csMap: CsMap;
  if (mapType === 0) {
    // check the whole map fits before allocating entries
    r.need(ncs * 9, `SRTP-ID map of ${ncs} crypto session(s)`);
    const entries: SrtpIdEntry[] = [];
    for (let i = 0; i < ncs; i++) {
      entries.push({ policyNo: r.u8('Policy_no'), ssrc: r.u32('SSRC'), roc: r.u32('ROC') });
    }
    const ssrcs = new Set<number>();
    entries.forEach((e, i) => {
      if (e.ssrc !== 0 && ssrcs.has(e.ssrc)) {
        throw new MikeyError('MIKEY_DUPLICATE', mtAt + 1 + i * 9 + 1, `SSRC 0x${e.ssrc.toString(16).padStart(8, '0')} appears twice in the SRTP-ID map`);
      }
      ssrcs.add(e.ssrc);
    });
    csMap = { type: 0, entries };
  } else if (mapType === 1) {
    csMap = { type: 1, count: ncs };
  } else if (mapType === 2) {
    const entries: GenericIdEntry[] = [];
    for (let i = 0; i < ncs; i++) {
      const csId = r.u8('GENERIC-ID CS ID');
      const protType = r.u8('GENERIC-ID Prot type');
      const sp = r.u8('GENERIC-ID S/#P');
      const np = sp & 0x7f;
      r.need(np, 'GENERIC-ID policy numbers');
      const policies: number[] = [];
      for (let j = 0; j < np; j++) policies.push(r.u8('GENERIC-ID policy number'));
      const sdl = r.u16('GENERIC-ID Session Data Length');
      const sessionData = r.bytes(sdl, 'GENERIC-ID Session Data');
      const spil = r.u8('GENERIC-ID SPI Length');
      const spi = r.bytes(spil, 'GENERIC-ID SPI');
      entries.push({ csId, protType, s: (sp & 0x80) !== 0, policies, sessionData, spi });
    }
    csMap = { type: 2, entries };
  } else {
    throw new MikeyError('MIKEY_BAD_VALUE', mtAt, `unknown CS ID map type ${mapType} (0 SRTP-ID, 1 Empty, 2 GENERIC-ID)`);
  }
  const header = {
    version: 1 as const,
    dataType,
    v: (vprf & 0x80) !== 0,
    prf: vprf & 0x7f,
    csbId,
    csMap,
    offset: start,
    length: r.at - start,
  };
  return { header, next };
}

export function csCount(map: CsMap): number {
  return map.type === 1 ? map.count : map.entries.length;
}

export function encodeHeader(w: Writer, h: MikeyHeader, next: number): void {
  if (!h || typeof h !== 'object') throw encodeError('header is required');
  if (h.version !== undefined && h.version !== 1) throw encodeError('header version must be 1');
  checkUint(h.dataType, DATA_TYPE_NAMES.length - 1, 'HDR data type');
  if (typeof h.v !== 'boolean') throw encodeError('HDR V flag must be a boolean');
  checkUint(h.prf, 0x7f, 'HDR PRF func');
  checkUint(h.csbId, 0xffffffff, 'HDR CSB ID');
  const map = h.csMap;
  if (!map || typeof map !== 'object') throw encodeError('HDR csMap is required');
  w.u8(1, 'version');
  w.u8(h.dataType, 'data type');
  w.u8(next, 'next payload');
  w.u8((h.v ? 0x80 : 0) | h.prf, 'V/PRF');
  w.u32(h.csbId, 'CSB ID');
  if (map.type === 0) {
    if (!Array.isArray(map.entries)) throw encodeError('SRTP-ID map entries must be an array');
    w.u8(map.entries.length, '#CS');
    w.u8(0, 'map type');
    const ssrcs = new Set<number>();
    for (const e of map.entries) {
      if (!e || typeof e !== 'object') throw encodeError('SRTP-ID map entries must be objects');
      if (e.ssrc !== 0 && ssrcs.has(e.ssrc)) throw encodeError(`SSRC ${e.ssrc} appears twice in the SRTP-ID map`);
      ssrcs.add(e.ssrc);
      w.u8(e.policyNo, 'Policy_no');
      w.u32(e.ssrc, 'SSRC');
      w.u32(e.roc, 'ROC');
    }
  } else if (map.type === 1) {
    w.u8(map.count, '#CS');
    w.u8(1, 'map type');
  } else if (map.type === 2) {
    if (!Array.isArray(map.entries)) throw encodeError('GENERIC-ID map entries must be an array');
    w.u8(map.entries.length, '#CS');
    w.u8(2, 'map type');
    for (const e of map.entries) {
      if (!e || typeof e !== 'object') throw encodeError('GENERIC-ID map entries must be objects');
      w.u8(e.csId, 'GENERIC-ID CS ID');
      w.u8(e.protType, 'GENERIC-ID Prot type');
      if (!Array.isArray(e.policies)) throw encodeError('GENERIC-ID policies must be an array');
      checkUint(e.policies.length, 0x7f, 'GENERIC-ID #P');
      w.u8((e.s ? 0x80 : 0) | e.policies.length, 'GENERIC-ID S/#P');
      for (const p of e.policies) w.u8(p, 'GENERIC-ID policy number');
      checkBytes(e.sessionData, 'GENERIC-ID Session Data');
      w.u16(e.sessionData.length, 'Session Data Length');
      w.bytes(e.sessionData, 'Session Data');
      checkBytes(e.spi, 'GENERIC-ID SPI', 255);
      w.u8(e.spi.length, 'SPI Length');
      w.bytes(e.spi, 'SPI');
    }
  } else {
    throw encodeError(`unknown CS ID map type ${(map as { type: unknown }).type}`);
  }
}
