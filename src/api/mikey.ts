// Public entry `ibaked/mikey`: the MIKEY message codec (RFC 3830 family + RFC 6267 MIKEY-IBAKE)
// — decodeMessage / encodeMessage, text input (base64, hex, a=key-mgmt line), the typed
// MikeyError with code and offset, the message model, and describeMessage (the named-field
// tree and JSON of `ibake decode`). Wire format only: no curves, no keys.
export * from '../mikey/index.js';
export { describeMessage, type Description } from '../mikey/describe.js';
