// Per-identity uid allow-lists (identity-access.ts, docs/daemon.md §3 "Who may act for an
// identity"): the `uids` of a configured identity and of identity.add are validated; the guard
// refuses every method that acts for a restricted identity to a uid not in its list (and to a
// connection whose uid is unknown: fail closed); on the real binary, an allowed uid makes a
// full call between two restricted identities, uid 65534 is refused for each method, a client
// cannot add an identity it could not use, SIGHUP applies (and forgets) lists, and without peer
// credentials a restricted identity refuses everyone.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { parseConfigObject } from '../src/daemon/config.js';
import { ACTS_FOR, IdentityAccess, MAX_UID, MAX_UIDS, parseUids, sameUids } from '../src/daemon/identity-access.js';
import type { Handler, RequestContext } from '../src/daemon/server.js';
import { asNobody, requestsAsNobody } from './helpers/as-nobody.js';
import { BUILT, startDaemonProc } from './helpers/daemon-proc.js';

const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
const C = 'sip:carol@example.org';
const D = 'sip:dave@example.org';
const ctx = (uid?: number): RequestContext => ({ conn: 1, reqId: 1, method: 'm', ...(uid !== undefined ? { uid, pid: 1 } : {}) });

describe('uid allow-list validation', () => {
  const fail = (m: string) => new Error(m);
  it('accepts 1..MAX_UIDS distinct uids in 0..2^32-2', () => {
    expect(parseUids([0, 1001, MAX_UID], 'uids', fail)).toEqual([0, 1001, MAX_UID]);
    expect(parseUids(Array.from({ length: MAX_UIDS }, (_, i) => i), 'uids', fail)).toHaveLength(MAX_UIDS);
  });
  it('refuses anything else with a message naming the field', () => {
    const bad: Array<[unknown, RegExp]> = [
      [[], /uids must be an array of 1\.\.256/],
      [1001, /uids must be an array/],
      ['1001', /uids must be an array/],
      [Array.from({ length: MAX_UIDS + 1 }, (_, i) => i), /uids must be an array of 1\.\.256/],
      [[-1], /uids\[0\] must be a uid/],
      [[1, 2 ** 32 - 1], /uids\[1\] must be a uid/],
      [[1.5], /uids\[0\] must be a uid/],
      [['0'], /uids\[0\] must be a uid/],
      [[7, 8, 7], /uid 7 listed twice/],
    ];
    for (const [v, re] of bad) expect(() => parseUids(v, 'uids', fail), JSON.stringify(v)).toThrow(re);
  });
  it('in the configuration: identities[i].uids, CONFIG errors', () => {
    expect(parseConfigObject({ identities: [{ uri: A, uids: [1001, 1002] }, { uri: B }] }, '/d').identities).toEqual([{ uri: A, uids: [1001, 1002] }, { uri: B }]);
    for (const [uids, re] of [[[], /identities\[0\]\.uids must be an array/], [[1, 1], /identities\[0\]\.uids: uid 1 listed twice/], [[null], /identities\[0\]\.uids\[0\] must be a uid/]] as const) {
      expect(() => parseConfigObject({ identities: [{ uri: A, uids }] }, '/d')).toThrow(expect.objectContaining({ code: 'CONFIG', message: expect.stringMatching(re) }));
    }
  });
  it('sameUids compares as sets; absent only equals absent', () => {
    expect(sameUids([1, 2], [2, 1])).toBe(true);
    expect(sameUids([1, 2], [1])).toBe(false);
    expect(sameUids(undefined, undefined)).toBe(true);
    expect(sameUids(undefined, [1])).toBe(false);
  });
});

describe('IdentityAccess guard', () => {
  const calls: string[] = [];
  const handlers: Record<string, Handler> = Object.fromEntries(
    [...Object.keys(ACTS_FOR), 'identity.list'].map((m) => [m, async (p: Record<string, unknown>) => (calls.push(m), m === 'prekeys.status' ? { prekeys: [{ uri: A }, { uri: B }] } : { ok: p })]),
  );
  const access = new IdentityAccess();
  access.set(A, [1001, 1002]);
  const g = access.guard(handlers);

  it('lets listed uids act for a restricted identity and anyone for an open one', async () => {
    for (const [m, field] of Object.entries(ACTS_FOR)) {
      await expect(g[m]!({ [field]: A }, ctx(1002))).resolves.toBeDefined();
      await expect(g[m]!({ [field]: B }, ctx(5))).resolves.toBeDefined();
      await expect(g[m]!({ [field]: B }, ctx())).resolves.toBeDefined();
    }
  });
  it('refuses every acting method to another uid and to an unknown uid (fail closed), before the handler runs', async () => {
    for (const [m, field] of Object.entries(ACTS_FOR)) {
      calls.length = 0;
      await expect(g[m]!({ [field]: A }, ctx(0)), m).rejects.toMatchObject({ code: 'IDENTITY_FORBIDDEN', message: expect.stringMatching(/uid 0 may not act for identity sip:alice/) });
      await expect(g[m]!({ [field]: A }, ctx()), m).rejects.toMatchObject({ code: 'IDENTITY_FORBIDDEN', message: expect.stringMatching(/NO_PEERCRED/) });
      expect(calls).toEqual([]);
    }
  });
  it('prekeys.status without identity lists only what the requester may act for; other methods pass through', async () => {
    await expect(g['prekeys.status']!({}, ctx(7))).resolves.toEqual({ prekeys: [{ uri: B }] });
    await expect(g['prekeys.status']!({}, ctx(1001))).resolves.toEqual({ prekeys: [{ uri: A }, { uri: B }] });
    await expect(g['identity.list']!({ x: A }, ctx(7))).resolves.toBeDefined();
  });
  it('set(uri, undefined) opens the identity again', async () => {
    const a = new IdentityAccess();
    a.set(A, [1]);
    expect([a.allows(A, 2), a.restricted, a.uidsOf(A)]).toEqual([false, 1, [1]]);
    a.set(A, undefined);
    expect([a.allows(A, 2), a.restricted, a.uidsOf(A)]).toEqual([true, 0, undefined]);
  });
});

if (BUILT && !asNobody) console.warn('daemon-identity-uids: cannot run a client as uid 65534: the other-uid checks are SKIPPED');

type Recv = { reply?: Uint8Array; established?: { keys: unknown[] } };
/** A full call from → to on one client; returns the CSB ID and the number of established sides. */
async function call(c: IbakedClient, from: string, to: string) {
  const i1 = await c.request<{ csbId: number; message: Uint8Array }>('exchange.initiate', { from, to });
  let msg: Uint8Array | undefined = i1.message;
  let toB = true;
  let established = 0;
  while (msg) {
    const r: Recv = await c.request<Recv>('exchange.receive', { identity: toB ? to : from, message: msg });
    if (r.established) established++;
    msg = r.reply;
    toB = !toB;
  }
  return { csbId: i1.csbId, message: i1.message, established };
}

describe.runIf(BUILT)('uid allow-lists on the real daemon', () => {
  it.runIf(asNobody)('the listed uid calls between two restricted identities; uid 65534 is refused for each method; identity.add with uids; SIGHUP applies a changed list', async () => {
    let d = await startDaemonProc({ identities: [{ uri: A, uids: [0] }, { uri: B, uids: [0] }, { uri: C }] });
    let c = await IbakedClient.connect(d.sock);
    try {
      expect(d.records().some((r) => r.code === 'NO_PEERCRED')).toBe(false);
      const x = await call(c, A, B);
      expect(x.established).toBe(2);
      await c.request('prekeys.generate', { identity: A, count: 1 });
      const mine = await c.request<{ prekeys: Array<{ uri: string }> }>('prekeys.status', {});
      expect(mine.prekeys.map((e) => e.uri)).toContain(A);

      const out = await requestsAsNobody(d.sock, [
        ['exchange.initiate', { from: A, to: C }],
        ['exchange.receive', { identity: B, message: x.message }],
        ['exchange.rekey', { identity: A, csbId: x.csbId, peer: B }],
        ['exchange.close', { identity: A, csbId: x.csbId }],
        ['exchange.close', { identity: B, csbId: x.csbId }],
        ['prekeys.generate', { identity: A, count: 1 }],
        ['prekeys.status', { identity: A }],
        ['deferred.open', { identity: B, message: x.message }],
        ['exchange.initiate', { from: C, to: A }], // C is open: allowed
        ['identity.add', { uri: D, uids: [0] }], // must include its own uid
        ['identity.add', { uri: A, uids: [65534] }], // cannot re-list an existing identity
        ['identity.add', { uri: C, uids: [65534] }], // nor lock an open one
        ['identity.add', { uri: A }], // harmless: already registered
        ['identity.add', { uri: D, uids: [65534, 1] }],
        ['exchange.initiate', { from: D, to: A }],
      ]);
      expect(out).toEqual([
        ...Array(8).fill('IDENTITY_FORBIDDEN'),
        'ok', 'BAD_PARAMS', 'BAD_PARAMS', 'BAD_PARAMS', 'ok', 'ok', 'ok',
      ]);
      // the status of every identity, as 65534, leaves out A (root's list has it)
      expect(await requestsAsNobody(d.sock, [['prekeys.status', {}]])).toEqual(['ok']);
      // the exchange is intact for its owner; D is 65534's own: root may not act for it
      await expect(c.request('exchange.rekey', { identity: A, csbId: x.csbId, peer: B })).resolves.toMatchObject({ messageName: 'I_MESSAGE_1' });
      await expect(c.request('exchange.initiate', { from: D, to: A })).rejects.toMatchObject({ code: 'IDENTITY_FORBIDDEN' });
      await expect(c.request('identity.add', { uri: D, uids: [1, 65534] })).rejects.toMatchObject({ code: 'BAD_PARAMS', message: expect.stringMatching(/include your own uid 0/) });
      await expect(c.request('identity.add', { uri: 'sip:erin@example.org', uids: [0, 0] })).rejects.toMatchObject({ code: 'BAD_PARAMS', message: expect.stringMatching(/uid 0 listed twice/) });
      await expect(c.request('identity.add', { uri: 'sip:erin@example.org', uids: [0] })).resolves.toMatchObject({ added: true, uids: [0] });

      // SIGHUP: A now also lets 65534 act, B becomes open, C is restricted to root
      d.writeConfig({ identities: [{ uri: A, uids: [0, 65534] }, { uri: B }, { uri: C, uids: [0] }] });
      d.p.kill('SIGHUP');
      await d.waitFor((r) => r.msg === 'configuration reloaded', 'reloaded');
      expect(await requestsAsNobody(d.sock, [
        ['exchange.initiate', { from: A, to: B }],
        ['exchange.initiate', { from: B, to: A }],
        ['exchange.initiate', { from: C, to: A }],
      ])).toEqual(['ok', 'ok', 'IDENTITY_FORBIDDEN']);
      // SIGHUP without C: C is unregistered and its list forgotten, so adding it again opens it
      d.writeConfig({ identities: [{ uri: A, uids: [0, 65534] }, { uri: B }] });
      d.p.kill('SIGHUP');
      await d.waitFor((r) => r.msg === 'configuration reloaded' && r.removed === 1, 'reloaded without C');
      expect(await requestsAsNobody(d.sock, [
        ['exchange.initiate', { from: C, to: A }],
        ['identity.add', { uri: C }],
        ['exchange.initiate', { from: C, to: A }],
      ])).toEqual(['IDENTITY_UNKNOWN', 'ok', 'ok']);

      // restart (development mode): D, added over IPC for 65534 and 1, comes back restricted; C open
      c.close();
      expect(await d.stop()).toBe(0);
      const users = JSON.parse(readFileSync(join(d.dir, 'state', 'dev-users.json'), 'utf8')) as { uids: Record<string, number[]> };
      expect(users.uids).toEqual({ [D]: [65534, 1], 'sip:erin@example.org': [0] });
      d = await startDaemonProc({ identities: [{ uri: A, uids: [0, 65534] }, { uri: B }] }, { dir: d.dir });
      c = await IbakedClient.connect(d.sock);
      await expect(c.request('exchange.initiate', { from: D, to: A })).rejects.toMatchObject({ code: 'IDENTITY_FORBIDDEN' });
      await expect(c.request('exchange.initiate', { from: C, to: A })).resolves.toMatchObject({ messageName: 'I_MESSAGE_1' });
      expect(await requestsAsNobody(d.sock, [['exchange.initiate', { from: D, to: A }]])).toEqual(['ok']);
    } finally {
      c.close();
      await d.stop();
    }
  });

  it('a corrupt uids table in dev-users.json is CONFIG, exit 2', async () => {
    const d = await startDaemonProc();
    await IbakedClient.connect(d.sock).then(async (c) => (await c.request('identity.add', { uri: A }), c.close()));
    expect(await d.stop()).toBe(0);
    const path = join(d.dir, 'state', 'dev-users.json');
    const good = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    for (const uids of [[1], { [A]: [] }, { [A]: [1, 1] }, { [B]: [1] }]) {
      writeFileSync(path, JSON.stringify({ ...good, uids }), { mode: 0o600 });
      const again = await startDaemonProc({}, { dir: d.dir, wait: false });
      expect(await again.exited, JSON.stringify(uids)).toBe(2);
      expect(again.records().find((r) => r.level === 'fatal')).toMatchObject({ code: 'CONFIG', msg: expect.stringMatching(/corrupt/) });
    }
  });

  it('without peer credentials a restricted identity refuses every client (fail closed) and the start-up log says so', async () => {
    const d = await startDaemonProc({ identities: [{ uri: A, uids: [0] }, { uri: B }] }, { env: { IBAKED_PEERCRED: 'off' } });
    const c = await IbakedClient.connect(d.sock);
    try {
      const warn = d.records().filter((r) => r.code === 'NO_PEERCRED');
      expect(warn).toHaveLength(1);
      expect(String(warn[0]!.msg)).toMatch(/uids allow-list refuse every client/);
      await expect(c.request('exchange.initiate', { from: A, to: B })).rejects.toMatchObject({ code: 'IDENTITY_FORBIDDEN', message: expect.stringMatching(/NO_PEERCRED/) });
      await expect(c.request('prekeys.generate', { identity: A, count: 1 })).rejects.toMatchObject({ code: 'IDENTITY_FORBIDDEN' });
      await expect(c.request('exchange.initiate', { from: B, to: A })).resolves.toMatchObject({ messageName: 'I_MESSAGE_1' });
      await expect(c.request('identity.add', { uri: C, uids: [0] })).rejects.toMatchObject({ code: 'NO_PEERCRED' });
      await expect(c.request('identity.add', { uri: C })).resolves.toMatchObject({ added: true });
    } finally {
      c.close();
      await d.stop();
    }
  });
});
