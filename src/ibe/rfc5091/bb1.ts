// Boneh–Boyen BB1 (RFC 5091 §6.3.1 BBextractPriv, §6.4.1 BBencrypt) — ONLY to check the
// published vectors 7.7/7.8, which exercise HashToRange, HashBytes and Canonical (o = 1) on
// our type-1 arithmetic. MIKEY-IBAKE does not use BB1; nothing else imports this module.
import { hashBytes, hashFcn, hashToRange, type HashName } from '../hashes.js';
import { add, mul, type Point } from './curve.js';
import { fp2, mod, type Fp2 } from './field.js';
import { canonical, fpBytes } from './params.js';

type Pt = NonNullable<Point>;

export interface Bb1Params {
  p: bigint;
  q: bigint;
  P: Pt;
  P1: Pt;
  P3: Pt;
  v: Fp2;
  hash: HashName;
}

/** BBextractPriv with a given randomiser r: D0 = [αβ + r(α·hid + γ)]P, D1 = [r]P. */
export function bb1ExtractWithR(
  x: Bb1Params,
  alpha: bigint,
  beta: bigint,
  gamma: bigint,
  r: bigint,
  id: Uint8Array,
): { D0: Point; D1: Point } {
  const hid = hashToRange(id, x.q, hashFcn(x.hash));
  const y = mod(alpha * beta + r * (alpha * hid + gamma), x.q);
  return { D0: mul(x.P, y, x.p), D1: mul(x.P, r, x.p) };
}

/** H(H(b) ‖ b) ‖ H(b): the two-hash string BBencrypt feeds to HashBytes / HashToRange. */
function doubleHash(b: Uint8Array, hash: HashName): Uint8Array {
  const h = hashFcn(hash);
  const eta = h.hash(b);
  return Buffer.concat([h.hash(eta, b), eta]);
}

/** BBencrypt with a given s. */
export function bb1EncryptWithS(
  x: Bb1Params,
  id: Uint8Array,
  m: Uint8Array,
  s: bigint,
): { u: bigint; C0: Pt; C1: Pt; y: Uint8Array } {
  const h = hashFcn(x.hash);
  const hid = hashToRange(id, x.q, h);
  const w = fp2.pow(x.v, s, x.p);
  const C0 = mul(x.P, s, x.p) as Pt;
  const C1 = add(mul(x.P1, mod(s * hid, x.q), x.p), mul(x.P3, s, x.p), x.p) as Pt;
  const psi = canonical(x.p, 1, w);
  const y = Buffer.from(hashBytes(m.length, doubleHash(psi, x.hash), h)).map((b, i) => b ^ m[i]!);
  const sigma = Buffer.concat([fpBytes(C1.y, x.p), fpBytes(C1.x, x.p), fpBytes(C0.y, x.p), fpBytes(C0.x, x.p), y, psi]);
  const rho = hashToRange(doubleHash(sigma, x.hash), x.q, h);
  return { u: mod(s + rho, x.q), C0, C1, y: new Uint8Array(y) };
}
