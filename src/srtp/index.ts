// Public surface of the SRTP layer: RFC 3711 key derivation, SP policy <-> SRTP profile mapping,
// and RFC 4567 a=key-mgmt carriage in SDP. Knows nothing of curves or of the MIKEY wire codec.
export * from './errors.js';
export * from './kdf.js';
export * from './policy.js';
export * from './sdp.js';
export * from './sdp-body.js';
export * from './stack.js';
