// ExchangeOwners (src/daemon/ownership.ts) on its own: the first claim of (identity, CSB ID)
// owns it; another connection is refused (IBAKE_NO_SESSION) unless it has the owner's uid in
// 'uid' mode; release and prune forget owners, and size counts what is held. The daemon tests
// (daemon-shards, review-daemon) check the same rules through the socket.
import { describe, expect, it } from 'vitest';
import { ExchangeOwners } from '../src/daemon/ownership.js';
import type { RequestContext } from '../src/daemon/server.js';

const ctx = (conn: number, uid?: number): RequestContext => ({ conn, ...(uid !== undefined ? { uid } : {}), reqId: 1, method: 'exchange.receive' });
const refused = (f: () => void) => expect(f).toThrow(expect.objectContaining({ code: 'IBAKE_NO_SESSION' }));

describe('ExchangeOwners', () => {
  it('the first claim owns; other connections are refused, the same uid is allowed in uid mode only', () => {
    const o = new ExchangeOwners('uid');
    o.check('sip:a@x', 7, ctx(1, 1000)); // nobody owns it yet
    o.claim('sip:a@x', 7, ctx(1, 1000));
    o.claim('sip:a@x', 7, ctx(2, 2000)); // a later claim does not take it over
    o.check('sip:a@x', 7, ctx(1, 1000));
    o.check('sip:a@x', 7, ctx(3, 1000)); // another connection of the owner's uid
    refused(() => o.check('sip:a@x', 7, ctx(2, 2000)));
    refused(() => o.check('sip:a@x', 7, ctx(4)));
    o.check('sip:a@x', 8, ctx(2, 2000)); // another CSB ID, another identity: not owned
    o.check('sip:b@x', 7, ctx(2, 2000));
    o.mode = 'connection';
    refused(() => o.check('sip:a@x', 7, ctx(3, 1000)));
    expect(o.size).toBe(1);
  });

  it('CSB IDs are taken as u32; release and prune forget owners and keep the count', () => {
    const o = new ExchangeOwners('connection');
    for (let c = 1; c <= 5; c++) o.claim('sip:a@x', c, ctx(1));
    o.claim('sip:b@x', 0xffffffff, ctx(1));
    expect(o.size).toBe(6);
    refused(() => o.check('sip:b@x', -1, ctx(2))); // -1 >>> 0 = 0xffffffff
    o.release('sip:a@x', 3);
    o.release('sip:a@x', 3); // twice: no effect
    o.release('sip:c@x', 1); // never claimed
    expect(o.size).toBe(5);
    o.check('sip:a@x', 3, ctx(2));
    const pruned = o.prune((id, c) => id === 'sip:a@x' && c % 2 === 1);
    expect(pruned).toBe(3); // a:2, a:4 and b:0xffffffff
    expect(o.size).toBe(2);
    refused(() => o.check('sip:a@x', 1, ctx(2)));
    refused(() => o.check('sip:a@x', 5, ctx(2)));
    o.check('sip:b@x', 0xffffffff, ctx(2));
    o.claim('sip:b@x', 0xffffffff, ctx(9)); // claimable again after prune
    refused(() => o.check('sip:b@x', 0xffffffff, ctx(2)));
    expect(o.size).toBe(3);
  });
});
