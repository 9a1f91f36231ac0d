// Boneh–Franklin FullIdent on type-1 curves, RFC 5091 §5.2–§5.5: BFderivePubl, BFextractPriv,
// BFencrypt, BFdecrypt (with the step-9 consistency check U == [l]P). Byte-level wrappers use
// the DER structures of src/ibe/ciphertext.ts. Every decryption failure is IBE_DECRYPT_FAILED.
import { randomBytes } from 'node:crypto';
import { decodeCiphertext, decodePrivateKeyBlock, encodeCiphertext, encodePrivateKeyBlock } from '../ciphertext.js';
import { decryptFailed, IbeError } from '../errors.js';
import { hashBytes, hashFcn, hashToRange, xorInto } from '../hashes.js';
import { eqPoint, hashToPoint, inSubgroup, mul, type Point } from './curve.js';
import { fp2, type Fp2 } from './field.js';
import { tatePairing } from './pairing.js';
import { canonical, type Rfc5091Params } from './params.js';

type Pt = NonNullable<Point>;

export const MAX_PLAINTEXT = 1 << 20;

/** BFderivePubl: Q_id = HashToPoint(E, p, q, id, hashfcn). */
export function derivePublic(params: Rfc5091Params, id: Uint8Array): Pt {
  return hashToPoint(params.p, params.q, id, hashFcn(params.hash)) as Pt;
}

/** BFextractPriv: S_id = [s]Q_id. */
export function extractPoint(params: Rfc5091Params, s: bigint, id: Uint8Array): Pt {
  if (s < 2n || s >= params.q) throw new IbeError('IBE_BAD_MASTER', 'master secret out of range');
  const S = mul(derivePublic(params, id), s, params.p);
  if (S === null) throw new IbeError('IBE_BAD_MASTER', 'private key is infinity');
  return S;
}

/** theta = e'(P_pub, Q_id): depends only on the recipient; cacheable. */
export function recipientTheta(params: Rfc5091Params, Qid: Pt): Fp2 {
  return tatePairing(params.Ppub, Qid, params.p, params.q);
}

export interface Rfc5091Ciphertext {
  U: Pt;
  V: Uint8Array;
  W: Uint8Array;
}

/** BFencrypt with a caller-chosen rho (tests, and the randomised wrapper below). */
export function encryptWithRho(params: Rfc5091Params, theta: Fp2, m: Uint8Array, rho: Uint8Array): Rfc5091Ciphertext {
  const h = hashFcn(params.hash);
  if (rho.length !== h.len) throw new IbeError('IBE_BAD_INPUT', `rho must be ${h.len} octets`);
  const t = h.hash(m);
  const l = hashToRange(Buffer.concat([rho, t]), params.q, h);
  if (l === 0n) throw new IbeError('IBE_BAD_INPUT', 'l = 0; choose another rho');
  const U = mul(params.P, l, params.p) as Pt;
  const thetaL = fp2.pow(theta, l, params.p);
  const w = h.hash(canonical(params.p, 0, thetaL));
  const V = xorInto(w, rho);
  const W = xorInto(hashBytes(m.length, rho, h), m);
  return { U, V, W };
}

function checkPlaintext(m: Uint8Array): void {
  if (!(m instanceof Uint8Array)) throw new IbeError('IBE_BAD_INPUT', 'plaintext must be a Uint8Array');
  if (m.length < 1 || m.length > MAX_PLAINTEXT) throw new IbeError('IBE_BAD_INPUT', `plaintext must be 1..${MAX_PLAINTEXT} octets`);
}

export function encryptTheta(params: Rfc5091Params, theta: Fp2, m: Uint8Array): Rfc5091Ciphertext {
  checkPlaintext(m);
  const h = hashFcn(params.hash);
  for (;;) {
    const rho = randomBytes(h.len);
    try {
      return encryptWithRho(params, theta, m, rho);
    } catch (e) {
      if (!(e instanceof IbeError && e.message.startsWith('l = 0'))) throw e;
    } finally {
      rho.fill(0);
    }
  }
}

/** BFdecrypt, steps 1–9. Throws IBE_DECRYPT_FAILED on any failure. */
export function decryptPoint(params: Rfc5091Params, S: Pt, c: Rfc5091Ciphertext): Uint8Array {
  const h = hashFcn(params.hash);
  if (c.V.length !== h.len || c.W.length < 1 || c.W.length > MAX_PLAINTEXT) throw decryptFailed();
  if (!inSubgroup(c.U, params.p, params.q)) throw decryptFailed();
  const theta = tatePairing(c.U, S, params.p, params.q);
  const w = h.hash(canonical(params.p, 0, theta));
  const rho = xorInto(w, c.V);
  const m = xorInto(hashBytes(c.W.length, rho, h), c.W);
  const t = h.hash(m);
  const l = hashToRange(Buffer.concat([rho, t]), params.q, h);
  rho.fill(0);
  if (l === 0n || !eqPoint(mul(params.P, l, params.p), c.U)) {
    m.fill(0);
    throw decryptFailed();
  }
  return m;
}

// --- byte-level forms -------------------------------------------------------------------

export function encodeRfc5091Ciphertext(c: Rfc5091Ciphertext): Uint8Array {
  return encodeCiphertext({ ux: c.U.x, uy: c.U.y, v: c.V, w: c.W });
}

/** Parses and range-checks a DER ciphertext; failures are IBE_DECRYPT_FAILED (uniform). */
export function decodeRfc5091Ciphertext(params: Rfc5091Params, bytes: Uint8Array): Rfc5091Ciphertext {
  let d;
  try {
    d = decodeCiphertext(bytes);
  } catch {
    throw decryptFailed();
  }
  if (d.ux >= params.p || d.uy >= params.p) throw decryptFailed();
  return { U: { x: d.ux, y: d.uy }, V: d.v, W: d.w };
}

export function encodeRfc5091Key(S: Pt): Uint8Array {
  return encodePrivateKeyBlock(S.x, S.y);
}

export function decodeRfc5091Key(params: Rfc5091Params, bytes: Uint8Array): Pt {
  const { x, y } = decodePrivateKeyBlock(bytes);
  const S = { x, y };
  if (!inSubgroup(S, params.p, params.q)) throw new IbeError('IBE_BAD_KEY', 'private key is not a point of order q');
  return S;
}

/** Client key check: e'(P, S_id) == e'(P_pub, Q_id). */
export function verifyKeyPoint(params: Rfc5091Params, id: Uint8Array, S: Pt): boolean {
  const Q = derivePublic(params, id);
  return fp2.eq(tatePairing(params.P, S, params.p, params.q), recipientTheta(params, Q));
}
