// The crypto floor of one call, measured in the same run as the load it is compared with: the
// CPU time of the engine operations a warm call (repeat peers) needs on both sides together —
// 3 IBE decryptions with a prepared key, 3 IBE encryptions to a cached recipient (fixed-base
// tables), 2 ephemeral P-256 key generations, 2 K_SESSION multiplications ([k]Q) — each run
// alone, one at a time, in interleaved rounds, timed by the process's CPU clock, single-threaded
// (the native engine's parallel sections off, as the daemon runs them under load:
// src/daemon/par-policy.ts); the medians summed. On native the operations run inline (on the
// calling thread, as the daemon's shard workers run them): through the libuv pool each one
// would also carry about 50 µs of thread hand-over CPU, which is dispatch, not crypto, and
// would hide that much of a daemon's overhead. What a daemon spends per call beyond this floor
// is its own overhead (codec, MAC, PRF, IPC, routing, garbage collection).
import { createECDH, randomBytes } from 'node:crypto';
import { extractBls, setupBls } from '../../src/ibe/bls12381/bf.js';
import { BlsContext } from '../../src/ibe/bls12381/context.js';
import { identityBytes } from '../../src/ibe/identity.js';
import { generateEphemeral } from '../../src/ibake/ecdh.js';
import type { Engine } from '../../src/engine/types.js';
import { quantile } from './interleave.js';

/** How many of each operation one warm call runs (both sides). */
export const CALL_OPS = { 'ibe decrypt': 3, 'ibe encrypt': 3, 'p256 keygen': 2, 'p256 mul': 2 } as const;
export type FloorOp = keyof typeof CALL_OPS;

export interface FloorResult {
  /** per operation: median CPU µs and median wall µs of one run */
  ops: Record<FloorOp, { cpuUs: number; wallUs: number; count: number }>;
  /** Σ count × median CPU (ms) */
  floorMs: number;
}

/** A floor measurement taken a round at a time, so rounds can be interleaved with other work. */
export interface FloorMeter {
  /** One round: every operation once, as a batch, in a rotated order. */
  round(): Promise<void>;
  result(): FloorResult;
  close(): void;
}

/** The engine the floor is measured on: native runs inline (see above), others as they are. */
export async function floorEngine(engine: Engine): Promise<Engine> {
  if (engine.name !== 'native') return engine;
  const { loadNativeEngine } = await import('../../src/engine/native/index.js');
  return loadNativeEngine({ inline: true });
}

/** `engine` as given (a caller wanting the floor of the text above passes floorEngine(e)). */
export async function floorMeter(engine: Engine, o: { batch: number }): Promise<FloorMeter> {
  const { s, Ppub } = await setupBls(engine);
  const now = Date.now();
  const id = identityBytes('sip:bob@example.org', now, 'month');
  const key = await extractBls(engine, s, id);
  s.fill(0);
  const ctx = new BlsContext(engine, Ppub);
  const M = randomBytes(142); // ≈ an I_MESSAGE_1 IBAKE plaintext
  for (let i = 0; i < 4; i++) await ctx.encryptTo(id, M); // the recipient recurs: its GT table is built
  await ctx.settle();
  const ct = await ctx.encryptTo(id, M);
  await ctx.decryptWith(key, ct);
  const peer = createECDH('prime256v1');
  peer.generateKeys();
  const Q = new Uint8Array(peer.getPublicKey(null, 'uncompressed'));
  const k = generateEphemeral().secret;
  const mul = engine.p256Mul
    ? () => engine.p256Mul!(k, Q)
    : async () => {
        const e = createECDH('prime256v1');
        e.setPrivateKey(k);
        return e.computeSecret(Q);
      };
  const fns: Record<FloorOp, () => Promise<unknown> | unknown> = {
    'ibe decrypt': () => ctx.decryptWith(key, ct),
    'ibe encrypt': () => ctx.encryptTo(id, M),
    'p256 keygen': () => generateEphemeral(),
    'p256 mul': mul,
  };
  const cpu: Record<string, number[]> = {};
  const wall: Record<string, number[]> = {};
  const names = Object.keys(fns) as FloorOp[];
  let r = 0;
  return {
    round: async () => {
      engine.setParallel?.(false);
      try {
        for (const op of names.map((_, i) => names[(i + r) % names.length]!)) {
          const batch = op.startsWith('p256') ? o.batch * 4 : o.batch;
          const c0 = process.cpuUsage();
          const w0 = performance.now();
          for (let i = 0; i < batch; i++) await fns[op]();
          const w = (performance.now() - w0) * 1000;
          const c = process.cpuUsage(c0);
          (cpu[op] ??= []).push((c.user + c.system) / batch);
          (wall[op] ??= []).push(w / batch);
        }
      } finally {
        engine.setParallel?.(true);
      }
      r++;
    },
    result: () => {
      const med = (v: number[]) => Math.round(quantile([...v].sort((a, b) => a - b), 0.5) * 10) / 10;
      const ops = Object.fromEntries(names.map((op) => [op, { cpuUs: med(cpu[op]!), wallUs: med(wall[op]!), count: CALL_OPS[op] }])) as FloorResult['ops'];
      const floorMs = names.reduce((a, op) => a + ops[op].cpuUs * ops[op].count, 0) / 1000;
      return { ops, floorMs: Math.round(floorMs * 1000) / 1000 };
    },
    close: () => {
      ctx.close();
      key.fill(0);
      k.fill(0);
    },
  };
}
