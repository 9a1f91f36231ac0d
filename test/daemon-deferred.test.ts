// Deferred delivery v2 through a real ibaked process (bin/ibaked.js, development mode), over
// the socket only, with exchanges in process (workers 0) and on a worker thread (workers 1,
// where the mailbox identity's exchanges stay on the main thread with the prekey table):
// the user B generates signed prekeys, the mailbox M (mailbox mode, from the config) adds them,
// the caller A calls B and M answers (config `deferred.mailboxes` lets A accept it); B opens
// the stored I_MESSAGE_2 with deferred.open and gets exactly A's SRTP keys, v2 (prekey id, not
// escrowed); opening it again is refused (the prekey's private half is gone); with no prekey
// left the caller refuses the mailbox's answer (IBAKE_NO_PREKEY: escrowed v1 is off).
// Also: identity.add's mailbox param, that a mailbox identity gets no media keys, a tampered
// stored message refused without using the prekey, and (a daemon whose config allows it) the
// escrowed v1 fallback with `escrowed: true` in the caller's and the user's replies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { BUILT, startDaemonProc, type DaemonProc } from './helpers/daemon-proc.js';

const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';
const M = 'sip:bob-voicemail@example.org';

interface Key { csId: number; masterKey: Uint8Array; masterSalt: Uint8Array }
interface Recv { csbId: number; reply?: Uint8Array; established?: { mode: string; escrowed?: boolean; keys: Key[] }; stored?: { forUser: string; from: string; message: Uint8Array } }
const hex = (k: Key[]) => k.map((x) => `${x.csId}:${Buffer.from(x.masterKey).toString('hex')}/${Buffer.from(x.masterSalt).toString('hex')}`).join();
const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e));

describe.runIf(BUILT).each([0, 1])('deferred delivery through ibaked (workers %i)', (workers) => {
  let d: DaemonProc;
  let c: IbakedClient;
  beforeAll(async () => {
    d = await startDaemonProc({
      workers,
      engine: 'ts',
      identities: [{ uri: A }, { uri: B }, { uri: M, mailbox: true }],
      deferred: { mailboxes: { [B]: [M] } },
    });
    c = await IbakedClient.connect(d.sock);
  }, 120_000);
  afterAll(async () => {
    c?.close();
    await d?.stop();
  });

  /** A calls B; M answers. Returns what each side saw, or throws the caller's refusal. */
  async function call() {
    const i1 = await c.request<{ message: Uint8Array }>('exchange.initiate', { from: A, to: B });
    const r1 = await c.request<Recv>('exchange.receive', { identity: M, message: i1.message });
    const i2 = await c.request<Recv>('exchange.receive', { identity: A, message: r1.reply! });
    const r2 = await c.request<Recv>('exchange.receive', { identity: M, message: i2.reply! });
    const done = await c.request<Recv>('exchange.receive', { identity: A, message: r2.reply! });
    return { mailbox: r2, caller: done };
  }

  it('user generates, mailbox adds, caller calls, user opens: same keys; a second open and a call with no prekey are refused', async () => {
    const gen = await c.request<{ ids: number[]; bundle: Uint8Array }>('prekeys.generate', { identity: B, count: 1 });
    expect(gen.ids).toEqual([1, 1]);
    expect(await c.request('mailbox.prekeys.add', { bundle: gen.bundle })).toEqual({ uri: B, added: 1, available: 1 });

    const { mailbox, caller } = await call();
    expect(mailbox.established).toBeUndefined(); // the mailbox gets no media keys
    expect(mailbox.stored).toMatchObject({ forUser: B, from: A });
    expect(caller.established).toMatchObject({ mode: 'deferred' });
    expect(caller.established!.escrowed).toBeUndefined();
    expect(caller.established!.keys.length).toBeGreaterThan(0);
    expect(await c.request('mailbox.prekeys.status', { identity: B })).toMatchObject({ available: 0, used: 1 });

    // a tampered stored message (ESK octet) is refused, and takes nothing: the real one opens after it
    const bad = mailbox.stored!.message.slice();
    bad[bad.length - 5]! ^= 1;
    expect(await code(c.request('deferred.open', { identity: B, message: bad }))).toBe('IBAKE_AUTH_FAILED');
    const opened = await c.request<{ csbId: number; from: string; mailbox: string; prekeyId?: number; escrowed?: boolean; keys: Key[] }>('deferred.open', { identity: B, message: mailbox.stored!.message });
    expect(opened).toMatchObject({ csbId: caller.csbId, from: A, mailbox: M, prekeyId: 1 });
    expect(opened.escrowed).toBeUndefined();
    expect(hex(opened.keys)).toBe(hex(caller.established!.keys));
    expect(await c.request('prekeys.status', { identity: B })).toEqual({ prekeys: [{ uri: B, available: 0, expired: 0, nextId: 2 }] });

    // the prekey's private half is gone: the same message cannot be opened twice
    expect(await code(c.request('deferred.open', { identity: B, message: mailbox.stored!.message }))).toBe('IBAKE_NO_PREKEY');

    // no prekey left: the caller refuses the mailbox's answer (escrowed v1 is not allowed by the config)
    expect(await code(call())).toBe('IBAKE_NO_PREKEY');
  }, 120_000);

  it('bad params: deferred.open of a non-local identity or non-bytes, identity.add mailbox type and mismatch', async () => {
    expect(await code(c.request('deferred.open', { identity: 'sip:carol@example.org', message: new Uint8Array(8) }))).toBe('BAD_PARAMS');
    expect(await code(c.request('deferred.open', { identity: B, message: 'x' }))).toBe('BAD_PARAMS');
    expect(await code(c.request('deferred.open', { identity: B, message: new Uint8Array(8), extra: 1 }))).toBe('BAD_PARAMS');
    expect(await code(c.request('identity.add', { uri: 'sip:dora@example.org', mailbox: 'yes' }))).toBe('BAD_PARAMS');
    expect(await code(c.request('identity.add', { uri: A, mailbox: true }))).toBe('BAD_PARAMS');
    expect(await c.request('identity.add', { uri: M, mailbox: true })).toMatchObject({ uri: M, added: false, mailbox: true });
  });
});

describe.runIf(BUILT)('deferred delivery through ibaked, escrowed v1 allowed by the caller\'s config', () => {
  it('no prekey: the call completes by the escrowed v1 flow and both the caller\'s and the user\'s replies say escrowed', async () => {
    const d = await startDaemonProc({
      workers: 0,
      engine: 'ts',
      identities: [{ uri: A }, { uri: B }, { uri: M, mailbox: true }],
      deferred: { mailboxes: { [B]: [M] }, escrowed: 'allow' },
    });
    const c = await IbakedClient.connect(d.sock);
    try {
      const i1 = await c.request<{ message: Uint8Array }>('exchange.initiate', { from: A, to: B });
      const r1 = await c.request<Recv>('exchange.receive', { identity: M, message: i1.message });
      const i2 = await c.request<Recv>('exchange.receive', { identity: A, message: r1.reply! });
      const r2 = await c.request<Recv>('exchange.receive', { identity: M, message: i2.reply! });
      const done = await c.request<Recv>('exchange.receive', { identity: A, message: r2.reply! });
      expect(done.established).toMatchObject({ mode: 'deferred', escrowed: true });
      const opened = await c.request<{ escrowed?: boolean; prekeyId?: number; keys: Key[] }>('deferred.open', { identity: B, message: r2.stored!.message });
      expect(opened.escrowed).toBe(true);
      expect(opened.prekeyId).toBeUndefined();
      expect(hex(opened.keys)).toBe(hex(done.established!.keys));
    } finally {
      c.close();
      await d.stop();
    }
  }, 120_000);
});
