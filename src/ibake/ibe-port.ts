// What the protocol engine needs from identity-based encryption, as a small interface: encrypt
// to (peer URI, period of the carrying message's T) and decrypt with OUR private key for
// (our URI, that period). The protocol never sees pairings or private-key bytes beyond this;
// `keyring.ts` (IbeKeyring) implements it on src/ibe (caches: per-peer g_ID tables, own key prepared).
// Keeping it an interface also lets the escrow test play the KMS with the same code.
import type { EchoSplice } from '../engine/types.js';

export interface IbePort {
  /** IBE-encrypts `plaintext` to `uri` for the key period containing `tMs`. */
  encrypt(uri: string, tMs: number, plaintext: Uint8Array): Promise<Uint8Array>;
  /**
   * Decrypts with our private key for (`uri`, period containing `tMs`). Rejects with
   * IbakeError IBAKE_NO_KEY when no such key is held, and with any other error on failure
   * (the caller maps every decryption failure to the uniform auth failure).
   */
  decrypt(uri: string, tMs: number, ciphertext: Uint8Array): Promise<Uint8Array>;
  /**
   * Optional: decrypt as above and, beside it, prepare (as `prepare`) the recipient entry of
   * `peer` for the same period: a responder's first step with a caller, whose reply it will
   * encrypt. An implementation may do both in one engine call. Same results and errors as
   * decrypt.
   */
  decryptAndPrepare?(uri: string, tMs: number, ciphertext: Uint8Array, peer: string): Promise<Uint8Array>;
  /**
   * Optional: decryptAndPrepare, and the encryption to `peer` (for the period containing
   * `replyTMs`) of a reply that echoes part of the plaintext: `reply` with reply[splice.to, +n) replaced by the
   * plaintext's [splice.from, +n). An implementation that can do both in one engine call gives
   * the reply's ciphertext; otherwise `reply` is undefined and the caller encrypts. The caller
   * checks the plaintext, and that the echoed octets are what it means to send, before it
   * sends the reply. Same errors as decrypt.
   */
  decryptAndReply?(
    uri: string,
    tMs: number,
    ciphertext: Uint8Array,
    peer: string,
    replyTMs: number,
    reply: Uint8Array,
    splice: EchoSplice,
  ): Promise<{ plain: Uint8Array; reply?: Uint8Array }>;
  /** True if we hold a private key for `uri` (any period): used to tell "addressed to us". */
  holds(uri: string): boolean;
  /**
   * Optional: start the per-recipient precomputation for `uri` (hash to G2, g_ID, its table)
   * so it runs concurrently with a decryption we are about to await, or with the JavaScript
   * that builds the message to encrypt. Never rejects.
   */
  prepare?(uri: string, tMs: number): void;
}
