// `ibake sdp offer|answer|extract`: the SDP carriage of MIKEY-IBAKE messages for SIP user agents
// and operators (RFC 4567, docs/integration.md). offer/answer wrap a message (base64, hex or an
// a=key-mgmt line) into a minimal SDP body, or add it to an existing body; extract finds the one
// MIKEY message in an a=key-mgmt line, an SDP body or a whole SIP message. The message must
// decode as MIKEY before it is wrapped, so nothing unreadable goes on the wire.
import { UsageError, parseFlags, readAll, type CliIO, type Command } from './command.js';
import { decodeMessage, parseMessageText } from '../mikey/index.js';
import { MAX_STDIN_TEXT } from '../mikey/text.js';
import { addMikeyToSdp, buildSdpBody, findMikey, type SdpBodyOptions } from '../srtp/sdp-body.js';
import { encodeBase64 } from '../util/base64.js';
import { SrtpError } from '../srtp/errors.js';
import { readFileBounded } from '../util/read-bounded.js';

const MAX_FILE = 65536;

function readText(path: string): string {
  let b: Buffer;
  try {
    b = readFileBounded(path, MAX_FILE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EFBIG') throw new UsageError(`${path} is larger than ${MAX_FILE} octets`);
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return b.toString('utf8');
}

async function argOrStdin(positionals: string[], io: CliIO): Promise<string> {
  if (positionals.length > 1) throw new UsageError('give at most one argument');
  const a = positionals[0];
  return a === undefined || a === '-' ? (await readAll(io.stdin, MAX_STDIN_TEXT)).toString('utf8') : a;
}

function intFlag(v: unknown, name: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{1,5}$/.test(v) || Number(v) > max) throw new UsageError(`--${name} must be an integer 0..${max}`);
  return Number(v);
}

/** The first m-line's media, payload type and rtpmap of an offer, for a matching answer. */
function mirrorOffer(offer: string): SdpBodyOptions {
  const m = /^m=(audio|video) \d+ RTP\/SAVP (\d{1,3})/m.exec(offer);
  if (!m) throw new UsageError('the offer has no audio/video RTP/SAVP m-line to answer');
  const pt = Number(m[2]);
  const map = new RegExp(`^a=rtpmap:${pt} (\\S+)`, 'm').exec(offer);
  return { media: m[1] as 'audio' | 'video', payloadType: pt, ...(map ? { encoding: map[1]! } : {}) };
}

function wrapCommand(kind: 'offer' | 'answer'): Command {
  return {
    name: `sdp ${kind}`,
    summary: `wrap a MIKEY message into an SDP ${kind} body (or add it to one)`,
    usage: `usage: ibake sdp ${kind} [MESSAGE|-] [--sdp FILE] [--addr IP] [--port N] [--pt N]
                      [--encoding NAME/RATE] [--media audio|video]${kind === 'answer' ? ' [--offer FILE]' : ''}

Prints an SDP body (CRLF line endings) carrying MESSAGE as the session-level
"a=key-mgmt:mikey <base64>" line (RFC 4567). MESSAGE is base64, hex or an a=key-mgmt line
(${kind === 'offer' ? 'I_MESSAGE_1 for the INVITE, I_MESSAGE_2 for the UPDATE' : 'R_MESSAGE_1 for the 200 OK to the INVITE, R_MESSAGE_2 for the 200 OK to the UPDATE'});
with no MESSAGE or "-" it is read from stdin. It must decode as a MIKEY message.

  --sdp FILE         add the line to this SDP body (an existing a=key-mgmt:mikey line at
                     session level is replaced in place) instead of writing a new body
  --addr IP          connection address (default 127.0.0.1)
  --port N           RTP port of the m-line (default 49170)
  --pt N             RTP payload type (default 96)
  --encoding E       a=rtpmap encoding (default L16/8000)
  --media M          audio (default) or video${kind === 'answer' ? '\n  --offer FILE       answer this offer: copy its first m-line\'s media, payload type and rtpmap' : ''}

Exit status: 0 printed, 1 the message or SDP is invalid, 2 usage.
`,
    async run(argv, io) {
      const { values, positionals } = parseFlags(
        argv,
        {
          sdp: { type: 'string' },
          addr: { type: 'string' },
          port: { type: 'string' },
          pt: { type: 'string' },
          encoding: { type: 'string' },
          media: { type: 'string' },
          ...(kind === 'answer' ? { offer: { type: 'string' as const } } : {}),
        },
        true,
      );
      const { bytes } = parseMessageText(await argOrStdin(positionals, io));
      decodeMessage(bytes); // refuse to wrap what no peer could read
      if (values.sdp !== undefined) {
        for (const f of ['addr', 'port', 'pt', 'encoding', 'media', 'offer']) {
          if ((values as Record<string, unknown>)[f] !== undefined) throw new UsageError(`--${f} builds a new body; it cannot be combined with --sdp`);
        }
        io.stdout(addMikeyToSdp(readText(values.sdp as string), bytes));
        return 0;
      }
      const media = values.media as string | undefined;
      if (media !== undefined && media !== 'audio' && media !== 'video') throw new UsageError('--media must be audio or video');
      const o: SdpBodyOptions = {
        ...(typeof (values as Record<string, unknown>).offer === 'string' ? mirrorOffer(readText((values as Record<string, string>).offer!)) : {}),
      };
      if (values.addr !== undefined) o.addr = values.addr as string;
      const port = intFlag(values.port, 'port', 65535);
      if (port !== undefined) o.port = port;
      const pt = intFlag(values.pt, 'pt', 127);
      if (pt !== undefined) o.payloadType = pt;
      if (values.encoding !== undefined) o.encoding = values.encoding as string;
      if (media !== undefined) o.media = media;
      let body: string;
      try {
        body = buildSdpBody(bytes, o);
      } catch (e) {
        // the message is already checked: SRTP_INPUT here is a flag value (--addr, --encoding)
        if (e instanceof SrtpError && e.code === 'SRTP_INPUT') throw new UsageError(e.message);
        throw e;
      }
      io.stdout(body);
      return 0;
    },
  };
}

export const offer = wrapCommand('offer');
export const answer = wrapCommand('answer');

export const extract: Command = {
  name: 'sdp extract',
  summary: 'print the MIKEY message of an a=key-mgmt line, SDP body or SIP message',
  usage: `usage: ibake sdp extract [TEXT|-] [--json]

Finds the one MIKEY message in TEXT (an "a=key-mgmt:mikey" line, an SDP body, or a whole SIP
request/response with an application/sdp body; stdin when TEXT is absent or "-") and prints it
as base64, or with --json as {"message": base64, "carrier": "key-mgmt"|"sdp"|"sip"}.

Exit status: 0 found, 1 none, several different ones, or malformed input, 2 usage.
`,
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, { json: { type: 'boolean' } }, true);
    const r = findMikey(await argOrStdin(positionals, io));
    const b64 = encodeBase64(r.message);
    io.stdout(values.json ? JSON.stringify({ message: b64, carrier: r.carrier }) + '\n' : b64 + '\n');
    return 0;
  },
};
