// The messages not covered by `ibake call`'s scenarios — the CSB-update I_MESSAGE_1 (no RAND),
// R_MESSAGE_1 (with V) and confirming I_MESSAGE_2 (with V, no IBAKE), initiator- and responder-initiated, and our RFC 3830 Error replies (Invalid TS, Auth failure, Invalid ID)
// — pass Wireshark's MIKEY dissector (mikey-tshark --allow-unknown), each judged separately in
// one SDP body. Skipped (with a visible reason) only when tshark is absent and CI is not set.
import { describe, expect, it } from 'vitest';
import { fastestEngine } from './helpers/engines.js';
import { makeWorld } from './helpers/ibake-world.js';
import { haveTshark, tsharkJudge } from './helpers/tshark.js';
import { IbakeError } from '../src/ibake/errors.js';
import { decodeMessage, encodeMessage } from '../src/mikey/index.js';

const HAVE_TSHARK = haveTshark('ibake update/Error messages (tshark)');
const engine = await fastestEngine();
const A = 'sip:alice@example.org';
const B = 'sip:bob@example.org';

describe.runIf(HAVE_TSHARK)('tshark judges update and Error messages', () => {
  it('CSB update I_MESSAGE_1 / R_MESSAGE_1 and ERR replies are well formed', async () => {
    const w = await makeWorld(engine);
    const alice = await w.party(A);
    const bob = await w.party(B);
    const { message: i1, csbId } = await alice.initiate({ to: B });
    const i2 = await alice.receive((await bob.receive(i1)).reply!);
    await alice.receive((await bob.receive(i2.reply!)).reply!);
    const u1 = await alice.rekey(csbId, B);
    const ur = (await bob.receive(u1)).reply!;
    const uc = (await alice.receive(ur)).reply!; // the confirming I_MESSAGE_2 (profile v2)
    await bob.receive(uc);
    const v1 = await bob.rekey(csbId, A); // responder-initiated
    const vr = (await alice.receive(v1)).reply!;
    const vc = (await bob.receive(vr)).reply!;
    await alice.receive(vc);
    const errs: Uint8Array[] = [];
    const grab = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(IbakeError);
      errs.push((e as IbakeError).reply!);
    };
    const late = await w.party(A, { now: () => Date.now() + 300_000 });
    await grab(bob.receive((await late.initiate({ to: B })).message)); // Invalid TS
    const m = decodeMessage((await alice.initiate({ to: B })).message);
    const ib = m.payloads.find((p) => p.kind === 'IBAKE') as { encrData: Uint8Array };
    ib.encrData = ib.encrData.slice();
    ib.encrData[50] ^= 1;
    await grab(bob.receive(encodeMessage(m))); // Auth failure
    const x = decodeMessage((await alice.initiate({ to: 'sip:carol@example.org' })).message);
    await grab(bob.receive(encodeMessage(x))); // Invalid ID
    const msgs = [u1, ur, uc, v1, vr, vc, ...errs];
    const v = tsharkJudge(msgs);
    expect(v.messages.map((q) => q.data_type.value)).toEqual([22, 23, 24, 22, 23, 24, 6, 6, 6]);
    for (const q of v.messages) expect(q.problems).toEqual([]);
    expect(v.messages.slice(6).every((q) => q.unknown_payload_types.length === 0 && q.payloads.some((p) => p.name === 'ERR'))).toBe(true);
    expect(v.ok).toBe(true);
  });
});
