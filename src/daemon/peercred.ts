// The uid (and pid) of the process at the other end of an IPC connection, read with Linux
// SO_PEERCRED through the tiny `ibaked_peercred` addon (native/src/peercred.cc; no crypto, and
// separate from the engine addon). Node has no API for it. When the addon is not built or the
// platform has no SO_PEERCRED, peerCredOf() returns undefined: ownership falls back to the
// connection alone, and identities with a uid allow-list refuse every client (fail closed,
// identity-access.ts; docs/daemon.md §3).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { packageRoot } from '../engine/native/addon.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

type Addon = { peerCred(fd: number): PeerCred | null };
let addon: Addon | null | undefined;
let why = '';

function load(): Addon | null {
  if (addon !== undefined) return addon;
  const path = process.env.IBAKED_PEERCRED_PATH ?? join(packageRoot(), 'build', 'Release', 'ibaked_peercred.node');
  addon = null;
  if (process.env.IBAKED_PEERCRED === 'off') why = 'disabled (IBAKED_PEERCRED=off)';
  else if (!existsSync(path)) why = `${path} not built`;
  else {
    try {
      const m = createRequire(import.meta.url)(path) as Addon;
      if (typeof m.peerCred === 'function') addon = m;
      else why = `${path} has an unexpected interface`;
    } catch (e) {
      why = `${path} does not load: ${(e as Error).message}`;
    }
  }
  return addon;
}

/** Whether SO_PEERCRED can be read, and if not why (for the start-up log). */
export function peerCredStatus(): { available: boolean; reason: string } {
  return load() ? { available: true, reason: 'SO_PEERCRED' } : { available: false, reason: why };
}

/** The peer's credentials, or undefined (addon missing, not a Unix socket). Never throws. */
export function peerCredOf(sock: Socket): PeerCred | undefined {
  const a = load();
  const fd = (sock as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (!a || typeof fd !== 'number' || fd < 0) return undefined;
  try {
    return a.peerCred(fd) ?? undefined;
  } catch {
    return undefined;
  }
}
