// Public-key protection of the KMS exchange (REQUEST_KEY_PKE, RFC 6267 §4.1.2 on RFC 3830
// §4.2/§5.2), our profile: the user picks a random 32-octet envelope key, encrypts it to the
// KMS's RSA key with RSAES-OAEP (SHA-256, MGF1-SHA-256) in the PKE payload (C = 0, no cache),
// and signs the whole message (up to the signature value) with its RSA key: SIGN S type 0 =
// RSASSA-PKCS1-v1_5 with SHA-256, S type 1 = RSASSA-PSS with SHA-256 and a 32-octet salt.
// The KMS verifies the signature BEFORE it decrypts the envelope (no decryption oracle for
// unauthenticated input); keys of the response then derive from the envelope key exactly as
// they derive from a PSK. PKCS#1 v1.5 encryption is not offered (Bleichenbacher).
import { constants, createPublicKey, createPrivateKey, privateDecrypt, publicEncrypt, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { KmsError } from './errors.js';

export const SignType = { RSA_PKCS1_V15: 0, RSA_PSS: 1 } as const;
export const ENVELOPE_KEY_OCTETS = 32;

/** A public key from PEM (SPKI / PKCS#1) or from an X.509 certificate (PEM or DER). */
export function publicKeyOf(input: string | Uint8Array, what: string): KeyObject {
  try {
    const text = typeof input === 'string' ? input : undefined;
    if ((text && text.includes('CERTIFICATE')) || (!text && (input as Uint8Array)[0] === 0x30)) {
      return new X509Certificate(typeof input === 'string' ? input : Buffer.from(input)).publicKey;
    }
    return createPublicKey(typeof input === 'string' ? input : Buffer.from(input));
  } catch {
    throw new KmsError('KMS_CONFIG', `${what} is not a PEM public key or certificate`);
  }
}

/** An RSA private key from PEM. */
export function rsaPrivateKey(pem: string | Uint8Array, what: string): KeyObject {
  let k: KeyObject;
  try {
    k = createPrivateKey(typeof pem === 'string' ? pem : Buffer.from(pem));
  } catch {
    throw new KmsError('KMS_CONFIG', `${what} is not a PEM private key`);
  }
  requireRsa(k, what);
  return k;
}

export function requireRsa(k: KeyObject, what: string): void {
  if (k.asymmetricKeyType !== 'rsa') throw new KmsError('KMS_CONFIG', `${what} must be an RSA key`);
  const bits = k.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048 || bits > 8192) throw new KmsError('KMS_CONFIG', `${what} must be 2048..8192 bits, got ${bits}`);
}

/** Octets of a signature / OAEP block for an RSA key. */
export function rsaOctets(k: KeyObject): number {
  return Math.ceil((k.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}

export function newEnvelopeKey(): Uint8Array {
  return new Uint8Array(randomBytes(ENVELOPE_KEY_OCTETS));
}

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

export function envelopeEncrypt(kmsPublic: KeyObject, envKey: Uint8Array): Uint8Array {
  return new Uint8Array(publicEncrypt({ key: kmsPublic, ...OAEP }, envKey));
}

/** Decrypts the PKE data; any failure is one uniform KMS_AUTH_FAILED. */
export function envelopeDecrypt(kmsPrivate: KeyObject, data: Uint8Array): Uint8Array {
  try {
    const out = privateDecrypt({ key: kmsPrivate, ...OAEP }, data);
    if (out.length < 16 || out.length > 64) {
      out.fill(0);
      throw new Error('length');
    }
    return new Uint8Array(out);
  } catch {
    throw new KmsError('KMS_AUTH_FAILED', 'authentication failed');
  }
}

function signOpts(sType: number, key: KeyObject) {
  if (sType === SignType.RSA_PKCS1_V15) return { key, padding: constants.RSA_PKCS1_PADDING };
  if (sType === SignType.RSA_PSS) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  throw new KmsError('KMS_UNSUPPORTED', `SIGN S type ${sType} is not supported (0 RSA/PKCS#1 v1.5, 1 RSA/PSS)`, { mikeyError: 12 });
}

export function signData(sType: number, key: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign('sha256', data, signOpts(sType, key)));
}

export function verifyData(sType: number, key: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return verify('sha256', data, signOpts(sType, key), sig);
  } catch (e) {
    if (e instanceof KmsError) throw e;
    return false;
  }
}
