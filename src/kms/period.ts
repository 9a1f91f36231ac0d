// Key periods as time windows, on top of src/ibe/identity.ts (which names a period by its start
// date): the window [start, end) containing a time, the next one, and their NTP-UTC bounds as
// carried in the KV interval of a K_PR Key data sub-payload (docs/kms.md).
import { parseDate, periodStart, type PeriodKind } from '../ibe/index.js';
import { msToNtp64 } from './ntp.js';
import type { PeriodWindow } from './renewer.js';

const DAY = 86_400_000;

/** The period of `kind` containing `ms`. */
export function periodWindow(ms: number, kind: PeriodKind): PeriodWindow {
  const label = periodStart(ms, kind);
  const start = parseDate(label);
  const startMs = start.getTime();
  let endMs: number;
  switch (kind) {
    case 'day':
      endMs = startMs + DAY;
      break;
    case 'week':
      endMs = startMs + 7 * DAY;
      break;
    default:
      endMs = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
  }
  return { startMs, endMs, label };
}

/** The period right after `p`. */
export function nextPeriod(p: PeriodWindow, kind: PeriodKind): PeriodWindow {
  return periodWindow(p.endMs, kind);
}

/** [from, to) of a period as 64-bit NTP-UTC values. */
export function periodNtp(p: PeriodWindow): { fromNtp: bigint; toNtp: bigint } {
  return { fromNtp: msToNtp64(p.startMs), toNtp: msToNtp64(p.endMs) };
}
