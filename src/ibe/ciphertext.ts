// DER BFCiphertextBlock (RFC 5091 §8 / RFC 5409), the ciphertext encoding of both suites:
//   BFCiphertextBlock ::= SEQUENCE { version INTEGER {v2(2)}, u FpPoint, v OCTET STRING, w OCTET STRING }
//   FpPoint ::= SEQUENCE { x INTEGER, y INTEGER }
// and the sibling structures BFPrivateKeyBlock / BFMasterSecret used by the rfc5091-bf suite.
// Decoding is strict (src/ibe/der.ts); range checks of x, y belong to each suite.
import { asInt, asOctets, asSeq, derDecode, derEncode } from './der.js';
import { IbeError } from './errors.js';

export const BF_VERSION = 2n;

export interface BfCiphertext {
  ux: bigint;
  uy: bigint;
  v: Uint8Array;
  w: Uint8Array;
}

export function encodeCiphertext(c: BfCiphertext): Uint8Array {
  return derEncode({
    kind: 'seq',
    items: [
      { kind: 'int', value: BF_VERSION },
      { kind: 'seq', items: [{ kind: 'int', value: c.ux }, { kind: 'int', value: c.uy }] },
      { kind: 'octets', value: c.v },
      { kind: 'octets', value: c.w },
    ],
  });
}

/** Strict parse; any deviation is IbeError('IBE_BAD_CIPHERTEXT'). */
export function decodeCiphertext(bytes: Uint8Array): BfCiphertext {
  try {
    const top = asSeq(derDecode(bytes), 4, 'BFCiphertextBlock');
    if (asInt(top[0], 'version') !== BF_VERSION) throw new IbeError('IBE_BAD_CIPHERTEXT', 'unsupported version');
    const u = asSeq(top[1], 2, 'FpPoint');
    return { ux: asInt(u[0], 'x'), uy: asInt(u[1], 'y'), v: asOctets(top[2], 'v'), w: asOctets(top[3], 'w') };
  } catch (e) {
    if (e instanceof IbeError) throw new IbeError('IBE_BAD_CIPHERTEXT', `bad BFCiphertextBlock: ${e.message}`);
    throw e;
  }
}

/** BFPrivateKeyBlock ::= SEQUENCE { version INTEGER {v2(2)}, privateKey FpPoint } */
export function encodePrivateKeyBlock(x: bigint, y: bigint): Uint8Array {
  return derEncode({
    kind: 'seq',
    items: [
      { kind: 'int', value: BF_VERSION },
      { kind: 'seq', items: [{ kind: 'int', value: x }, { kind: 'int', value: y }] },
    ],
  });
}

export function decodePrivateKeyBlock(bytes: Uint8Array): { x: bigint; y: bigint } {
  try {
    const top = asSeq(derDecode(bytes), 2, 'BFPrivateKeyBlock');
    if (asInt(top[0], 'version') !== BF_VERSION) throw new IbeError('IBE_BAD_KEY', 'unsupported version');
    const pt = asSeq(top[1], 2, 'FpPoint');
    return { x: asInt(pt[0], 'x'), y: asInt(pt[1], 'y') };
  } catch (e) {
    if (e instanceof IbeError) throw new IbeError('IBE_BAD_KEY', `bad BFPrivateKeyBlock: ${e.message}`);
    throw e;
  }
}

/** BFMasterSecret ::= SEQUENCE { version INTEGER {v2(2)}, masterSecret INTEGER } */
export function encodeMasterSecret(s: bigint): Uint8Array {
  return derEncode({ kind: 'seq', items: [{ kind: 'int', value: BF_VERSION }, { kind: 'int', value: s }] });
}

export function decodeMasterSecret(bytes: Uint8Array): bigint {
  try {
    const top = asSeq(derDecode(bytes), 2, 'BFMasterSecret');
    if (asInt(top[0], 'version') !== BF_VERSION) throw new IbeError('IBE_BAD_MASTER', 'unsupported version');
    return asInt(top[1], 'masterSecret');
  } catch (e) {
    if (e instanceof IbeError) throw new IbeError('IBE_BAD_MASTER', `bad BFMasterSecret: ${e.message}`);
    throw e;
  }
}
