// An independent client (issue 15: "tried … with an independent msgpack client"): the C program
// test/oracles/ipc-c-client.c, built here against msgpack-c, speaks the daemon's framing to a
// real ibaked — requests packed by msgpack-c, replies unpacked by it — and runs a complete
// call: the four messages travel as msgpack bin through separate connections, and both sides
// get the same SRTP keys. Also: its replies contain only plain msgpack types (no extension).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oracleTools } from './helpers/oracle-gate.js';
import { BUILT, newDir, startDaemonProc, type DaemonProc } from './helpers/daemon-proc.js';

const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
const have = BUILT && oracleTools(['msgpack-c'], 'the C msgpack client of the daemon');

describe.runIf(have)('a msgpack-c client against a real ibaked', () => {
  let d: DaemonProc;
  let bin: string;
  beforeAll(async () => {
    bin = join(newDir('ibaked-cc-'), 'ipc-c-client');
    const cc = spawnSync('sh', ['-c', `$(command -v cc || command -v gcc) -O1 -Wall -Werror -o ${bin} test/oracles/ipc-c-client.c -lmsgpackc`], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    d = await startDaemonProc();
  });
  afterAll(async () => {
    await d?.stop();
  });

  const ipc = (method: string, ...params: string[]) => {
    const r = spawnSync(bin, [d.sock, method, ...params], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('<ext>');
    return JSON.parse(r.stdout) as { id: number; ok: boolean; result?: Record<string, unknown>; error?: { code: string } };
  };
  type Bin = { $hex: string };
  type Est = { keys: Array<{ masterKey: Bin; masterSalt: Bin; ssrc: number }> };

  it('ping, errors and a complete call through msgpack-c', () => {
    expect(ipc('ping')).toMatchObject({ id: 1, ok: true, result: { pong: true } });
    expect(ipc('ping', 'x=1')).toMatchObject({ id: 1, ok: false, error: { code: 'BAD_PARAMS' } });
    expect(ipc('nope')).toMatchObject({ id: 1, ok: false, error: { code: 'UNKNOWN_METHOD' } });
    expect(ipc('decode', 'message:hex=010203')).toMatchObject({ ok: false, error: { code: expect.stringMatching(/^MIKEY_/) } });
    for (const uri of [A, B]) expect(ipc('identity.add', `uri=${uri}`)).toMatchObject({ ok: true, result: { uri } });
    const i1 = ipc('exchange.initiate', `from=${A}`, `to=${B}`);
    expect(i1).toMatchObject({ ok: true, result: { messageName: 'I_MESSAGE_1', message: { $hex: expect.stringMatching(/^([0-9a-f]{2})+$/) } } });
    let msg: Bin | undefined = i1.result!.message as Bin;
    let to = B;
    const est: Est[] = [];
    const names: string[] = [];
    while (msg) {
      const r = ipc('exchange.receive', `identity=${to}`, `message:hex=${msg.$hex}`);
      expect(r.ok, JSON.stringify(r.error)).toBe(true);
      if (r.result!.established) est.push(r.result!.established as Est);
      if (r.result!.replyName) names.push(r.result!.replyName as string);
      msg = r.result!.reply as Bin | undefined;
      to = to === B ? A : B;
    }
    expect(names).toEqual(['R_MESSAGE_1', 'I_MESSAGE_2', 'R_MESSAGE_2']);
    expect(est).toHaveLength(2);
    expect(est[0]!.keys.length).toBeGreaterThan(0);
    expect(est[0]!.keys).toEqual(est[1]!.keys);
    expect(est[0]!.keys[0]!.masterKey.$hex).toMatch(/^[0-9a-f]{32}$/);
  });
});
