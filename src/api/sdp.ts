// Public entry `ibaked/sdp`: the SDP helpers for RFC 4567 key management — reading and writing
// `a=key-mgmt:mikey` lines, finding the effective message per media section, inserting one,
// and the CS ID assignment (src/srtp/sdp.ts).
export * from '../srtp/sdp.js';
export { SrtpError } from '../srtp/errors.js';
