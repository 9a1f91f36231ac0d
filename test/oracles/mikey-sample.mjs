#!/usr/bin/env node
// mikey-sample: hand-built MIKEY messages (valid and malformed) for the oracle tests, laid out
// byte by byte from the RFC payload diagrams (RFC 3830 §6, RFC 6043 §6.6 IDR, RFC 6509 §4 SAKKE,
// RFC 6267 shapes with the profile's code points: data types 19–25, IBAKE = 22, ESK = 23).
// Deliberately independent of src/mikey: nothing here calls the project's encoder, so a decoder
// bug cannot be mirrored by a matching encoder bug. Ciphertexts, MACs, DH values and signatures
// are filler: the messages are well formed, not cryptographically valid.
//
//   mikey-sample --list             names, sizes, one-line notes
//   mikey-sample [--hex] NAME       one message as base64 (default) or hex
//   mikey-sample --all [--hex]      "NAME ENCODED" for every sample, one per line
//
// Exit status: 0 ok, 2 usage (unknown sample or option).

const PT = { LAST: 0, KEMAC: 1, DH: 3, SIGN: 4, T: 5, ID: 6, V: 9, SP: 10, RAND: 11, ERR: 12, IDR: 14, SAKKE: 26, IBAKE: 22, ESK: 23 };

/** Concatenates big-endian fields, each a [width in octets, value] pair or raw Uint8Array bytes. */
function be(...fields) {
  const out = [];
  for (const f of fields) {
    if (f instanceof Uint8Array) out.push(...f);
    else {
      const [width, value] = f;
      for (let i = width - 1; i >= 0; i--) out.push(Number((BigInt(value) >> BigInt(8 * i)) & 0xffn));
    }
  }
  return Uint8Array.from(out);
}
const cat = (...parts) => Uint8Array.from(parts.flatMap((p) => [...p]));
/** n octets counting up from `start` (mod 256): recognisable filler in a hex dump. */
const ramp = (n, start) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
const ascii = (s) => new TextEncoder().encode(s);

// ---- payloads (np = type of the payload that follows) ----------------------------------------
/** HDR: version, data type, next payload, V|PRF, CSB ID, #CS, CS ID map type, SRTP-ID entries. */
function hdr(dataType, np, { v = 0, mapType = 0, srtp = [[0, 0xdeadbeef, 0]], version = 1 } = {}) {
  return be([1, version], [1, dataType], [1, np], [1, v << 7], [4, 0x0badcafe], [1, srtp.length], [1, mapType],
    ...srtp.flatMap(([policy, ssrc, roc]) => [[1, policy], [4, ssrc], [4, roc]]));
}
/** T, NTP-UTC (TS type 0): 64-bit NTP time. */
const t = (np) => be([1, np], [1, 0], [8, 0xeb1f0a0040000000n]);
const rand = (np, n = 16) => be([1, np], [1, n], ramp(n, 0x20));
/** SP for SRTP: AES-CM-128, HMAC-SHA-1 with 20-octet key, 14-octet salt, 80-bit tag, all on. */
function sp(np) {
  const params = [[0, 1], [1, 16], [2, 1], [3, 20], [4, 14], [7, 1], [8, 1], [10, 1], [11, 10]];
  const body = Uint8Array.from(params.flatMap(([type, value]) => [type, 1, value]));
  return be([1, np], [1, 0], [1, 0], [2, body.length], body);
}
/** KEMAC, NULL encryption, one KEY sub-payload (TGK, KV null), HMAC-SHA-1-160 MAC (filler). */
function kemac(np) {
  const key = be([1, PT.LAST], [1, 0x00], [2, 16], ramp(16, 0xb0));
  return be([1, np], [1, 0], [2, key.length], key, [1, 1], ramp(20, 0x50));
}
const id = (np, uri) => be([1, np], [1, 1], [2, uri.length], ascii(uri));
/** IDR (RFC 6043): role (1 IDRi, 2 IDRr, 3 IDRkms), ID type 1 = URI. */
const idrP = (np, role, uri) => be([1, np], [1, role], [1, 1], [2, uri.length], ascii(uri));
/** DH, OAKLEY group 2 (128-octet value), KV null. */
const dh = (np) => be([1, np], [1, 2], ramp(128, 0x90), [1, 0]);
/** SIGN: 4-bit type, 12-bit length, signature; always the last payload (no next-payload field). */
const sign = (type, n) => be([2, (type << 12) | n], ramp(n, 0x40));
const err = (np, no) => be([1, np], [1, no], [2, 0]);
/** SAKKE (RFC 6509): params 1, ID scheme 1, length, R (0x04 || 256 octets) || H (16 octets). */
const sakke = (np) => be([1, np], [1, 1], [1, 1], [2, 273], [1, 4], ramp(272, 0x70));
/** RFC 6267 IBAKE / ESK: next payload, 16-bit length, IBE ciphertext (filler). */
const encr = (np, n, seed) => be([1, np], [2, n], ramp(n, seed));
/** V (RFC 3830 §6.9): next payload, auth alg 1 = HMAC-SHA-1-160, 20-octet MAC. */
const ver = (np) => be([1, np], [1, 1], ramp(20, 0x60));

// ---- the samples ------------------------------------------------------------------------------
function samples() {
  const s = new Map();
  const add = (name, note, bytes) => s.set(name, { note, bytes });
  const psk = cat(hdr(0, PT.T), t(PT.RAND), rand(PT.SP), sp(PT.KEMAC), kemac(PT.LAST));
  add('psk-i', 'RFC 3830 PSK I_MESSAGE: HDR,T,RAND,SP,KEMAC{KEY}', psk);
  add('dh-i', 'RFC 3830 DH I_MESSAGE: HDR,T,RAND,ID,SP,DH,SIGN',
    cat(hdr(4, PT.T), t(PT.RAND), rand(PT.ID), id(PT.SP, 'sip:alice@example.org'), sp(PT.DH), dh(PT.SIGN), sign(0, 128)));
  add('err', 'RFC 3830 Error message: HDR(no CS),T,ERR', cat(hdr(6, PT.T, { srtp: [] }), t(PT.ERR), err(PT.LAST, 1)));
  add('sakke-i', 'RFC 6509 MIKEY-SAKKE I_MESSAGE: HDR,T,RAND,IDRi,IDRr,SAKKE,SIGN(ECCSI)',
    cat(hdr(26, PT.T, { srtp: [], mapType: 1 }), t(PT.RAND), rand(PT.IDR), idrP(PT.IDR, 1, 'tel:+447700900123'),
      idrP(PT.SAKKE, 2, 'tel:+447700900456'), sakke(PT.SIGN), sign(2, 129)));
  add('ibake-i1', 'RFC 6267 I_MESSAGE_1 shape: HDR(22,V),T,RAND,IDRi,IDRr,IBAKE,ESK',
    cat(hdr(22, PT.T, { v: 1 }), t(PT.RAND), rand(PT.IDR), idrP(PT.IDR, 1, 'sip:alice@example.org'),
      idrP(PT.IBAKE, 2, 'sip:bob@example.org'), encr(PT.ESK, 96, 0xc0), encr(PT.LAST, 64, 0xe0)));
  add('ibake-r1', 'RFC 6267 R_MESSAGE_1 shape: HDR(23,V),T,IDRi,IDRr,IBAKE',
    cat(hdr(23, PT.T, { v: 1 }), t(PT.IDR), idrP(PT.IDR, 1, 'sip:alice@example.org'),
      idrP(PT.IBAKE, 2, 'sip:bob@example.org'), encr(PT.LAST, 128, 0x10)));
  add('ibake-reqkey-psk', 'RFC 6267 REQUEST_KEY_PSK shape: HDR(19,V),T,RAND,IDRi,IDRkms,V',
    cat(hdr(19, PT.T, { v: 1, srtp: [], mapType: 1 }), t(PT.RAND), rand(PT.IDR), idrP(PT.IDR, 1, 'sip:alice@example.org'),
      idrP(PT.V, 3, 'kms.example.org'), ver(PT.LAST)));
  add('unknown-pt-250', 'HDR,T,RAND, then a payload of type 250 (unknown to every parser)',
    cat(hdr(0, PT.T), t(PT.RAND), rand(250), be([1, PT.LAST]), ramp(6, 0)));
  // malformed variants of psk-i
  add('bad-truncated', 'psk-i without its last 10 octets (the MAC runs past the end)', psk.slice(0, -10));
  const randLenAt = hdr(0, 0).length + t(0).length + 1;
  add('bad-randlen', 'psk-i with RAND len 200 (past the end of the message)', Uint8Array.from(psk, (b, i) => (i === randLenAt ? 200 : b)));
  add('bad-trailing', 'psk-i and 3 octets after the last payload', cat(psk, [0, 1, 2]));
  add('bad-version', 'psk-i with HDR version 2 (RFC 3830 defines 1)', Uint8Array.from(psk, (b, i) => (i === 0 ? 2 : b)));
  add('bad-early-end', 'psk-i whose HDR says next payload = 0 (the rest is left over)', Uint8Array.from(psk, (b, i) => (i === 2 ? 0 : b)));
  return s;
}

function main(argv) {
  const hex = argv.includes('--hex');
  const args = argv.filter((a) => a !== '--hex');
  const enc = (b) => Buffer.from(b).toString(hex ? 'hex' : 'base64');
  const all = samples();
  const usage = () => {
    process.stderr.write('usage: mikey-sample --list | [--hex] NAME | --all [--hex]\n');
    return 2;
  };
  if (args.length !== 1) return usage();
  const [a] = args;
  if (a === '-h' || a === '--help') {
    process.stdout.write('usage: mikey-sample --list | [--hex] NAME | --all [--hex]\n');
    return 0;
  }
  if (a === '--list') {
    for (const [name, { note, bytes }] of all) process.stdout.write(`${name.padEnd(17)} ${String(bytes.length).padStart(4)} octets  ${note}\n`);
    return 0;
  }
  if (a === '--all') {
    for (const [name, { bytes }] of all) process.stdout.write(`${name} ${enc(bytes)}\n`);
    return 0;
  }
  const s = all.get(a);
  if (!s) {
    process.stderr.write(`mikey-sample: no sample ${JSON.stringify(a)} (see --list)\n`);
    return 2;
  }
  process.stdout.write(enc(s.bytes) + '\n');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
