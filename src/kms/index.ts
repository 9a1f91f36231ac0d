// Public API of the KMS layer: the HTTP(S) key-issuing service, the client that fetches and
// verifies private keys, the renewal scheduler, and their typed errors (docs/kms.md).
export { startKmsServer, type KmsServer, type KmsServerOptions, type KmsRateLimits } from './server.js';
export {
  requestPrivateKey, createKeyRenewer, errorFromAnswer, KeyRenewer,
  type RequestKeyOptions, type ObtainedKey, type RenewerClientOptions, type HeldKey, type KeyRenewerOptions, type PeriodWindow,
} from './client.js';
export { KmsError, type KmsErrorCode } from './errors.js';
export { PskStore, type UsersTable, type PskEntry } from './psk-store.js';
export { jsonLineLogger, chainedJsonLineLogger, verifyLogChain, stderrLogger, silentLogger, keyId, type KmsLogger, type KmsLogEvent } from './issuance-log.js';
export { periodWindow, nextPeriod } from './period.js';
