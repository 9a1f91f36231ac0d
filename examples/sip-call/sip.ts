// A minimal SIP user agent core over UDP on loopback (RFC 3261 subset): writes requests and
// responses with an SDP body, parses what arrives, matches responses to requests by Via branch
// and CSeq, and gives each request a deadline. Enough for INVITE / 200 / ACK / UPDATE / 200 /
// BYE between two instances of this example; not a general SIP stack (no retransmission timers,
// since loopback does not lose datagrams, no proxies, no authentication, no forking).
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';

export interface SipMessage {
  /** request method, or undefined for a response */
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  /** header name (lower case) -> values in order */
  headers: Map<string, string[]>;
  body: string;
  /** the message as it travelled */
  raw: string;
}

/** One datagram as the capture sees it. */
export interface SipDatagram {
  src: number;
  dst: number;
  bytes: Buffer;
  at: number;
}

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type' };

export class SipParseError extends Error {}

/** Parses one SIP datagram (CRLF line endings; Content-Length honoured). */
export function parseSip(raw: string): SipMessage {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) throw new SipParseError('no empty line after the headers');
  const lines = raw.slice(0, split).split('\r\n');
  const start = lines[0]!;
  const headers = new Map<string, string[]>();
  for (const l of lines.slice(1)) {
    const m = /^([A-Za-z0-9!%'*+.^_`|~-]+)\s*:\s*(.*)$/.exec(l);
    if (!m) throw new SipParseError(`bad header line: ${l.slice(0, 60)}`);
    const name = m[1]!.toLowerCase();
    const key = COMPACT[name] ?? name;
    headers.set(key, [...(headers.get(key) ?? []), m[2]!.trim()]);
  }
  const len = Number(headers.get('content-length')?.[0] ?? '0');
  const bodyBytes = Buffer.from(raw.slice(split + 4), 'utf8');
  if (!Number.isInteger(len) || len < 0 || len > bodyBytes.length) throw new SipParseError('Content-Length does not match the body');
  const body = bodyBytes.subarray(0, len).toString('utf8');
  const resp = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(start);
  if (resp) return { status: Number(resp[1]), reason: resp[2]!, headers, body, raw };
  const req = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(start);
  if (!req) throw new SipParseError(`bad start line: ${start.slice(0, 60)}`);
  return { method: req[1]!, uri: req[2]!, headers, body, raw };
}

export const header = (m: SipMessage, name: string): string | undefined => m.headers.get(name)?.[0];

function serialise(start: string, headers: Array<[string, string]>, body: string): Buffer {
  const h = [...headers];
  if (body) h.push(['Content-Type', 'application/sdp']);
  h.push(['Content-Length', String(Buffer.byteLength(body))]);
  return Buffer.from([start, ...h.map(([k, v]) => `${k}: ${v}`), '', body].join('\r\n'), 'utf8');
}

export interface DialogIds {
  callId: string;
  localUri: string;
  localTag: string;
  remoteUri: string;
  remoteTag?: string;
  remotePort: number;
}

export const token = () => randomBytes(6).toString('hex');

/** A UDP SIP endpoint bound to 127.0.0.1: sends requests, awaits their final response, serves incoming requests. */
export class SipTransport {
  private sock: Socket;
  private waiting = new Map<string, { resolve: (m: SipMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private cseq = 1;
  port = 0;
  onRequest: (m: SipMessage) => void = () => {};
  onError: (e: Error) => void = () => {};

  constructor(
    private readonly capture: SipDatagram[],
    private readonly timeoutMs: number,
  ) {
    this.sock = createSocket('udp4');
    this.sock.on('message', (b, rinfo) => {
      let m: SipMessage;
      try {
        m = parseSip(b.toString('utf8'));
      } catch (e) {
        this.onError(e as Error);
        return;
      }
      if (m.method) {
        this.onRequest(m);
        return;
      }
      if (m.status! < 200) return; // provisional
      const branch = /branch=([^;\s]+)/.exec(header(m, 'via') ?? '')?.[1];
      const w = branch ? this.waiting.get(branch) : undefined;
      if (!w) return this.onError(new Error(`response ${m.status} from port ${rinfo.port} matches no request`));
      this.waiting.delete(branch!);
      clearTimeout(w.timer);
      w.resolve(m);
    });
  }

  async bind(): Promise<number> {
    await new Promise<void>((res, rej) => {
      this.sock.once('error', rej);
      this.sock.bind(0, '127.0.0.1', () => res());
    });
    this.port = this.sock.address().port;
    return this.port;
  }

  private send(bytes: Buffer, port: number): void {
    this.capture.push({ src: this.port, dst: port, bytes, at: Date.now() });
    this.sock.send(bytes, port, '127.0.0.1');
  }

  /** Sends a request in dialog `d` and resolves with its final response (rejects after the timeout). */
  request(d: DialogIds, method: string, body = '', cseq?: number): Promise<SipMessage> {
    const branch = 'z9hG4bK' + token();
    const n = cseq ?? this.cseq++;
    const bytes = serialise(
      `${method} ${d.remoteUri.replace(/@.*$/, `@127.0.0.1:${d.remotePort}`)} SIP/2.0`,
      [
        ['Via', `SIP/2.0/UDP 127.0.0.1:${this.port};branch=${branch}`],
        ['Max-Forwards', '70'],
        ['From', `<${d.localUri}>;tag=${d.localTag}`],
        ['To', `<${d.remoteUri}>${d.remoteTag ? `;tag=${d.remoteTag}` : ''}`],
        ['Call-ID', d.callId],
        ['CSeq', `${n} ${method}`],
        ['Contact', `<${d.localUri.replace(/@.*$/, `@127.0.0.1:${this.port}`)}>`],
        ['Allow', 'INVITE, ACK, BYE, UPDATE'],
      ],
      body,
    );
    if (method === 'ACK') {
      this.send(bytes, d.remotePort);
      return Promise.resolve(parseSip(bytes.toString('utf8')));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(branch);
        reject(new Error(`${method}: no final response within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(branch, { resolve, reject, timer });
      this.send(bytes, d.remotePort);
    });
  }

  /** Answers request `req` (copying Via, From, Call-ID, CSeq; adding our To tag). */
  respond(req: SipMessage, status: number, reason: string, localTag: string, toPort: number, body = ''): void {
    const to = header(req, 'to') ?? '';
    const bytes = serialise(
      `SIP/2.0 ${status} ${reason}`,
      [
        ['Via', header(req, 'via') ?? ''],
        ['From', header(req, 'from') ?? ''],
        ['To', /;tag=/.test(to) ? to : `${to};tag=${localTag}`],
        ['Call-ID', header(req, 'call-id') ?? ''],
        ['CSeq', header(req, 'cseq') ?? ''],
        ['Contact', `<sip:ua@127.0.0.1:${this.port}>`],
      ],
      body,
    );
    this.send(bytes, toPort);
  }

  close(): void {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new Error('transport closed'));
    }
    this.waiting.clear();
    this.sock.close();
  }
}

/** The port a request came from (its Via sent-by; we only run on loopback). */
export function viaPort(m: SipMessage): number {
  const p = /^SIP\/2\.0\/UDP [^:;\s]+:(\d+)/.exec(header(m, 'via') ?? '');
  if (!p) throw new SipParseError('Via without a port');
  return Number(p[1]);
}

/** The tag parameter of a From/To header value. */
export const tagOf = (v: string | undefined): string | undefined => /;tag=([^;\s]+)/.exec(v ?? '')?.[1];
