// The uid (and pid) of the process at the other end of an IPC connection, read with Linux
// SO_PEERCRED through the tiny `ibaked_peercred` addon (native/src/peercred.cc; no crypto, and
// separate from the engine addon). Node has no API for it. When the addon is not built or the
// platform has no SO_PEERCRED, peerCredOf() returns undefined: ownership falls back to the
// connection alone, and identities with a uid allow-list refuse every client (fail closed,
// identity-access.ts; docs/daemon.md §3).
import type { Socket } from 'node:net';
import { smallAddon } from './small-addon.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

type Addon = { peerCred(fd: number): PeerCred | null };
const addon = smallAddon<Addon>({ file: 'ibaked_peercred.node', pathVar: 'IBAKED_PEERCRED_PATH', off: { name: 'IBAKED_PEERCRED', value: 'off' }, functions: ['peerCred'] });
const load = () => addon.get();

/** Whether SO_PEERCRED can be read, and if not why (for the start-up log). */
export function peerCredStatus(): { available: boolean; reason: string } {
  return load() ? { available: true, reason: 'SO_PEERCRED' } : { available: false, reason: addon.why };
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
