// Public entry `ibaked/sdp`: the SDP helpers for RFC 4567 key management — reading and writing
// `a=key-mgmt:mikey` lines, finding the effective message per media section, inserting one,
// and the CS ID assignment (src/srtp/sdp.ts); finding the one MIKEY message in an SDP body or a
// SIP message and writing a minimal SDP body around one (src/srtp/sdp-body.ts); and a key
// entry's SRTP-stack forms: key ‖ salt, inline, libsrtp names, GStreamer caps (src/srtp/stack.ts).
export * from '../srtp/sdp.js';
export { findMikey, sipBody, buildSdpBody, addMikeyToSdp, MAX_SIGNALLING_TEXT, type CarrierKind, type SdpBodyOptions } from '../srtp/sdp-body.js';
export { stackKeys, gstCapsString, STACK_PROFILES, type StackKeys, type StackKeyInput, type GstSrtpFields, type LibsrtpNames } from '../srtp/stack.js';
export { SrtpError } from '../srtp/errors.js';
