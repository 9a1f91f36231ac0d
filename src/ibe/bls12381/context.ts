// The cached hot path of bls12381-bf (DESIGN §5): per (identity, period) recipient entries
// holding Q_ID, g_ID = e(P_pub, Q_ID) and a fixed-base GT table for g_ID^l; one fixed-base G1
// table for P shared per engine; G2Prepared lines for our own private keys. Caches are bounded LRUs and free the
// engine handles they evict. Encryption to a cached recipient = one fixed-base G1 mul + one
// fixed-base GT pow, no pairing and no hash to G2. Results equal the uncached path bit for bit.
// A GT table costs about one pairing to build, so a recipient's first encryptions use a plain
// GT power and the table is built in the background from its third use on: one call encrypts
// to the responder twice (I_MESSAGE_1, I_MESSAGE_2), so the third use means a repeat peer.
// When the engine has the fused core (Engine.bfCore, native), an encryption or decryption is
// one engine call — the table or plain g_ID for encryption, the prepared lines for decryption —
// with only DER left in JavaScript; otherwise the steps of bf.ts run over the general operations.
// A recipient entry comes from one engine call when the engine has the fused core (Q_ID and
// g_ID together: BfCore.recipient); otherwise it is usable as soon as Q_ID is hashed and g_ID's
// pairing runs on, its encryptions waiting for it. A responder decrypting a new caller's message
// makes the caller's entry in the same engine call (decryptWith's alsoPrepare; native:
// BfCore.decryptWithRecipient). Otherwise the responder creates the caller's entry
// (prepare) while it decrypts I_MESSAGE_1, so the pairing runs beside the decryption. (An
// earlier variant encrypted a new peer's first message as e([l]P_pub, Q_ID) and computed g_ID in
// the background afterwards: one pairing more per new peer, and on our 2-vCPU machines the
// background pairing slowed the exchange down by about 5 % rather than speeding it up.)
import { hash } from 'node:crypto';
import { EngineError } from '../../engine/errors.js';
import type { BfCore, BfCoreCiphertext, EchoSplice, Engine, G1Table, G2Prepared, GTTable } from '../../engine/types.js';
import { decryptFailed } from '../errors.js';
import { Lru } from '../lru.js';
import { randomOctets } from '../../util/random.js';
import { bytesKey } from '../../util/bytes-key.js';
import {
  checkEncryptInputs,
  checkIdentity,
  checkPlaintext,
  checkPrivateKey,
  DST,
  decryptOps,
  encodeCoreCiphertext,
  encryptOps,
  encryptWithRhoOps,
  hashIdentity,
  lZero,
  parseCiphertextBls,
  withFreshRho,
  type EncryptOps,
} from './bf.js';

interface Recipient {
  qId: Uint8Array;
  /** g_ID = e(P_pub, Q_ID) once its pairing is done */
  gId?: Uint8Array;
  /** that pairing (settles after gId is set; rejection = the entry is dropped from the cache) */
  gIdReady: Promise<Uint8Array>;
  /** encryptions so far; the table is built from the TABLE_AFTER-th one on */
  uses: number;
  table?: GTTable;
  building?: Promise<void>;
  evicted?: boolean;
}

/**
 * One fixed-base table for the generator P per engine, shared by every context of the process
 * (P is public and the same for all KMS parameter sets; the table costs about two pairings to
 * build). Never freed while the engine lives; dropped with it.
 */
const P_TABLES = new WeakMap<Engine, Promise<G1Table>>();

function sharedPTable(engine: Engine): Promise<G1Table> {
  let t = P_TABLES.get(engine);
  if (!t) {
    t = engine.g1FixedBase(engine.g1Generator());
    P_TABLES.set(engine, t);
    t.catch(() => P_TABLES.delete(engine));
  }
  return t;
}

/** Uses of a recipient before its GT table is worth building (see the header). */
export const TABLE_AFTER = 3;

/** An entry whose Q_ID and g_ID are both known (the fused core's recipient results). */
function readyRecipient(qId: Uint8Array, gId: Uint8Array): Recipient {
  return { qId, gId, gIdReady: Promise.resolve(gId), uses: 0 };
}

function freeRecipient(r: Recipient): void {
  r.evicted = true;
  r.table?.free();
  r.table = undefined;
}

export interface BlsCacheOptions {
  /** recipients (identity, period) kept; default 1024 */
  recipients?: number;
  /** prepared private keys kept; default 16 */
  keys?: number;
}

const DST_BYTES = new TextEncoder().encode(DST);
/** Cache key for a private key: a hash, so the key itself is not kept as an unzeroable string. */
const KEY_ID_PREFIX = new TextEncoder().encode('ibaked-ibe-key-cache');
const keyId = (b: Uint8Array) => {
  const buf = Buffer.concat([KEY_ID_PREFIX, b]);
  const id = hash('sha256', buf, 'base64'); // one shot: a third of createHash/update/digest
  buf.fill(0);
  return id;
};

function isIdentity(id: Uint8Array): boolean {
  try {
    checkIdentity(id);
    return true;
  } catch {
    return false;
  }
}

/** decryptThenEncrypt's reply and splice: a plaintext as encryptions take, n >= 1 octets inside it. */
function checkSplice(reply: Uint8Array, s: EchoSplice): void {
  checkPlaintext(reply);
  const ok = (v: number) => Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff;
  if (!ok(s.from) || !ok(s.to) || !ok(s.n) || s.n === 0 || s.to + s.n > reply.length) {
    throw new RangeError('decryptThenEncrypt: the splice must be n >= 1 octets inside the reply');
  }
}

function isFreed(e: unknown): boolean {
  return e instanceof EngineError && e.reason === 'freed';
}

function isIbeCheck(e: unknown): boolean {
  return e instanceof EngineError && e.reason === 'ibe-check';
}

export class BlsContext {
  private readonly recipients: Lru<string, Promise<Recipient>>;
  /** The value of each cached entry once it has resolved (list() puts entries in both). */
  private readonly settled = new WeakMap<Promise<Recipient>, Recipient>();
  private readonly keys: Lru<string, Promise<G2Prepared>>;
  private closed = false;

  constructor(
    readonly engine: Engine,
    readonly Ppub: Uint8Array,
    opts: BlsCacheOptions = {},
  ) {
    this.recipients = new Lru(opts.recipients ?? 1024, (p) => void p.then(freeRecipient, () => {}));
    this.keys = new Lru(opts.keys ?? 16, (p) => void p.then((k) => k.free(), () => {}));
  }

  private check(): void {
    if (this.closed) throw new EngineError('freed', 'IBE context used after close()');
  }

  private table(): Promise<G1Table> {
    return sharedPTable(this.engine);
  }

  private async mulP(l: Uint8Array, form: 'compressed' | 'uncompressed' = 'compressed'): Promise<Uint8Array> {
    try {
      return await (await this.table()).mul(l, form);
    } catch (e) {
      if (!isFreed(e)) throw e;
      const U = await this.engine.g1Mul(this.engine.g1Generator(), l);
      return form === 'compressed' ? U : this.engine.g1Encode(U, form);
    }
  }

  /** The cached recipient entry (computing and caching it on first use). */
  recipient(id: Uint8Array): Promise<Recipient> {
    this.check();
    const k = bytesKey(id);
    let p = this.recipients.get(k);
    if (!p) {
      const drop = () => {
        if (this.recipients.peek(k) === mine) this.recipients.delete(k);
      };
      p = (async (): Promise<Recipient> => {
        const core = this.engine.bfCore;
        if (core) {
          checkIdentity(id);
          const { qId, gId } = await core.recipient(this.Ppub, id, DST_BYTES);
          return readyRecipient(qId, gId);
        }
        const qId = await hashIdentity(this.engine, id);
        const gIdReady = this.engine.pairing(this.Ppub, qId).then((g) => (r.gId = g));
        gIdReady.catch(drop); // handled here; waiters see the rejection themselves
        const r: Recipient = { qId, uses: 0, gIdReady };
        return r;
      })();
      const mine = p;
      p.catch(drop);
      this.list(k, p);
    }
    return p;
  }

  /** Caches a recipient entry, remembering its value once it resolves. */
  private list(k: string, p: Promise<Recipient>): void {
    this.recipients.set(k, p);
    p.then((r) => this.settled.set(p, r), () => undefined);
  }

  /** Q_ID for an identity (cached). */
  async publicKey(id: Uint8Array): Promise<Uint8Array> {
    return (await this.recipient(id)).qId.slice();
  }

  /** Starts building the recipient's GT table once it is a repeat peer (never awaited by callers). */
  private maybeBuildTable(r: Recipient): void {
    r.uses++;
    if (r.uses < TABLE_AFTER || r.table || r.building || r.evicted || this.closed) return;
    r.building = r.gIdReady.then((g) => this.engine.gtFixedBase(g)).then(
      (t) => {
        if (r.evicted || this.closed) t.free();
        else r.table = t;
      },
      () => undefined, // a failed build only means the plain power keeps being used
    );
  }

  /** Waits for pending g_ID pairings and table builds (tests and benchmarks that want a
   * settled cache). */
  async settle(): Promise<void> {
    const pending: Promise<unknown>[] = [];
    const quiet = () => undefined;
    for (const p of this.recipients.values()) {
      pending.push(p.then((r) => Promise.all([r.gIdReady.catch(quiet), r.building]), quiet));
    }
    await Promise.all(pending);
  }

  private async ops(id: Uint8Array): Promise<EncryptOps> {
    const r = await this.recipient(id);
    this.maybeBuildTable(r);
    return {
      mulPUncompressed: (l) => this.mulP(l, 'uncompressed'),
      powG: async (l) => {
        const t = r.table;
        if (t) {
          try {
            return await t.pow(l);
          } catch (e) {
            if (!isFreed(e)) throw e;
          }
        }
        return this.engine.gtPow(r.gId ?? (await r.gIdReady), l);
      },
    };
  }

  /** One fused encryption: through the recipient's table when it has one (a table freed
   * under us falls back to the plain power), else with g_ID; l = 0 becomes lZero(). */
  private async coreEncrypt(core: BfCore, r: Recipient, m: Uint8Array, rho: Uint8Array): Promise<Uint8Array> {
    checkEncryptInputs(m, rho);
    let out: BfCoreCiphertext | undefined;
    try {
      const t = r.table;
      if (t) {
        try {
          out = await core.encryptWithTable(t, m, rho);
        } catch (e) {
          if (!isFreed(e)) throw e;
        }
      }
      out ??= await core.encrypt(r.gId ?? (await r.gIdReady), m, rho);
    } catch (e) {
      if (isIbeCheck(e)) throw lZero();
      throw e;
    }
    return encodeCoreCiphertext(out);
  }

  async encryptTo(id: Uint8Array, m: Uint8Array): Promise<Uint8Array> {
    const core = this.engine.bfCore;
    if (!core) return encryptOps(await this.ops(id), m);
    const r = await this.recipient(id);
    this.maybeBuildTable(r);
    return withFreshRho(m, (rho) => this.coreEncrypt(core, r, m, rho));
  }

  /** Deterministic form for tests (cached path == uncached path). */
  async encryptToWithRho(id: Uint8Array, m: Uint8Array, rho: Uint8Array): Promise<Uint8Array> {
    const core = this.engine.bfCore;
    if (!core) return encryptWithRhoOps(await this.ops(id), m, rho);
    const r = await this.recipient(id);
    this.maybeBuildTable(r);
    return this.coreEncrypt(core, r, m, rho);
  }

  /**
   * The cache id of a private key (a hash of it, so the key is not kept as a string). A holder
   * that keeps a key unchanged, like IbeKeyring, computes it once and passes it to decryptWith.
   */
  keyCacheId(key: Uint8Array): string {
    return keyId(key);
  }

  private prepared(key: Uint8Array, id?: string): Promise<G2Prepared> {
    this.check();
    const k = id ?? keyId(key);
    let p = this.keys.get(k);
    if (!p) {
      p = checkPrivateKey(this.engine, key).then((S) => this.engine.g2Prepare(S));
      const mine = p;
      p.catch(() => {
        if (this.keys.peek(k) === mine) this.keys.delete(k);
      });
      this.keys.set(k, p);
    }
    return p;
  }

  /**
   * BFdecrypt with our private key; `cacheId`, if given, must be keyCacheId(key). `alsoPrepare`:
   * an identity whose recipient entry to make beside the decryption (a responder decrypting a
   * new caller's message, to encrypt the reply): with the fused core and no entry for it yet,
   * one engine call does both (BfCore.decryptWithRecipient: two separate pool jobs often ran one
   * after the other on this 2-vCPU machine); otherwise it is recipient() started first. The
   * entry gets exactly what recipient() would have; the decryption's verdict is unchanged.
   */
  async decryptWith(key: Uint8Array, ct: Uint8Array, cacheId?: string, alsoPrepare?: Uint8Array): Promise<Uint8Array> {
    const core = this.engine.bfCore;
    if (alsoPrepare) {
      const k = bytesKey(alsoPrepare);
      if (core?.decryptWithRecipient && !this.recipients.peek(k) && isIdentity(alsoPrepare)) {
        return this.decryptAndPrepare(core, key, ct, cacheId, alsoPrepare, k);
      }
      this.recipient(alsoPrepare).catch(() => undefined); // its users see a failure themselves
    }
    const prep = await this.prepared(key, cacheId);
    if (core) {
      const c = parseCiphertextBls(ct);
      try {
        return await core.decrypt(prep, c.u, c.v, c.w);
      } catch (e) {
        // every rejection (U invalid, FO check, l = 0) is the one uniform failure; a key handle
        // evicted while in flight falls through to the reference path with a plain pairing
        if (!isFreed(e)) throw decryptFailed();
      }
      return decryptOps({ pair: (u) => this.engine.pairing(u, prep.point), mulP: (l) => this.mulP(l) }, ct);
    }
    return decryptOps(
      {
        pair: async (u) => {
          try {
            return await prep.pairing(u);
          } catch (e) {
            if (!isFreed(e)) throw e;
            return this.engine.pairing(u, prep.point);
          }
        },
        mulP: (l) => this.mulP(l),
      },
      ct,
    );
  }

  /** decryptWith's fused path: the recipient entry is cached (pending) before the call, so an
   *  encryption to that identity meanwhile waits for it. If the call fails, the entry comes
   *  from recipient() instead (as on the separate path, which always computed it), so a waiter
   *  never sees the decryption's error. Errors are those of the separate path: the key's and
   *  the DER's as they are, any engine rejection of the ciphertext as the uniform failure, a key
   *  handle freed in flight through the separate path. */
  private async decryptAndPrepare(core: BfCore, key: Uint8Array, ct: Uint8Array, cacheId: string | undefined, id: Uint8Array, k: string): Promise<Uint8Array> {
    const fused = core.decryptWithRecipient!;
    let settle!: (r: Recipient) => void;
    let reject!: (e: unknown) => void;
    const entry = new Promise<Recipient>((resolve, rej) => {
      settle = resolve;
      reject = rej;
    });
    entry.catch(() => undefined); // its waiters see the rejection themselves
    this.list(k, entry);
    const unlist = () => {
      if (this.recipients.peek(k) === entry) this.recipients.delete(k);
    };
    const separately = () => {
      unlist();
      if (this.closed) reject(new EngineError('freed', 'IBE context used after close()'));
      else this.recipient(id).then(settle, reject);
    };
    let prep: G2Prepared;
    let c: ReturnType<typeof parseCiphertextBls>;
    try {
      prep = await this.prepared(key, cacheId);
      c = parseCiphertextBls(ct);
    } catch (e) {
      separately();
      throw e;
    }
    let out: Awaited<ReturnType<typeof fused>>;
    try {
      out = await fused.call(core, prep, c, { Ppub: this.Ppub, id, dst: DST_BYTES });
    } catch (e) {
      separately();
      if (!isFreed(e)) throw decryptFailed();
      return this.decryptWith(key, ct, cacheId);
    }
    const r = out.recipient;
    if (r instanceof EngineError) {
      unlist();
      reject(r);
    } else settle(readyRecipient(r.qId, r.gId));
    return out.m;
  }

  /**
   * decryptWith(key, ct, cacheId, to), and, in the same engine call when it can, the
   * encryption to `to` of a reply that echoes part of the plaintext: `reply` with
   * reply[splice.to, +n) replaced by M[splice.from, +n) (BfCore.decryptEncrypt). That needs the
   * fused core and `to`'s table ready (a repeat peer); otherwise, or when M is too short for the
   * splice, `reply` is undefined and the caller encrypts as usual. Decryption errors are
   * decryptWith's; a bad reply or splice is the caller's bug, thrown before anything else
   * (IbeError / RangeError). The caller must check M, and that the echoed octets are what it means to
   * send, before it uses the reply (DER ciphertext); the reply counts as one use of `to`.
   */
  async decryptThenEncrypt(
    key: Uint8Array,
    ct: Uint8Array,
    cacheId: string | undefined,
    to: Uint8Array,
    reply: Uint8Array,
    splice: EchoSplice,
  ): Promise<{ m: Uint8Array; reply?: Uint8Array }> {
    checkSplice(reply, splice);
    const core = this.engine.bfCore;
    const fused = core?.decryptEncrypt;
    // Only an entry that is ready: one still being computed (prepare() just started it) must
    // not hold the decryption back, which then runs beside it as before.
    const entry = fused && !this.closed ? this.recipients.get(bytesKey(to)) : undefined; // get: counts as recent
    const r = entry && this.settled.get(entry);
    const t = r && !r.evicted ? r.table : undefined;
    if (!r || !t) return { m: await this.decryptWith(key, ct, cacheId, to) };
    const prep = await this.prepared(key, cacheId);
    const c = parseCiphertextBls(ct);
    const rho = randomOctets(32);
    try {
      const out = await fused!.call(core, prep, c, t, reply, rho, splice);
      if (!out.reply) return { m: out.m };
      this.maybeBuildTable(r);
      return { m: out.m, reply: encodeCoreCiphertext(out.reply) };
    } catch (e) {
      // a key or table handle freed in flight: the separate path; any other rejection is the
      // ciphertext's (the reply's arguments were checked above): the uniform failure
      if (!isFreed(e)) throw decryptFailed();
      return { m: await this.decryptWith(key, ct, cacheId, to) };
    } finally {
      rho.fill(0);
    }
  }

  /** e(P, S_ID) == g_ID, using the cached g_ID and prepared lines. */
  async verifyKey(id: Uint8Array, key: Uint8Array): Promise<boolean> {
    const [r, prep] = await Promise.all([this.recipient(id), this.prepared(key)]);
    const [a, g] = await Promise.all([prep.pairing(this.engine.g1Generator()), r.gIdReady]);
    return Buffer.compare(Buffer.from(a), Buffer.from(g)) === 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.recipients.clear();
    this.keys.clear();
  }
}
