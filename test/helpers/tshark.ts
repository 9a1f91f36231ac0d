// The Wireshark oracle (test/oracles/mikey-tshark.mjs) as the tests call it: whether it can run
// here (oracle-gate: skipped with a visible reason, or a failure when CI is set), one run over an SDP body, and a batched judgement of many MIKEY messages (each
// an a=key-mgmt:mikey line of its own media section of one SDP body, judged separately) —
// tshark is slow to start, so tests batch their messages into one run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oracleTools } from './oracle-gate.js';
import { oracle } from './repo.js';

export const MIKEY_TSHARK = oracle('mikey-tshark.mjs');

/** True when tshark is installed; otherwise a visible skip line, or a thrown error when CI is set. */
export function haveTshark(what = 'the tshark oracle'): boolean {
  return oracleTools(['tshark'], what);
}

/**
 * Runs mikey-tshark `--sdp` over an SDP body (via a temporary file) and returns its parsed JSON.
 * A non-zero exit (some message judged bad) still prints the JSON, which is returned as well.
 */
export function tsharkSdp<T = unknown>(sdp: string, opts: { allowUnknown?: boolean; timeoutMs?: number } = {}): T {
  const dir = mkdtempSync(join(tmpdir(), 'ibaked-tshark-'));
  try {
    const file = join(dir, 'm.sdp');
    writeFileSync(file, sdp);
    const args = [...(opts.allowUnknown ? ['--allow-unknown'] : []), '--sdp', file];
    let out: string;
    try {
      out = execFileSync(MIKEY_TSHARK, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000 });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? '');
    }
    return JSON.parse(out) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An SDP body (CRLF) with each message as the a=key-mgmt:mikey line of its own m= section. */
export function sdpOfMessages(messages: readonly Uint8Array[]): string {
  const lines = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0'];
  messages.forEach((m, i) => lines.push(`m=audio ${40000 + 2 * i} RTP/SAVP 0`, `a=key-mgmt:mikey ${Buffer.from(m).toString('base64')}`));
  return lines.join('\r\n') + '\r\n';
}

/** The fields of one message's verdict that the tests look at. */
export interface TsharkVerdict {
  ok: boolean;
  complete?: boolean;
  data_type: { value: number };
  problems: string[];
  unknown_payload_types: number[];
  payloads: { name: string }[];
}

/** Judges many messages in one run (`--allow-unknown --sdp`): the overall verdict and one per message. */
export function tsharkJudge(messages: readonly Uint8Array[]): { ok: boolean; messages: TsharkVerdict[] } {
  const j = tsharkSdp<{ ok: boolean; messages?: TsharkVerdict[] }>(sdpOfMessages(messages), { allowUnknown: true });
  return { ok: j.ok, messages: j.messages ?? [] };
}
