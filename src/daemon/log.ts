// ibaked's logger (DESIGN §6 "JSON-lines logs (pino) with time, level and code, never key
// material"): pino writing one JSON object per line to stderr ({"level":"info","time":ISO,
// "pid",…,"msg", and where it applies "code", "reqId", "method", "conn"}), or with
// `--log-format pretty` the same records as short human lines for a terminal (our own
// formatter below, so no extra dependency). The level can be changed at run time (SIGHUP).
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where lines go: anything with a synchronous write(string) (stderr by default). */
export interface LineSink {
  write(s: string): unknown;
}

const RESERVED = new Set(['level', 'time', 'msg', 'pid', 'hostname']);
// C0/C1 controls, DEL and the Unicode line/paragraph separators: a client-chosen value (a request
// id, text from a SIP message in an error) must never start a line of its own or drive a terminal.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** A string shown as is, or JSON-escaped when it holds a control character (then quoted). */
const escapeRest = (json: string) => json.replace(CONTROLS, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
const shown = (s: string): string => (CONTROL.test(s) ? escapeRest(JSON.stringify(s)) : s);

/** One JSON log record as a terminal line: `12:00:01.234 INFO  msg  key=value …`. */
export function prettyLine(json: string): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const t = typeof r.time === 'string' ? r.time.slice(11, 23) : '';
  const lvl = String(r.level ?? '').toUpperCase().padEnd(5);
  const extra = Object.entries(r)
    .filter(([k]) => !RESERVED.has(k))
    .map(([k, v]) => `${shown(k)}=${typeof v === 'string' ? shown(v) : escapeRest(JSON.stringify(v) ?? String(v))}`)
    .join(' ');
  return `${t} ${lvl} ${shown(String(r.msg ?? ''))}${extra ? '  ' + extra : ''}\n`;
}

export function createLogger(o: { level?: LogLevel; format?: LogFormat; sink?: LineSink } = {}): Logger {
  const sink: LineSink = o.sink ?? { write: (s: string) => process.stderr.write(s) };
  const dest: DestinationStream = o.format === 'pretty' ? { write: (s: string) => void sink.write(prettyLine(s)) } : { write: (s: string) => void sink.write(s) };
  return pino(
    {
      level: o.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
}

/** A logger that drops everything (tests and in-process embedding). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
