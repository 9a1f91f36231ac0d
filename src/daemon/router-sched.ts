// The main (router) thread's scheduling policy under load, through the tiny `ibaked_sched`
// addon (native/src/sched.cc; Linux sched_setscheduler on the calling thread; no crypto).
// From twice as many exchange requests in flight as cores until fewer than the cores are left
// (par-policy.ts `onSaturated`), the main thread runs as SCHED_BATCH: a wake-up of it (a
// shard's replies, a socket's requests) then no longer preempts a running shard at once, and
// each of its runs takes what arrived meanwhile. Measured (docs/performance.md "The router
// yields under load"): about 1-2 % less daemon CPU per call at N = 64 and a fifth less on the
// main thread. Below that load it runs as SCHED_OTHER again, so a lone call is routed without
// waiting for a time slice. Node has no API for a thread's policy. Without the addon (not
// built, not Linux) or with IBAKED_ROUTER_BATCH=off nothing changes. The same addon's yield()
// lets the main thread give up its core while it polls an idle event loop (idle-poll.ts).
import { smallAddon } from './small-addon.js';

type Addon = { setBatch(on: boolean): boolean; policy(): 'batch' | 'other' | 'unknown'; yield(): boolean };
const addon = smallAddon<Addon>({ file: 'ibaked_sched.node', pathVar: 'IBAKED_SCHED_PATH', off: { name: 'IBAKED_ROUTER_BATCH', value: 'off' }, functions: ['setBatch', 'policy', 'yield'] });
const load = () => addon.get();

/** Whether the policy can be switched, and if not why (for the start-up log). */
export function routerSchedStatus(): { available: boolean; reason: string } {
  return load() ? { available: true, reason: 'SCHED_BATCH while saturated' } : { available: false, reason: addon.why };
}

/**
 * Runs the calling thread as SCHED_BATCH (`batch`) or SCHED_OTHER. Returns whether the thread
 * now has that policy; false (and nothing changed) without the addon. Never throws.
 */
export function setThreadBatch(batch: boolean): boolean {
  const a = load();
  if (!a) return false;
  try {
    return a.setBatch(batch);
  } catch {
    return false;
  }
}

/**
 * Lets another runnable thread on this core run first (sched_yield). False without the addon,
 * so idle polling (which must not keep a woken client waiting on its core) stays off.
 */
export function yieldThread(): boolean {
  const a = load();
  if (!a) return false;
  try {
    return a.yield();
  } catch {
    return false;
  }
}

/** The calling thread's policy as the addon reads it (tests, diagnostics). */
export function threadPolicy(): 'batch' | 'other' | 'unknown' {
  return load()?.policy() ?? 'unknown';
}
