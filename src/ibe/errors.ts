// Typed errors of the IBE layer. Decryption failures of any kind (malformed DER, bad point,
// failed Fujisaki–Okamoto check, wrong key) surface as the single code IBE_DECRYPT_FAILED so a
// peer cannot tell which check it tripped; the other codes are for local inputs.
import { IbakedError } from '../util/errors.js';

export type IbeErrorCode =
  | 'IBE_DECRYPT_FAILED' // any ciphertext that does not decrypt (uniform, no detail)
  | 'IBE_BAD_CIPHERTEXT' // only from explicit parsing helpers, never from decrypt()
  | 'IBE_BAD_KEY' // private key malformed or not the key of the given identity
  | 'IBE_BAD_PARAMS' // public parameters malformed, inconsistent, or fingerprint mismatch
  | 'IBE_BAD_MASTER' // master secret malformed or inconsistent with the parameters
  | 'IBE_BAD_IDENTITY' // URI / date / period rejected
  | 'IBE_BAD_INPUT' // plaintext or other argument outside the accepted range
  | 'IBE_SIGNATURE_INVALID' // a well-formed identity-based signature that does not verify
  | 'IBE_BAD_SIGNATURE' // an identity-based signature that is malformed (length, U or V not a valid G2 point)
  | 'IBE_DER'; // strict DER codec rejected an encoding

export class IbeError extends IbakedError {
  declare readonly code: IbeErrorCode;
  constructor(code: IbeErrorCode, message: string) {
    super(code, message);
  }
}

/** The one error every failed decryption raises. */
export function decryptFailed(): IbeError {
  return new IbeError('IBE_DECRYPT_FAILED', 'decryption failed');
}
