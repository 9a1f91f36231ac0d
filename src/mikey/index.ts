// Public API of the MIKEY wire codec (RFC 3830 family + RFC 6267 MIKEY-IBAKE): the message
// model, encode/decode of messages and inner sub-payload chains, MAC-slot helpers, message
// builders, text input (base64 / hex / a=key-mgmt) and the operator-facing description.
// This layer is wire format only: no curves, no IBE, no key derivation.
export { MikeyError, type MikeyErrorCode } from './errors.js';
export * from './model.js';
export * from './registry.js';
export {
  decodeMessage,
  encodeMessage,
  encodeMessageDetailed,
  encodeWithMacSlot,
  macInput,
  kemacsOf,
  MAX_MESSAGE_BYTES,
  type DecodeOptions,
  type EncodedMessage,
} from './message.js';
export { decodeInnerChain, encodeInnerChain, innerChainLength, MAX_PAYLOADS, MAX_INNER_PAYLOADS, type InnerChainOptions, type InnerKind } from './chain.js';
export { SHAPES } from './shapes.js';
export { csCount } from './header.js';
export { sec1Length, eccptPad } from './payload-ibake.js';
export { spParamInt } from './payload-policy.js';
export { MIN_RAND } from './payload-basic.js';
export * from './builders.js';
export { msToNtp64, ntp64ToMs, u64Bytes, bytesU64 } from './ntp.js';
export { parseMessageText, parseKeyMgmtLine, keyMgmtLine, decodeBase64Strict, type TextFormat } from './text.js';
