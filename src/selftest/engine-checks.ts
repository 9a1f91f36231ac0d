// Power-on known-answer checks of one pairing engine: published vectors (RFC 9380 hashing,
// ZCash point encodings), an algebraic identity (bilinearity), precomputed == plain, and the
// rejection of a malformed element. Each check is independent and reports pass/fail by name.
import { EngineError } from '../engine/errors.js';
import { scalarFromBigint } from '../engine/scalar.js';
import type { Engine } from '../engine/types.js';
import { H2G1, H2G2, SEVEN_G } from './kat.js';

export interface Check {
  name: string;
  run(): Promise<boolean>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const enc = new TextEncoder();

export function engineChecks(engine: Engine): Check[] {
  const seven = scalarFromBigint(7n);
  const a = scalarFromBigint(0x1234567890abcdef1234567890abcdefn);
  const checks: Check[] = [];
  for (const v of H2G2.vectors) {
    checks.push({
      name: `rfc9380-hash-to-g2 msg="${v.msg}"`,
      run: async () => hex(await engine.g2Encode(await engine.hashToG2(enc.encode(v.msg), H2G2.dst), 'uncompressed')) === v.uncompressed,
    });
  }
  for (const v of H2G1.vectors) {
    checks.push({
      name: `rfc9380-hash-to-g1 msg="${v.msg}"`,
      run: async () => hex(await engine.g1Encode(await engine.hashToG1(enc.encode(v.msg), H2G1.dst), 'uncompressed')) === v.uncompressed,
    });
  }
  checks.push({
    name: 'zcash-encoding g1 7G compressed+uncompressed',
    run: async () => {
      const p = await engine.g1Mul(engine.g1Generator(), seven);
      return hex(p) === SEVEN_G.g1Compressed && hex(await engine.g1Encode(p, 'uncompressed')) === SEVEN_G.g1Uncompressed;
    },
  });
  checks.push({
    name: 'zcash-encoding g2 7G compressed+uncompressed',
    run: async () => {
      const p = await engine.g2Mul(engine.g2Generator(), seven);
      return hex(p) === SEVEN_G.g2Compressed && hex(await engine.g2Encode(p, 'uncompressed')) === SEVEN_G.g2Uncompressed;
    },
  });
  checks.push({
    name: 'pairing bilinearity e(aP,Q) = e(P,aQ) = e(P,Q)^a',
    run: async () => {
      const P = engine.g1Generator();
      const Q = engine.g2Generator();
      const [l, r, base] = await Promise.all([
        engine.pairing(await engine.g1Mul(P, a), Q),
        engine.pairing(P, await engine.g2Mul(Q, a)),
        engine.pairing(P, Q),
      ]);
      const pow = await engine.gtPow(base, a);
      return hex(l) === hex(r) && hex(l) === hex(pow) && hex(l) !== hex(base);
    },
  });
  checks.push({
    name: 'precomputed tables equal plain operations',
    run: async () => {
      const P = engine.g1Generator();
      const Q = engine.g2Generator();
      const base = await engine.pairing(P, Q);
      const t1 = await engine.g1FixedBase(P);
      const t2 = await engine.g2Prepare(Q);
      const tt = await engine.gtFixedBase(base);
      try {
        const [m1, m2, pr, pp] = await Promise.all([t1.mul(a), engine.g1Mul(P, a), tt.pow(a), t2.pairing(P)]);
        return hex(m1) === hex(m2) && hex(pr) === hex(await engine.gtPow(base, a)) && hex(pp) === hex(base);
      } finally {
        t1.free();
        t2.free();
        tt.free();
      }
    },
  });
  checks.push({
    name: 'rejects an off-curve G1 encoding',
    run: async () => {
      const bad = Uint8Array.from(Buffer.from(SEVEN_G.g1Uncompressed, 'hex'));
      bad[95] = bad[95]! ^ 1;
      try {
        await engine.g1Encode(bad);
        return false;
      } catch (e) {
        return e instanceof EngineError && e.reason === 'not-on-curve';
      }
    },
  });
  return checks;
}
