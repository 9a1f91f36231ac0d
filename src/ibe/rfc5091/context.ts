// Cached path of rfc5091-bf: per-identity Q_id and theta = e'(P_pub, Q_id) in a bounded LRU,
// so encryption to a cached recipient costs [l]P and theta^l, no hash-to-point or pairing.
import { createHash } from 'node:crypto';
import { Lru } from '../lru.js';
import type { Point } from './curve.js';
import {
  decodeRfc5091Ciphertext,
  decodeRfc5091Key,
  decryptPoint,
  derivePublic,
  encodeRfc5091Ciphertext,
  encryptTheta,
  encryptWithRho,
  recipientTheta,
  verifyKeyPoint,
} from './bf.js';
import type { Fp2 } from './field.js';
import type { Rfc5091Params } from './params.js';
import { bytesKey } from '../../util/bytes-key.js';

export class Rfc5091Context {
  private readonly thetas: Lru<string, Fp2>;
  /** validated private keys, keyed by a hash of their encoding */
  private readonly keys = new Lru<string, NonNullable<Point>>(16);
  constructor(
    readonly params: Rfc5091Params,
    opts: { recipients?: number } = {},
  ) {
    this.thetas = new Lru(opts.recipients ?? 1024);
  }

  private key(bytes: Uint8Array): NonNullable<Point> {
    const k = createHash('sha256').update(bytes).digest('base64');
    let S = this.keys.get(k);
    if (!S) {
      S = decodeRfc5091Key(this.params, bytes);
      this.keys.set(k, S);
    }
    return S;
  }

  theta(id: Uint8Array): Fp2 {
    const k = bytesKey(id);
    let t = this.thetas.get(k);
    if (!t) {
      t = recipientTheta(this.params, derivePublic(this.params, id));
      this.thetas.set(k, t);
    }
    return t;
  }

  encryptTo(id: Uint8Array, m: Uint8Array): Uint8Array {
    return encodeRfc5091Ciphertext(encryptTheta(this.params, this.theta(id), m));
  }

  encryptToWithRho(id: Uint8Array, m: Uint8Array, rho: Uint8Array): Uint8Array {
    return encodeRfc5091Ciphertext(encryptWithRho(this.params, this.theta(id), m, rho));
  }

  decryptWith(key: Uint8Array, ct: Uint8Array): Uint8Array {
    const S = this.key(key);
    return decryptPoint(this.params, S, decodeRfc5091Ciphertext(this.params, ct));
  }

  verifyKey(id: Uint8Array, key: Uint8Array): boolean {
    return verifyKeyPoint(this.params, id, this.key(key));
  }

  close(): void {
    this.thetas.clear();
    this.keys.clear();
  }
}
