// Where ibaked listens by default (DESIGN §6): $XDG_RUNTIME_DIR/ibaked.sock, else
// /run/ibaked/ibaked.sock. Its own module so the CLI finds the daemon without loading it.
import { join } from 'node:path';

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'ibaked.sock') : '/run/ibaked/ibaked.sock';
}
