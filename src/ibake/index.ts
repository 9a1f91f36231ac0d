// Public API of the MIKEY-IBAKE protocol engine (RFC 6267 / RFC 6539, our profile in
// docs/profile.md): one IbakeEndpoint per party (initiator and responder state machines,
// message in / message out), the deferred-delivery opener, the IBE keyring it runs on, the
// scenario runner behind `ibake call`, and the building blocks (ECDH, freshness, session table).
export { IbakeEndpoint, type EndpointOptions, type Established, type InitiateOptions, type MessageName, type ReceiveResult, type RevealedSecrets } from './endpoint.js';
export { openDeferred, type OpenedDeferred } from './deferred.js';
export { IbakeError, authFailure, type AuthFailureReason, type IbakeErrorCode } from './errors.js';
export { IbeKeyring } from './keyring.js';
export type { IbePort } from './ibe-port.js';
export { classifyAnswer, type AnswerKind, type Decision, type InitiatorPolicy, type Rule } from './policy.js';
export { DEFAULT_PROFILE, SRTP_PROFILES, type CryptoSessionKeys, type KeySource } from './output.js';
export { FreshnessGuard, msToNtp, ntpToMs, type FreshnessOptions } from './freshness.js';
export { SessionStore, type SessionStoreOptions, type StoredState } from './store.js';
export type { AnyState, InitiatorState, OfferState, ResponderState } from './state.js';
export { ECC_CURVE_P256, checkP256Point, computeKSession, generateEphemeral, type EphemeralKey, type PointProblem } from './ecdh.js';
export { runScenario, derivedUri, SCENARIOS, type Provisioner, type ScenarioName, type ScenarioOptions, type ScenarioResult } from './scenario.js';
export { PROFILE, MESSAGE_NAMES } from './wire.js';
