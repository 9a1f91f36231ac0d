import { readFileSync } from 'node:fs';

// Reading a MIKEY message given on the command line: base64 (strict RFC 4648 or not), hex, or a
// whole "a=key-mgmt:mikey <base64>" line; and the scripts' --help text. Shared by the oracle
// wrappers in test/oracles/.

/** Base64 text to bytes: { bytes, problem } (bytes null when it is not base64 at all). */
export function decodeBase64(text) {
  const t = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return { bytes: null, problem: 'not base64 (characters outside the RFC 4648 alphabet)' };
  const bytes = new Uint8Array(Buffer.from(t, 'base64'));
  const strict = t.length % 4 === 0 && Buffer.from(bytes).toString('base64') === t;
  return { bytes, problem: strict ? undefined : 'base64 text is not strict RFC 4648 base64 (bad length, padding or trailing bits)' };
}

/**
 * The message in `text`: { bytes, b64?, problem? }; `force` is 'hex', 'base64' or undefined
 * (hex when the text is only hex digit pairs, else base64). Throws an Error with a usage text.
 */
export function readMessage(text, force) {
  let t = text.trim();
  const line = /^(?:a=)?(?:key-mgmt:)?\s*mikey\s+(\S+)$/.exec(t);
  if (line) {
    t = line[1];
    force ??= 'base64';
  }
  t = t.replace(/\s+/g, '');
  if (!t) throw new Error('empty message');
  if (force === 'hex' || (force === undefined && /^(?:[0-9a-fA-F]{2})+$/.test(t))) {
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(t)) throw new Error('not valid hex');
    return { bytes: new Uint8Array(Buffer.from(t, 'hex')) };
  }
  const { bytes, problem } = decodeBase64(t);
  if (!bytes) throw new Error(problem);
  return { bytes, b64: t, ...(problem ? { problem } : {}) };
}

/** The message text from the arguments, or from stdin when there is none. */
export async function messageText(rest) {
  if (rest.length > 1) throw new Error('give one message');
  if (rest.length === 1) return rest[0];
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** A script's --help: its header comment (the // lines after the shebang), without the slashes. */
export function headerComment(url) {
  const lines = readFileSync(new URL(url), 'utf8').split('\n').slice(1);
  const end = lines.findIndex((l) => !l.startsWith('//'));
  return lines.slice(0, end < 0 ? lines.length : end).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n';
}
