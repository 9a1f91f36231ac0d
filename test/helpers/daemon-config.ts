// The in-process daemon configuration the tests start ibaked with: the documented defaults
// (DEFAULTS, one worker setting as the daemon would pick), a skipped selftest, no identities and a
// fast expiry sweep, so a test names only what it is about (socket, var dir and its overrides).
import { DEFAULTS, defaultWorkers, type DaemonConfig } from '../../src/daemon/config.js';

export function testDaemonConfig(socket: string, varDir: string, over: Partial<DaemonConfig> = {}): DaemonConfig {
  return {
    ...DEFAULTS,
    socket,
    engine: 'ts',
    maxInFlight: 64,
    workers: defaultWorkers(),
    skipSelftest: true,
    varDir,
    identities: [],
    expireIntervalMs: 1000,
    ...over,
  };
}
