// MIKEY code points (RFC 3830 + RFC 4563/4650/4738/6043/6267/6509 registry additions) and their
// human-readable names, in one place so the codec, the builders and `ibake decode` agree.
// Values are from spec/mikey-base.md §3–§4 and spec/mikey-ibake.md §5–§7.

/** HDR data types (message types). */
export const DataType = {
  PSK_INIT: 0,
  PSK_VER: 1,
  PK_INIT: 2,
  PK_VER: 3,
  DH_INIT: 4,
  DH_RESP: 5,
  ERROR: 6,
  DHHMAC_INIT: 7,
  DHHMAC_RESP: 8,
  RSA_R_I: 9,
  RSA_R_R: 10,
  REQUEST_INIT_PSK: 11,
  REQUEST_INIT_PK: 12,
  REQUEST_RESP: 13,
  TRANSFER_INIT: 14,
  TRANSFER_RESP: 15,
  RESOLVE_INIT_PSK: 16,
  RESOLVE_INIT_PK: 17,
  RESOLVE_RESP: 18,
  REQUEST_KEY_PSK: 19,
  REQUEST_KEY_PKE: 20,
  REQUEST_KEY_RESP: 21,
  I_MESSAGE_1: 22,
  R_MESSAGE_1: 23,
  I_MESSAGE_2: 24,
  R_MESSAGE_2: 25,
  SAKKE: 26,
} as const;

export const DATA_TYPE_NAMES: readonly string[] = [
  'Pre-shared', 'PSK ver msg', 'Public key', 'PK ver msg', 'D-H init', 'D-H resp', 'Error',
  'DHHMAC init', 'DHHMAC resp', 'RSA-R I_MSG', 'RSA-R R_MSG', 'REQUEST_INIT_PSK', 'REQUEST_INIT_PK',
  'REQUEST_RESP', 'TRANSFER_INIT', 'TRANSFER_RESP', 'RESOLVE_INIT_PSK', 'RESOLVE_INIT_PK',
  'RESOLVE_RESP', 'REQUEST_KEY_PSK', 'REQUEST_KEY_PKE', 'REQUEST_KEY_RESP', 'I_MESSAGE_1',
  'R_MESSAGE_1', 'I_MESSAGE_2', 'R_MESSAGE_2', 'SAKKE msg',
];

/** Next payload values. */
export const PayloadType = {
  LAST: 0,
  KEMAC: 1,
  PKE: 2,
  DH: 3,
  SIGN: 4,
  T: 5,
  ID: 6,
  CERT: 7,
  CHASH: 8,
  V: 9,
  SP: 10,
  RAND: 11,
  ERR: 12,
  TR: 13,
  IDR: 14,
  RANDR: 15,
  TP: 16,
  TICKET: 17,
  KEY: 20,
  EXT: 21,
  IBAKE: 22,
  ESK: 23,
  SK: 24,
  ECCPT: 25,
  SAKKE: 26,
} as const;

/** Payload kinds of the message model (the string form of a Next payload value). */
export type PayloadKind = Exclude<keyof typeof PayloadType, 'LAST' | 'TP' | 'TICKET'>;

export const PAYLOAD_NAMES: Readonly<Record<number, string>> = {
  0: 'Last payload', 1: 'Key data transport (KEMAC)', 2: 'Envelope data (PKE)', 3: 'DH data (DH)',
  4: 'Signature (SIGN)', 5: 'Timestamp (T)', 6: 'ID', 7: 'Certificate (CERT)', 8: 'Cert hash (CHASH)',
  9: 'Verification (V)', 10: 'Security policy (SP)', 11: 'RAND', 12: 'Error (ERR)',
  13: 'Timestamp with role (TR)', 14: 'ID with role (IDR)', 15: 'RAND with role (RANDR)',
  16: 'Ticket policy (TP)', 17: 'Ticket (TICKET)', 20: 'Key data (KEY)', 21: 'General extension (EXT)',
  22: 'IBAKE', 23: 'Encrypted secret key (ESK)', 24: 'Secret key (SK)', 25: 'EC Diffie-Hellman (ECCPT)',
  26: 'SAKKE',
};

export const PRF_NAMES: Readonly<Record<number, string>> = { 0: 'MIKEY-1', 1: 'PRF-HMAC-SHA-256' };

export const CsMapType = { SRTP_ID: 0, EMPTY: 1, GENERIC_ID: 2 } as const;
export const CS_MAP_NAMES: readonly string[] = ['SRTP-ID', 'Empty map', 'GENERIC-ID'];

export const TsType = { NTP_UTC: 0, NTP: 1, COUNTER: 2, NTP_UTC_32: 3 } as const;
export const TS_TYPE_NAMES: readonly string[] = ['NTP-UTC', 'NTP', 'COUNTER', 'NTP-UTC-32'];
/** TS value length in octets per TS type. */
export const TS_LENGTHS: readonly number[] = [8, 8, 4, 4];
export const TR_ROLE_NAMES: Readonly<Record<number, string>> = {
  1: 'time of issue', 2: 'start of validity', 3: 'end of validity', 4: 'rekeying interval',
};

export const IdType = { NAI: 0, URI: 1, BYTE_STRING: 2 } as const;
export const ID_TYPE_NAMES: readonly string[] = ['NAI', 'URI', 'byte string'];

export const IdRole = { IDRi: 1, IDRr: 2, IDRkms: 3, IDRpsk: 4, IDRapp: 5, IDRkmsi: 6, IDRkmsr: 7 } as const;
export const ID_ROLE_NAMES: Readonly<Record<number, string>> = {
  1: 'Initiator (IDRi)', 2: 'Responder (IDRr)', 3: 'KMS (IDRkms)', 4: 'Pre-shared key (IDRpsk)',
  5: 'Application (IDRapp)', 6: "Initiator's KMS (IDRkmsi)", 7: "Responder's KMS (IDRkmsr)",
};
export const RAND_ROLE_NAMES: Readonly<Record<number, string>> = { 1: 'Initiator', 2: 'Responder', 3: 'KMS' };

export const CERT_TYPE_NAMES: readonly string[] = ['X.509v3', 'X.509v3 URL', 'X.509v3 Sign', 'X.509v3 Encr'];

/** KEMAC Encr alg values (RFC 3830 §6.2); the transforms are in kemac-crypto.ts. */
export const EncrAlg = { NULL: 0, AES_CM_128: 1, AES_KW_128: 2, AES_CM_256: 3 } as const;
export type EncrAlg = (typeof EncrAlg)[keyof typeof EncrAlg];
export const ENCR_ALG_NAMES: readonly string[] = ['NULL', 'AES-CM-128', 'AES-KW-128', 'AES-CM-256'];

/** KEMAC MAC alg / V payload Auth alg values (RFC 3830 §6.2, RFC 6043); the MACs are in mac.ts. */
export const MacAlg = { NULL: 0, HMAC_SHA1_160: 1, HMAC_SHA256_256: 2 } as const;
export type MacAlg = (typeof MacAlg)[keyof typeof MacAlg];
export const MAC_ALG_NAMES: readonly string[] = ['NULL', 'HMAC-SHA-1-160', 'HMAC-SHA-256-256'];
/** MAC length in octets per MAC / Auth alg. */
export const MAC_LENGTHS: readonly number[] = [0, 20, 32];

export const HASH_FUNC_NAMES: readonly string[] = ['SHA-1', 'MD5', 'SHA-256'];
export const HASH_LENGTHS: readonly number[] = [20, 16, 32];

export const DH_GROUP_NAMES: readonly string[] = ['OAKLEY 5', 'OAKLEY 1', 'OAKLEY 2'];
export const DH_LENGTHS: readonly number[] = [192, 96, 128];

export const SIGN_TYPE_NAMES: Readonly<Record<number, string>> = { 0: 'RSA/PKCS#1/1.5', 1: 'RSA/PSS', 2: 'ECCSI' };

export const ERR_NAMES: readonly string[] = [
  'Auth failure', 'Invalid TS', 'Invalid PRF', 'Invalid MAC', 'Invalid EA', 'Invalid HA', 'Invalid DH',
  'Invalid ID', 'Invalid Cert', 'Invalid SP', 'Invalid SPpar', 'Invalid DT', 'Unspecified error',
  'Unsupported message type', 'Invalid TICKET', 'Invalid TPpar',
];

export const EXT_TYPE_NAMES: Readonly<Record<number, string>> = { 0: 'Vendor ID', 1: 'SDP IDs', 3: 'Key ID', 241: 'ibaked clear-field binding (private use)' };

export const KeyType = { TGK: 0, TGK_SALT: 1, TEK: 2, TEK_SALT: 3, GTGK: 4, GTGK_SALT: 5, MPK: 6, K_PR: 7 } as const;
export const KEY_TYPE_NAMES: readonly string[] = ['TGK', 'TGK+SALT', 'TEK', 'TEK+SALT', 'GTGK', 'GTGK+SALT', 'MPK', 'K_PR'];
/** Key data types that carry a salt field. */
export const KEY_TYPES_WITH_SALT: ReadonlySet<number> = new Set([1, 3, 5]);

export const KvType = { NULL: 0, SPI: 1, INTERVAL: 2 } as const;
export const KV_TYPE_NAMES: readonly string[] = ['Null', 'SPI/MKI', 'Interval'];

export const SK_TYPE_NAMES: Readonly<Record<number, string>> = { 1: 'SK' };

export const ProtType = { SRTP: 0 } as const;
export const SRTP_PARAM_NAMES: readonly string[] = [
  'Encryption algorithm', 'Session encryption key length', 'Authentication algorithm',
  'Session authentication key length', 'Session salt key length', 'SRTP pseudo random function',
  'Key derivation rate', 'SRTP encryption', 'SRTCP encryption', "Sender's FEC order",
  'SRTP authentication', 'Authentication tag length', 'SRTP prefix length',
];
/** Names of the enumerated SRTP policy values, per parameter type. */
export const SRTP_PARAM_VALUE_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  0: { 0: 'NULL', 1: 'AES-CM', 2: 'AES-F8' },
  2: { 0: 'NULL', 1: 'HMAC-SHA-1' },
  5: { 0: 'AES-CM' },
  7: { 0: 'off', 1: 'on' },
  8: { 0: 'off', 1: 'on' },
  9: { 0: 'FEC-SRTP' },
  10: { 0: 'off', 1: 'on' },
};

/** ECC curves of the ECCPT sub-payload: name and field size L in octets. */
export const ECC_CURVES: Readonly<Record<number, { name: string; fieldBytes: number }>> = {
  1: { name: 'P-192', fieldBytes: 24 },
  2: { name: 'B-163', fieldBytes: 21 },
  3: { name: 'K-163', fieldBytes: 21 },
  4: { name: 'sect163r1', fieldBytes: 21 },
  5: { name: 'P-224', fieldBytes: 28 },
  6: { name: 'B-233', fieldBytes: 30 },
  7: { name: 'K-233', fieldBytes: 30 },
  8: { name: 'P-256', fieldBytes: 32 },
  9: { name: 'B-283', fieldBytes: 36 },
  10: { name: 'K-283', fieldBytes: 36 },
  11: { name: 'P-384', fieldBytes: 48 },
  12: { name: 'B-409', fieldBytes: 52 },
  13: { name: 'K-409', fieldBytes: 52 },
  14: { name: 'P-521', fieldBytes: 66 },
  15: { name: 'B-571', fieldBytes: 72 },
  16: { name: 'K-571', fieldBytes: 72 },
};
export const EccCurve = { P256: 8 } as const;

export function nameOf(table: Readonly<Record<number, string>> | readonly string[], v: number): string {
  const n = (table as Record<number, string>)[v];
  return n ?? `Unknown (${v})`;
}
