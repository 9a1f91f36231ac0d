// NTP-UTC timestamp helpers the KMS uses (T payloads, KEY validity intervals): defined once in
// src/mikey/ntp.ts, re-exported here for the KMS modules, tests and benches that import them.
export { bytesU64, msToNtp64, ntp64ToMs, u64Bytes } from '../mikey/ntp.js';
