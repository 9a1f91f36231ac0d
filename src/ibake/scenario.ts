// Runs one complete MIKEY-IBAKE scenario in process (the parties are IbakeEndpoints, the
// "network" is this function carrying bytes), records every message and the time each step
// took, and checks that the sides that should agree on SRTP keys do. Used by `ibake call` and
// by bench/call.ts. Keys are provisioned through the caller's `provision` (the CLI fetches them
// from a KMS over HTTP; the bench extracts in process).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Engine } from '../engine/types.js';
import type { BlsContext } from '../ibe/bls12381/context.js';
import { openDeferred } from './deferred.js';
import { IbakeEndpoint, type EndpointOptions, type RevealedSecrets } from './endpoint.js';
import { IbakeError } from './errors.js';
import { IbeKeyring } from './keyring.js';
import { IbsKeyring } from './ibs-port.js';
import { MailboxPrekeys } from './prekey/mailbox.js';
import { PrekeyStore } from './prekey/store.js';
import { verifierFor } from './prekey/record.js';
import type { CryptoSessionKeys } from './output.js';
import { MESSAGE_NAMES } from './wire.js';

export type ScenarioName = 'basic' | 'forking' | 'retarget' | 'deferred' | 'preencoded';
export const SCENARIOS: readonly ScenarioName[] = ['basic', 'forking', 'retarget', 'deferred', 'preencoded'];

/** Fetches (and verifies) the private key of `identity` for the current period, as user `asUser`. */
export type Provisioner = (identity: string, asUser: string) => Promise<{ period: string; key: Uint8Array }>;

export interface ScenarioOptions {
  scenario: ScenarioName;
  from: string;
  to: string;
  engine: Engine;
  Ppub: Uint8Array;
  provision: Provisioner;
  /** Reuse keyrings (and so IBE caches) across runs: warm caches for repeat peers. */
  keyrings?: Map<string, IbeKeyring>;
  revealSecrets?: boolean;
  /**
   * Deferred delivery v2: the user's Cha–Cheon signing key (same shape as `provision`), to sign
   * its prekeys. Without it the deferred scenario can only run the escrowed v1 flow.
   */
  provisionSigning?: Provisioner;
  /** Deferred: let the caller fall back to the escrowed v1 flow (policy escrowedDeferred). */
  escrowedDeferred?: boolean;
  /** Deferred: no prekeys at all (to show the v1 fallback or the refusal). */
  noPrekeys?: boolean;
  /** Reuse signature keyrings (Q_sig caches, the user's signing key) across runs, by identity. */
  ibsRings?: Map<string, IbsKeyring>;
  /**
   * Reuse the user's prekey store and its mailbox's table across runs (by user URI): a bundle of
   * PREKEY_BATCH prekeys serves that many calls (as in a deployment), instead of one bundle per call.
   */
  prekeyPools?: Map<string, { store: PrekeyStore; mailbox: MailboxPrekeys }>;
  /** Internal (bench/call.ts A/B only, never set by the CLI): extra options of every endpoint. */
  endpointExtra?: object;
}

/** Prekeys per bundle when a pool is reused across runs. */
export const PREKEY_BATCH = 64;

export interface RecordedMessage {
  name: string;
  from: string;
  to: string;
  bytes: Uint8Array;
}

export interface PartyKeys {
  identity: string;
  keys: CryptoSessionKeys[];
}

export interface ScenarioResult {
  scenario: ScenarioName;
  ok: boolean;
  problems: string[];
  messages: RecordedMessage[];
  initiator: PartyKeys & { forks?: PartyKeys[] };
  responder: PartyKeys & { devices?: PartyKeys[]; answeredBy?: string; mailbox?: { identity: string; keys: CryptoSessionKeys[]; stored: boolean } };
  /** Deferred delivery: v2 (signed prekey, no escrow) or the escrowed v1 fallback. */
  deferred?: { version: 2; prekeyId: number; prekeyDeleted: boolean } | { version: 1 };
  /** True when the call's content keys are readable by the KMS (deferred v1 only). */
  escrowed?: boolean;
  timingsMs: Record<string, number>;
  secrets?: RevealedSecrets[];
}

/** Derived identities for the helper parties of a scenario (documented in docs/profile.md). */
export function derivedUri(uri: string, tag: string): string {
  const at = uri.indexOf('@');
  return at > 0 ? `${uri.slice(0, at)}-${tag}${uri.slice(at)}` : `${uri}-${tag}`;
}

const eqBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
/** Same crypto sessions with the same SRTP master keys and salts (in order). */
const sameKeys = (a: CryptoSessionKeys[], b: CryptoSessionKeys[]) =>
  a.length === b.length &&
  a.every((x, i) => x.csId === b[i]!.csId && x.ssrc === b[i]!.ssrc && eqBytes(x.masterKey, b[i]!.masterKey) && eqBytes(x.masterSalt, b[i]!.masterSalt));

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const rings = o.keyrings ?? new Map<string, IbeKeyring>();
  const ctxs = new Map<string, BlsContext>();
  const secrets: NonNullable<ScenarioResult['secrets']> = [];
  const problems: string[] = [];
  const messages: RecordedMessage[] = [];
  const timings: Record<string, number> = {};

  async function party(uri: string, extra: Partial<EndpointOptions> = {}, also: string[] = []): Promise<IbakeEndpoint & { ring: IbeKeyring }> {
    let ring = rings.get(uri);
    if (!ring) {
      ring = new IbeKeyring(o.engine, o.Ppub, 'month', ctxs.get(uri));
      for (const id of [uri, ...also]) {
        const k = await o.provision(id, uri);
        ring.addKey(id, k.period, k.key);
        k.key.fill(0);
      }
      rings.set(uri, ring);
    }
    const ep = new IbakeEndpoint({
      identity: uri,
      ibe: ring,
      ...(o.engine.p256Mul ? { p256: o.engine.p256Mul } : {}),
      alsoAnswerFor: also,
      ...(o.revealSecrets ? { revealSecrets: (s: (typeof secrets)[number]) => secrets.push(s) } : {}),
      ...o.endpointExtra,
      ...extra,
    }) as IbakeEndpoint & { ring: IbeKeyring };
    ep.ring = ring;
    endpoints.push(ep);
    return ep;
  }
  const endpoints: IbakeEndpoint[] = [];

  async function step<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const s = performance.now();
    const r = await fn();
    timings[label] = (timings[label] ?? 0) + (performance.now() - s);
    return r;
  }
  function record(bytes: Uint8Array, from: string, to: string): Uint8Array {
    messages.push({ name: MESSAGE_NAMES[bytes[1]!] ?? String(bytes[1]), from, to, bytes });
    return bytes;
  }
  /** Drives I_MESSAGE_1 (already sent) -> R2 -> confirm between initiator and one responder. */
  async function complete(init: IbakeEndpoint, resp: IbakeEndpoint, i1: Uint8Array, sfx = '') {
    const r1 = await step('R_MESSAGE_1' + sfx, () => resp.receive(i1));
    record(r1.reply!, resp.identity, init.identity);
    const i2 = await step('I_MESSAGE_2' + sfx, () => init.receive(r1.reply!));
    record(i2.reply!, init.identity, resp.identity);
    const r2 = await step('R_MESSAGE_2' + sfx, () => resp.receive(i2.reply!));
    record(r2.reply!, resp.identity, init.identity);
    const done = await step('confirm' + sfx, () => init.receive(r2.reply!));
    return { r2, done };
  }

  const A = o.from;
  const B = o.to;
  const result: ScenarioResult = {
    scenario: o.scenario,
    ok: false,
    problems,
    messages,
    initiator: { identity: A, keys: [] },
    responder: { identity: B, keys: [] },
    timingsMs: timings,
  };
  if (A === B) throw new IbakeError('IBAKE_BAD_INPUT', '--from and --to must differ');

  try {
    switch (o.scenario) {
      case 'basic':
      case 'preencoded': {
        const pre = o.scenario === 'preencoded';
        const alice = await party(A);
        const bob = await party(B, pre ? { preEncoded: (m) => m.map(() => ({ masterKey: new Uint8Array(randomBytes(16)), masterSalt: new Uint8Array(randomBytes(14)) })) } : {});
        const { message: i1 } = await step('I_MESSAGE_1', () => alice.initiate({ to: B }));
        record(i1, A, B);
        const { r2, done } = await complete(alice, bob, i1);
        result.initiator.keys = done.established!.keys;
        result.responder.keys = r2.established!.keys;
        if (!sameKeys(result.initiator.keys, result.responder.keys)) problems.push('initiator and responder keys differ');
        if (pre && !result.initiator.keys.every((k) => k.keySource === 'preencoded')) problems.push('keys are not marked pre-encoded');
        break;
      }
      case 'forking': {
        const devs = [derivedUri(B, 'dev1'), derivedUri(B, 'dev2')];
        const alice = await party(A, { policy: { forking: { [B]: devs } } });
        const devices = [];
        for (const d of devs) devices.push(await party(d, {}, [B]));
        const { message: i1 } = await step('I_MESSAGE_1', () => alice.initiate({ to: B }));
        record(i1, A, B);
        result.initiator.forks = [];
        result.responder.devices = [];
        for (const [i, dev] of devices.entries()) {
          const { r2, done } = await complete(alice, dev, i1, i === 0 ? '' : `_${dev.identity}`);
          result.initiator.forks.push({ identity: dev.identity, keys: done.established!.keys });
          result.responder.devices.push({ identity: dev.identity, keys: r2.established!.keys });
          if (!sameKeys(done.established!.keys, r2.established!.keys)) problems.push(`keys with ${dev.identity} differ`);
        }
        result.initiator.keys = result.initiator.forks[0]!.keys;
        result.responder.keys = result.responder.devices[0]!.keys;
        if (sameKeys(result.responder.devices[0]!.keys, result.responder.devices[1]!.keys)) problems.push('two devices share a key');
        break;
      }
      case 'retarget': {
        const C = derivedUri(B, 'retarget');
        const alice = await party(A, { policy: { retarget: 'allow' } });
        const carol = await party(C, { answerUndecryptable: true });
        const { message: i1 } = await step('I_MESSAGE_1', () => alice.initiate({ to: B }));
        record(i1, A, B);
        const { r2, done } = await complete(alice, carol, i1);
        result.responder = { identity: B, answeredBy: C, keys: r2.established!.keys };
        result.initiator.keys = done.established!.keys;
        if (done.established!.peer !== C) problems.push('initiator did not learn the answering identity');
        if (!sameKeys(result.initiator.keys, result.responder.keys)) problems.push('initiator and answering responder keys differ');
        break;
      }
      case 'deferred': {
        // Before the call (not timed): B signs one-time prekeys and hands the bundle to its mailbox.
        const M = derivedUri(B, 'voicemail');
        const ibsRing = (uri: string) => {
          let r = o.ibsRings?.get(uri);
          if (!r) {
            r = new IbsKeyring(o.engine, o.Ppub);
            o.ibsRings?.set(uri, r);
          }
          return r;
        };
        const pool = o.prekeyPools?.get(B) ?? { store: PrekeyStore.memory(), mailbox: MailboxPrekeys.memory() };
        if (o.prekeyPools && !o.noPrekeys) o.prekeyPools.set(B, pool);
        const bobPrekeys = pool.store;
        const mailboxPrekeys = pool.mailbox;
        if (!o.noPrekeys && mailboxPrekeys.status(B, Date.now()).available === 0) {
          if (!o.provisionSigning) throw new IbakeError('IBAKE_BAD_INPUT', 'deferred delivery v2 needs the user\'s signing key (provisionSigning)');
          const signer = ibsRing(B);
          const k = await o.provisionSigning(B, B);
          if (!signer.hasKey(B, k.period)) await signer.addKey(B, k.period, k.key);
          k.key.fill(0);
          const expiry = Math.floor(Date.now() / 1000) + 3600;
          const n = o.prekeyPools ? PREKEY_BATCH : 1;
          await mailboxPrekeys.add(verifierFor(ibsRing(M)), await bobPrekeys.generate(signer, B, n, k.period, expiry), Date.now());
        }
        const alice = await party(A, {
          policy: { mailboxes: { [B]: [M] }, ...(o.escrowedDeferred ? { escrowedDeferred: 'allow' as const } : {}) },
          ibs: ibsRing(A),
        });
        const mbox = await party(M, { answerUndecryptable: true, mailbox: true, mailboxPrekeys });
        const { message: i1 } = await step('I_MESSAGE_1', () => alice.initiate({ to: B }));
        record(i1, A, B);
        const { r2, done } = await complete(alice, mbox, i1);
        result.initiator.keys = done.established!.keys;
        result.responder.mailbox = { identity: M, keys: r2.established?.keys ?? [], stored: !!r2.stored };
        if (r2.established) problems.push('the mailbox obtained media keys');
        if (!r2.stored) problems.push('the mailbox stored nothing');
        // Later: B fetches its key and opens the stored message (v2: with its prekey store).
        const bobRing = (await party(B)).ring;
        const opened = await step('open', () => openDeferred(bobRing, B, r2.stored!.message, { prekeys: bobPrekeys, ...(o.engine.p256Mul ? { p256: o.engine.p256Mul } : {}) }));
        result.responder.keys = opened.keys;
        result.escrowed = opened.escrowed === true;
        if ((done.established!.escrowed === true) !== result.escrowed) problems.push('caller and user disagree on escrow');
        if (opened.prekeyId !== undefined) {
          const deleted = !bobPrekeys.holds(B, opened.prekeyId);
          result.deferred = { version: 2, prekeyId: opened.prekeyId, prekeyDeleted: deleted };
          if (!deleted) problems.push('the prekey secret is still stored after opening');
        } else {
          result.deferred = { version: 1 };
        }
        if (!o.prekeyPools) bobPrekeys.close();
        if (!sameKeys(result.initiator.keys, opened.keys)) problems.push('user keys differ from the caller\'s');
        break;
      }
      default:
        throw new IbakeError('IBAKE_BAD_INPUT', `unknown scenario ${String(o.scenario)}`);
    }
    // Protocol time only (sum of the steps): key provisioning is excluded.
    timings.total = Object.values(timings).reduce((a, b) => a + b, 0);
    if (o.revealSecrets) result.secrets = secrets.map((s) => ({ ...s }));
    result.ok = problems.length === 0;
  } finally {
    for (const ep of endpoints) ep.clear(); // wipe x, y, TGKs, SKs held in session states
    if (!o.keyrings) for (const r of rings.values()) r.close();
  }
  return result;
}
