// In-process call machinery shared by bench:call and bench:gate: one complete MIKEY-IBAKE call
// (runScenario: four messages, both sides, KMS provisioning excluded) between pre-extracted
// identities, in three cache states — warm (repeat peers), cold (a peer never met before, from
// pools rotated so every call meets a new peer) and cold-process (fresh IBE contexts), and a
// deferred delivery v2 call between the same repeat parties ('deferred warm') — plus the
// warm-up that brings warm caches and the pools to their steady state.
import type { Engine } from '../../src/engine/types.js';
import { extractBls, setupBls } from '../../src/ibe/bls12381/bf.js';
import { BlsContext, TABLE_AFTER } from '../../src/ibe/bls12381/context.js';
import { IbeKeyring as Keyring } from '../../src/ibake/keyring.js';
import { identityBytes, periodStart } from '../../src/ibe/identity.js';
import { runScenario, type ScenarioName } from '../../src/ibake/scenario.js';
import { extractSigningKey } from '../../src/ibe/bls12381/ibs.js';
import type { IbsKeyring } from '../../src/ibake/ibs-port.js';
import type { MailboxPrekeys } from '../../src/ibake/prekey/mailbox.js';
import type { PrekeyStore } from '../../src/ibake/prekey/store.js';
import type { IbeKeyring } from '../../src/ibake/keyring.js';
import { V1_DERIVATION } from '../../src/ibake/profile-v1.js';
import { quantile } from './interleave.js';
import { untilSteady } from './steady.js';

export const A = 'sip:alice@example.org';
export const B = 'sip:bob@example.org';

/** warm-v1: warm, with profile v1's derivation (bench:call's A/B reference only). */
export type CallMode = 'warm' | 'warm-v1' | 'cold' | 'cold-process' | 'deferred warm';

/** Profile v1's derivation (internal option, src/ibake/profile-v1.ts): the A/B reference only. */
const V1 = { [V1_DERIVATION]: true as const };

export interface Setup {
  engine: Engine;
  Ppub: Uint8Array;
  keys: Map<string, { period: string; key: Uint8Array }>;
  warm: Map<string, IbeKeyring>;
  /** cold: pools of callers and callees with small per-peer caches, rotated so every call meets a new peer */
  pool: number;
  cold: Map<string, IbeKeyring>;
  n: number;
  /** deferred delivery v2: the user's signing key, signature keyrings and prekey pools, reused */
  signing: Map<string, { period: string; key: Uint8Array }>;
  ibsRings: Map<string, IbsKeyring>;
  prekeyPools: Map<string, { store: PrekeyStore; mailbox: MailboxPrekeys }>;
}

const poolUri = (side: string, i: number) => `sip:${side}${i}@example.org`;
const PEER_CACHE = 4;

/** `pool`: callers and callees for cold calls (default 24, 8 on ts; smaller only for smoke runs). */
export async function prepare(engine: Engine, o: { pool?: number } = {}): Promise<Setup> {
  const { s, Ppub } = await setupBls(engine);
  const now = Date.now();
  const period = periodStart(now, 'month');
  const pool = o.pool ?? (engine.name === 'ts' ? 8 : 24);
  const keys = new Map<string, { period: string; key: Uint8Array }>();
  const ids = [A, B];
  for (let i = 0; i < pool; i++) ids.push(poolUri('a', i), poolUri('b', i));
  for (const id of ids) keys.set(id, { period, key: await extractBls(engine, s, identityBytes(id, now, 'month')) });
  // deferred: B's signing key (its prekeys) and the mailbox's own IBE key
  const signing = new Map([[B, { period, key: await extractSigningKey(engine, s, identityBytes(B, now, 'month')) }]]);
  const M = B.replace('@', '-voicemail@');
  keys.set(M, { period, key: await extractBls(engine, s, identityBytes(M, now, 'month')) });
  s.fill(0);
  const cold = new Map<string, IbeKeyring>();
  for (const id of ids.slice(2)) {
    const ring = new Keyring(engine, Ppub, 'month', new BlsContext(engine, Ppub, { recipients: PEER_CACHE }));
    ring.addKey(id, period, keys.get(id)!.key);
    cold.set(id, ring);
  }
  return { engine, Ppub, keys, warm: new Map(), pool, cold, n: 0, signing, ibsRings: new Map(), prekeyPools: new Map() };
}

async function once(st: Setup, from: string, to: string, keyrings?: Map<string, IbeKeyring>, v1 = false, scenario: ScenarioName = 'basic'): Promise<void> {
  const r = await runScenario({
    ...(v1 ? { endpointExtra: V1 } : {}),
    scenario,
    from,
    to,
    engine: st.engine,
    Ppub: st.Ppub,
    provision: async (id) => {
      const k = st.keys.get(id)!;
      return { period: k.period, key: k.key.slice() };
    },
    ...(keyrings ? { keyrings } : {}),
    ...(scenario === 'deferred'
      ? {
          provisionSigning: async (id: string) => {
            const k = st.signing.get(id)!;
            return { period: k.period, key: k.key.slice() };
          },
          ibsRings: st.ibsRings,
          prekeyPools: st.prekeyPools,
        }
      : {}),
  });
  if (!r.ok) throw new Error(`call failed: ${r.problems.join('; ')}`);
  if (scenario === 'deferred' && (r.escrowed || r.deferred?.version !== 2)) throw new Error('deferred call did not run v2');
}

export function call(st: Setup, mode: CallMode) {
  if (mode === 'warm') return () => once(st, A, B, st.warm);
  if (mode === 'warm-v1') return () => once(st, A, B, st.warm, true);
  // deferred delivery v2 between the same parties (a repeat caller of the same mailbox; the
  // user's bundle of 64 prekeys serves 64 calls, then a new one is signed inside the timed call;
  // the user's opening of the stored message is part of the call)
  if (mode === 'deferred warm') return () => once(st, A, B, st.warm, false, 'deferred');
  if (mode === 'cold-process') return () => once(st, A, B);
  return () => {
    // Caller a_i meets callee b_j with an offset that grows every cycle: a pair recurs only after
    // `pool` cycles, by which time both have met more than PEER_CACHE other peers.
    const n = st.n++;
    const i = n % st.pool;
    const j = (n + 1 + Math.floor(n / st.pool)) % st.pool;
    return once(st, poolUri('a', i), poolUri('b', j), st.cold);
  };
}

/** Prepares every pooled party's own state (own key lines, P table) with one call each. */
export async function warmPools(st: Setup): Promise<void> {
  for (let i = 0; i < st.pool; i++) await once(st, poolUri('a', i), poolUri('b', i), st.cold);
}

/** Brings an engine's caches to their steady state: warm repeat peers (GT tables built) and the cold pools' own keys. */
export async function warmUp(st: Setup): Promise<void> {
  // A repeat peer's GT table is built (in the background) once the peer recurs (context.ts
  // TABLE_AFTER), so TABLE_AFTER calls and a settle leave the steady state of repeat peers.
  for (let i = 0; i < TABLE_AFTER; i++) await call(st, 'warm')();
  for (let i = 0; i < TABLE_AFTER; i++) await call(st, 'deferred warm')();
  for (const ring of st.warm.values()) await ring.ctx.settle();
  await warmPools(st);
}

/**
 * Runs in-process warm and cold calls, in batches of ten each, until the warm call's median time
 * stops falling (steady.ts, as the daemons are warmed). warmUp leaves the caches in their steady
 * state, but the in-process path's JavaScript had barely tiered up. A first attempt then read
 * the warm call up to 9 % slower than a second attempt did (2.33 against 2.13 ms), so its N = 1
 * overhead (daemon p50 − in-process warm p50) came out about 0.15 ms too small.
 */
export function warmInProcess(st: Setup, o: { minMs: number; maxMs: number }): Promise<{ ms: number; values: number[] }> {
  const warm = call(st, 'warm');
  const cold = call(st, 'cold');
  return untilSteady(async () => {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const s = performance.now();
      await warm();
      times.push(performance.now() - s);
      await cold();
    }
    return quantile(times.sort((a, b) => a - b), 0.5);
  }, o);
}
