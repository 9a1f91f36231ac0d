// Which payloads each message type may carry, in which order and how often (RFC 3830 §3–§5,
// RFC 6267 §4–§5 incl. CSB updates, RFC 6509 §4, and our profile: {SP} after the identities in
// the I/R messages (OPEN-12), KEMAC in R_MESSAGE_2 for pre-encoded content, the CSB-update
// confirmation as an I_MESSAGE_2 with V and no IBAKE). A General Extension
// may appear anywhere before a final V / SIGN. Checked after decoding and before encoding, so
// the decoder and the encoder accept exactly the same messages.
import { MikeyError, encodeError } from './errors.js';
import type { MikeyHeader, Payload, Span } from './model.js';
import { DATA_TYPE_NAMES, ID_ROLE_NAMES } from './registry.js';

interface Slot {
  kinds: readonly Payload['kind'][];
  /** IDR roles accepted by this slot (IDR only) */
  roles?: readonly number[];
  min: number;
  max: number;
  /** IDR roles must differ within the slot */
  distinctRoles?: boolean;
  label: string;
}

const INF = Number.POSITIVE_INFINITY;
const one = (k: Payload['kind']): Slot => ({ kinds: [k], min: 1, max: 1, label: k });
const opt = (k: Payload['kind']): Slot => ({ kinds: [k], min: 0, max: 1, label: `[${k}]` });
const many = (k: Payload['kind'], min = 0): Slot => ({ kinds: [k], min, max: INF, label: `{${k}}` });
const ids = (kinds: Payload['kind'][], max = INF): Slot => ({ kinds, min: 0, max, label: `{${kinds.join('|')}}` });
const idr = (roles: number[], min: number, max: number, label: string, distinctRoles = false): Slot => ({
  kinds: ['IDR'], roles, min, max, label, distinctRoles,
});

/** Payload grammar per data type (after the HDR). Types without an entry get generic checks only. */
export const SHAPES: Readonly<Record<number, readonly Slot[]>> = {
  // RFC 3830
  0: [one('T'), opt('RAND'), ids(['ID', 'IDR', 'CERT']), many('SP'), one('KEMAC')],
  1: [one('T'), ids(['ID', 'IDR'], 4), one('V')],
  2: [one('T'), opt('RAND'), ids(['ID', 'IDR', 'CERT']), many('SP'), one('KEMAC'), opt('CHASH'), one('PKE'), one('SIGN')],
  3: [one('T'), ids(['ID', 'IDR'], 4), one('V')],
  4: [one('T'), opt('RAND'), ids(['ID', 'IDR', 'CERT']), many('SP'), one('DH'), one('SIGN')],
  5: [one('T'), ids(['ID', 'IDR', 'CERT']), many('SP'), { kinds: ['DH'], min: 1, max: 2, label: 'DH' }, one('SIGN')],
  6: [one('T'), many('ERR'), many('SP'), { kinds: ['V', 'SIGN'], min: 0, max: 1, label: '[V|SIGN]' }],
  // RFC 6267
  19: [one('T'), one('RAND'), idr([1, 2], 1, INF, 'IDRi/r'), idr([3], 1, 1, 'IDRkms'), idr([4], 0, 1, '[IDRpsk]'), opt('KEMAC'), one('V')],
  20: [one('T'), one('RAND'), idr([1, 2], 1, INF, 'IDRi/r'), many('CERT'), idr([3], 1, 1, 'IDRkms'), opt('KEMAC'), opt('CHASH'), one('PKE'), one('SIGN')],
  21: [one('T'), idr([1, 2], 0, INF, '[IDRi/r]'), idr([3], 0, 1, '[IDRkms]'), one('KEMAC'), one('V')],
  22: [one('T'), opt('RAND'), idr([1, 2], 0, 2, '[IDRi] [IDRr]', true), many('SP'), opt('IBAKE'), opt('ESK')],
  23: [one('T'), idr([1, 2], 0, 2, '[IDRi] [IDRr]', true), many('SP'), opt('IBAKE'), opt('V')],
  // [IBAKE] [ESK] [V]: our profile's CSB-update confirmation is T, RAND, IDRi, IDRr, V (docs/profile.md §6.6)
  24: [one('T'), one('RAND'), idr([1, 2], 2, 2, 'IDRi IDRr', true), many('SP'), opt('IBAKE'), opt('ESK'), opt('V')],
  25: [one('T'), idr([1, 2], 0, 2, '[IDRi] [IDRr]', true), opt('IBAKE'), opt('KEMAC'), one('V')],
  // RFC 6509
  26: [one('T'), one('RAND'), ids(['IDR', 'CERT']), many('SP'), one('SAKKE'), one('SIGN')],
};

function accepts(slot: Slot, p: Payload): boolean {
  if (!slot.kinds.includes(p.kind)) return false;
  if (slot.roles && p.kind === 'IDR') return slot.roles.includes(p.role);
  return true;
}

function describe(p: Payload): string {
  return p.kind === 'IDR' ? `IDR (${ID_ROLE_NAMES[p.role] ?? `role ${p.role}`})` : p.kind;
}

type Fail = (code: 'MIKEY_ORDER' | 'MIKEY_DUPLICATE' | 'MIKEY_MISSING' | 'MIKEY_UNKNOWN_PAYLOAD', i: number, msg: string) => never;

function check(header: MikeyHeader, payloads: readonly Payload[], fail: Fail): void {
  const dt = header.dataType;
  const dtName = DATA_TYPE_NAMES[dt] ?? `data type ${dt}`;
  // generic rules, every data type
  let nT = 0;
  let nRand = 0;
  let nIbake = 0;
  let policies: Set<number> | undefined; // allocated only when SP payloads occur
  payloads.forEach((p, i) => {
    if ((p.kind === 'V' || p.kind === 'SIGN') && i !== payloads.length - 1) {
      fail('MIKEY_ORDER', i + 1, `${p.kind} must be the last payload`);
    }
    if (p.kind === 'T' && ++nT > 1) fail('MIKEY_DUPLICATE', i, 'more than one T payload');
    if (p.kind === 'RAND' && ++nRand > 1) fail('MIKEY_DUPLICATE', i, 'more than one RAND payload');
    if (p.kind === 'IBAKE' && ++nIbake > 1) fail('MIKEY_DUPLICATE', i, 'more than one IBAKE payload');
    if (p.kind === 'SP') {
      if (header.csMap.type === 1) fail('MIKEY_UNKNOWN_PAYLOAD', i, 'SP payload with an Empty CS ID map (RFC 4563 forbids it)');
      policies ??= new Set<number>();
      if (policies.has(p.policyNo)) fail('MIKEY_DUPLICATE', i, `two SP payloads with policy no ${p.policyNo}`);
      policies.add(p.policyNo);
    }
  });
  const shape = SHAPES[dt];
  if (!shape) return;
  // grammar: slots in order; EXT may appear anywhere (except after V / SIGN, checked above)
  let s = 0;
  const counts = new Array<number>(shape.length).fill(0);
  const roles: (Set<number> | undefined)[] = []; // per slot with distinctRoles, on first use
  payloads.forEach((p, i) => {
    if (p.kind === 'EXT' && !shape.some((sl) => sl.kinds.includes('EXT'))) return;
    let j = s;
    while (j < shape.length && !(accepts(shape[j]!, p) && counts[j]! < shape[j]!.max)) j++;
    if (j === shape.length) {
      const home = shape.findIndex((sl) => accepts(sl, p));
      if (home < 0) fail('MIKEY_UNKNOWN_PAYLOAD', i, `${describe(p)} is not allowed in ${dtName}`);
      if (home === s || counts[home]! >= shape[home]!.max) {
        fail('MIKEY_DUPLICATE', i, `too many ${describe(p)} payloads in ${dtName} (at most ${shape[home]!.max})`);
      }
      fail('MIKEY_ORDER', i, `${describe(p)} is out of order in ${dtName} (expected after ${shape[home - 1]?.label ?? 'HDR'}, before ${shape[home + 1]?.label ?? 'the end'})`);
    }
    for (let k = s; k < j; k++) {
      if (counts[k]! < shape[k]!.min) fail('MIKEY_MISSING', i, `${dtName} needs ${shape[k]!.label} before ${describe(p)}`);
    }
    s = j;
    counts[j]!++;
    if (shape[j]!.distinctRoles && p.kind === 'IDR') {
      const seen = (roles[j] ??= new Set<number>());
      if (seen.has(p.role)) fail('MIKEY_DUPLICATE', i, `two ${describe(p)} payloads in ${dtName}`);
      seen.add(p.role);
    }
  });
  for (let k = s; k < shape.length; k++) {
    if (counts[k]! < shape[k]!.min) fail('MIKEY_MISSING', payloads.length, `${dtName} needs ${shape[k]!.label}`);
  }
}

/** Validates a decoded message; errors point at the offending payload's offset. */
export function checkShapeDecoded(header: MikeyHeader, payloads: readonly (Payload & Required<Span>)[], end: number): void {
  check(header, payloads, (code, i, msg) => {
    const at = i < payloads.length ? payloads[i]!.offset : end;
    throw new MikeyError(code, at, msg);
  });
}

/** Validates a message model before encoding. */
export function checkShapeEncode(header: MikeyHeader, payloads: readonly Payload[]): void {
  check(header, payloads, (_code, i, msg) => {
    throw encodeError(`${msg} (payload ${i})`);
  });
}
