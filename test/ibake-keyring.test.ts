// IbeKeyring (src/ibake/keyring.ts): a key of (uri, period) already held is kept when it is
// added again (identity.add twice, a renewal fetching the same period again), like IbsKeyring:
// replacing it would wipe the buffer a decryption in flight may still be using. Also the
// keyring's other edges: no key for a period, a dropped period, close.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { extractBls } from '../src/ibe/bls12381/bf.js';
import { identityBytes, periodStart } from '../src/ibe/identity.js';
import { IbeKeyring } from '../src/ibake/keyring.js';
import { loadEngine } from './helpers/engines.js';
import { makeWorld } from './helpers/ibake-world.js';

const A = 'sip:alice@example.org';
const engine = (await loadEngine('native')) ?? (await loadEngine('ts'))!;

describe(`IbeKeyring (${engine.name})`, () => {
  it('keeps the key it holds when (uri, period) is added again, even with other bytes', async () => {
    const w = await makeWorld(engine);
    const now = Date.now();
    const period = periodStart(now, 'month');
    const key = await extractBls(engine, w.s, identityBytes(A, now, 'month'));
    const ring = new IbeKeyring(engine, w.Ppub);
    ring.addKey(A, period, key);
    const m = new Uint8Array(randomBytes(40));
    const ct = await ring.encrypt(A, now, m);
    const inFlight = ring.decrypt(A, now, ct);
    ring.addKey(A, period, key.slice());
    const other = key.slice();
    other[other.length - 1]! ^= 1;
    ring.addKey(A, period, other); // never a verified key in practice; shows which one is used
    key.fill(0); // the caller's buffer: the keyring has its own copy
    expect(Buffer.from(await inFlight)).toEqual(Buffer.from(m));
    expect(Buffer.from(await ring.decrypt(A, now, ct))).toEqual(Buffer.from(m));
    ring.close();
  });

  it('without a key for the period, or after the period is dropped: IBAKE_NO_KEY', async () => {
    const w = await makeWorld(engine);
    const now = Date.now();
    const period = periodStart(now, 'month');
    const ring = new IbeKeyring(engine, w.Ppub);
    const ct = await ring.encrypt(A, now, new Uint8Array(8));
    await expect(ring.decrypt(A, now, ct)).rejects.toMatchObject({ code: 'IBAKE_NO_KEY' });
    ring.addKey(A, period, await extractBls(engine, w.s, identityBytes(A, now, 'month')));
    expect(ring.holds(A)).toBe(true);
    ring.dropPeriod(period);
    await expect(ring.decrypt(A, now, ct)).rejects.toMatchObject({ code: 'IBAKE_NO_KEY' });
    ring.close();
  });
});
