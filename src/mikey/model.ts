// The typed MIKEY message model shared by the encoder, the decoder, the builders and
// `ibake decode`. A message is a header plus an ordered list of payloads; each payload is a plain
// object with a `kind` discriminant. Decoded payloads also carry `offset`/`length`: their exact
// byte range in the decoded buffer (for MAC computation over exact bytes and for diagnostics).
// Encoders ignore `offset`/`length`. Cipher texts (IBAKE, ESK, encrypted KEMAC) are opaque bytes.
// Byte fields of a decoded message are views into its private copy `bytes` (never the caller's).

/** Byte range of a decoded element in the buffer it was decoded from. */
export interface Span {
  offset?: number;
  length?: number;
}

// ---- header -------------------------------------------------------------------------------

export interface SrtpIdEntry {
  policyNo: number;
  ssrc: number;
  roc: number;
}

export interface GenericIdEntry {
  csId: number;
  protType: number;
  /** S flag: session data carries ROC and SEQ as well as the SSRC */
  s: boolean;
  policies: number[];
  sessionData: Uint8Array;
  spi: Uint8Array;
}

export type CsMap =
  | { type: 0; entries: SrtpIdEntry[] } // SRTP-ID: #CS = entries.length
  | { type: 1; count: number } // Empty map: #CS = count, no map info
  | { type: 2; entries: GenericIdEntry[] }; // GENERIC-ID: #CS = entries.length

export interface MikeyHeader extends Span {
  /** always 1 (the decoder rejects anything else; the encoder writes 1) */
  version?: 1;
  dataType: number;
  /** V flag: a response is expected */
  v: boolean;
  /** PRF func (0 MIKEY-1, 1 PRF-HMAC-SHA-256) */
  prf: number;
  /** CSB ID as an unsigned 32-bit integer */
  csbId: number;
  csMap: CsMap;
}

// ---- shared parts -------------------------------------------------------------------------

/** Key validity data (RFC 3830 §6.14). */
export type KeyValidity =
  | { type: 0 }
  | { type: 1; spi: Uint8Array }
  | { type: 2; from: Uint8Array; to: Uint8Array };

// ---- top-level payloads -------------------------------------------------------------------

export interface KemacPayload extends Span {
  kind: 'KEMAC';
  encrAlg: number;
  /** encrypted Key data chain (or plaintext when encrAlg = 0) */
  encrData: Uint8Array;
  macAlg: number;
  /** MAC value; its length must match macAlg (0, 20 or 32 octets) */
  mac: Uint8Array;
  /** decoder only: the decoded plaintext chain when encrAlg = NULL */
  plain?: InnerPayload[];
}
export interface PkePayload extends Span {
  kind: 'PKE';
  /** envelope key cache indicator, 0..3 */
  c: number;
  data: Uint8Array;
}
export interface DhPayload extends Span {
  kind: 'DH';
  group: number;
  value: Uint8Array;
  /** the 4 reserved bits (send 0) */
  reserved?: number;
  kv: KeyValidity;
}
export interface SignPayload extends Span {
  kind: 'SIGN';
  sType: number;
  signature: Uint8Array;
}
export interface TPayload extends Span {
  kind: 'T';
  tsType: number;
  /** 64-bit value for NTP-UTC/NTP, 32-bit for COUNTER/NTP-UTC-32 */
  value: bigint;
}
export interface IdPayload extends Span {
  kind: 'ID';
  idType: number;
  data: Uint8Array;
}
export interface CertPayload extends Span {
  kind: 'CERT';
  certType: number;
  data: Uint8Array;
}
export interface ChashPayload extends Span {
  kind: 'CHASH';
  hashFunc: number;
  hash: Uint8Array;
}
export interface VPayload extends Span {
  kind: 'V';
  authAlg: number;
  /** MAC value; its length must match authAlg (0, 20 or 32 octets) */
  mac: Uint8Array;
}
export interface SrtpParam {
  type: number;
  value: Uint8Array;
}
export interface SpPayload extends Span {
  kind: 'SP';
  policyNo: number;
  protType: number;
  params: SrtpParam[];
}
export interface RandPayload extends Span {
  kind: 'RAND';
  rand: Uint8Array;
}
export interface ErrPayload extends Span {
  kind: 'ERR';
  errNo: number;
  /** the 16 reserved bits (send 0) */
  reserved?: number;
}
export interface TrPayload extends Span {
  kind: 'TR';
  role: number;
  tsType: number;
  value: bigint;
}
export interface IdrPayload extends Span {
  kind: 'IDR';
  role: number;
  idType: number;
  data: Uint8Array;
}
export interface RandrPayload extends Span {
  kind: 'RANDR';
  role: number;
  rand: Uint8Array;
}
export interface ExtPayload extends Span {
  kind: 'EXT';
  extType: number;
  data: Uint8Array;
}
export interface IbakePayload extends Span {
  kind: 'IBAKE';
  /** IBE ciphertext of an inner chain (see encodeInnerChain) */
  encrData: Uint8Array;
}
export interface EskPayload extends Span {
  kind: 'ESK';
  encrData: Uint8Array;
}
export interface SakkePayload extends Span {
  kind: 'SAKKE';
  params: number;
  idScheme: number;
  data: Uint8Array;
}

export type Payload =
  | KemacPayload
  | PkePayload
  | DhPayload
  | SignPayload
  | TPayload
  | IdPayload
  | CertPayload
  | ChashPayload
  | VPayload
  | SpPayload
  | RandPayload
  | ErrPayload
  | TrPayload
  | IdrPayload
  | RandrPayload
  | ExtPayload
  | IbakePayload
  | EskPayload
  | SakkePayload;

// ---- sub-payloads (inside KEMAC / IBAKE / ESK plaintexts) ------------------------------------

export interface KeyDataPayload extends Span {
  kind: 'KEY';
  /** Key data type (0 TGK … 7 K_PR) */
  keyType: number;
  key: Uint8Array;
  /** present iff keyType includes SALT (1, 3, 5) */
  salt?: Uint8Array;
  kv: KeyValidity;
}
export interface SkPayload extends Span {
  kind: 'SK';
  /** SK Type (1 = SK) */
  skType: number;
  key: Uint8Array;
  kv: KeyValidity;
}
export interface EccptPayload extends Span {
  kind: 'ECCPT';
  curve: number;
  /** SEC1 encoding (0x04‖x‖y or 0x02/0x03‖x); length implied by curve and first octet */
  point: Uint8Array;
  /** inherited DH-payload fields MIKEY-IBAKE ignores; default 0 */
  authAlg?: number;
  tgkLen?: number;
  reserved?: number;
  kv: KeyValidity;
}

/** RANDR and EXT appear in inner chains only in our profile v2 (docs/profile.md §3.1: N_c and the clear-field binding). */
export type InnerPayload = IdrPayload | IdPayload | EccptPayload | SkPayload | KeyDataPayload | RandrPayload | ExtPayload;

export interface MikeyMessage {
  header: MikeyHeader;
  payloads: Payload[];
}

/** What decodeMessage returns: the model with spans filled in, plus the exact input bytes. */
export interface DecodedMessage extends MikeyMessage {
  /** copy of the decoded bytes */
  bytes: Uint8Array;
  header: MikeyHeader & Required<Span>;
  payloads: (Payload & Required<Span>)[];
  /** byte range of the MAC value of the final V payload or KEMAC (PSK mode), if any */
  mac?: { offset: number; length: number };
}
