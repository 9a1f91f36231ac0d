// Power-on checks of the IBE layer on a given engine: a BF round trip with tamper rejection on
// bls12381-bf (algebraic: what one key encrypts only that key opens, and any change is refused)
// and the published RFC 5091 §7.5 BFextractPriv vector on the type-1 suite.
import type { Engine } from '../engine/types.js';
import { createContext, extract, identityBytes, IbeError, setup } from '../ibe/index.js';
import { extractPoint, verifyKeyPoint } from '../ibe/rfc5091/bf.js';
import type { Rfc5091Params } from '../ibe/rfc5091/params.js';
import type { Check } from './engine-checks.js';

const enc = new TextEncoder();
const big = (h: string) => BigInt('0x' + h);

/** RFC 5091 §7.5 (id "Bob", SHA-1): the printed output, labelled Q_id there, is S_id = [s]Q_id. */
const RFC5091_7_5 = {
  p: 'a6a0ffd016103ffffffffff595f002fe9ef195f002fe9efb',
  q: 'ffffffffffffffffffffffeffffffffffff',
  P: { x: '6924c354256acf5a0ff7f61be4f0495b54540a5bf6395b3d', y: '024fd8e2eb7c09104bca116f41c035219955237c0eac19ab' },
  Ppub: { x: 'a68412ae960d1392701066664d20b2f4a76d6ee715621108', y: '9e7644e75c9a131d075752e143e3f0435ff231b6745a486f' },
  s: '749e52ddb807e0220054417e514742b05a0',
  S: { x: '8212b74ea75c841a9d1accc914ca140f4032d191b5ce5501', y: '950643d940aba68099bdcb40082532b6130c88d317958657' },
};

export function ibeChecks(engine: Engine): Check[] {
  return [
    {
      name: 'ibe bls12381-bf round trip, tamper and wrong-key rejection',
      run: async () => {
        const { master, params } = await setup('bls12381-bf', engine);
        const date = new Date(Date.UTC(2026, 0, 15));
        const alice = identityBytes('sip:selftest-alice@example.org', date);
        const bob = identityBytes('sip:selftest-bob@example.org', date);
        const [kA, kB] = await Promise.all([extract(master, params, alice, engine), extract(master, params, bob, engine)]);
        master.fill(0);
        const ctx = await createContext(params, engine);
        try {
          const msg = enc.encode('ibaked power-on self-test');
          const ct = await ctx.encryptTo(alice, msg);
          const ok = Buffer.from(await ctx.decryptWith(kA, ct)).equals(Buffer.from(msg));
          const bad = Uint8Array.from(ct);
          bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x01;
          const rejected = async (p: Promise<unknown>) =>
            p.then(
              () => false,
              (e) => e instanceof IbeError,
            );
          const keyOk = await ctx.verifyPrivateKey(alice, kA);
          const keyWrong = await ctx.verifyPrivateKey(alice, kB);
          return ok && keyOk && !keyWrong && (await rejected(ctx.decryptWith(kA, bad))) && (await rejected(ctx.decryptWith(kB, ct)));
        } finally {
          ctx.close();
          kA.fill(0);
          kB.fill(0);
        }
      },
    },
    {
      name: 'rfc5091 §7.5 BFextractPriv vector (type-1 curve, SHA-1)',
      run: async () => {
        const v = RFC5091_7_5;
        const params: Rfc5091Params = {
          p: big(v.p),
          q: big(v.q),
          P: { x: big(v.P.x), y: big(v.P.y) },
          Ppub: { x: big(v.Ppub.x), y: big(v.Ppub.y) },
          hash: 'sha1',
        };
        const bobId = enc.encode('Bob');
        const S = extractPoint(params, big(v.s), bobId);
        return S.x === big(v.S.x) && S.y === big(v.S.y) && verifyKeyPoint(params, bobId, S);
      },
    },
  ];
}
