// The profile-v1 key derivation (K_SESSION = the bare ECDH point, no clear-field binding, no
// N_c), kept ONLY so bench/call.ts can measure what profile v2 costs against it in the same run
// (docs/performance.md). It is switched on by a Symbol-keyed endpoint option that is not part of
// EndpointOptions, not exported from src/ibake/index.ts and never set by the daemon or the CLI:
// v1 is open to the unknown key-share and forking-sibling attacks of docs/security.md.
export const V1_DERIVATION: unique symbol = Symbol('ibaked internal: profile-v1 derivation (bench A/B only)');
export type V1Option = { [V1_DERIVATION]?: true };
