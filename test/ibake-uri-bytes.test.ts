// The identity URIs' octets shared by the encoders (src/ibake/wire.ts uriBytes): equal to
// TextEncoder's, one array per URI while cached, the cache emptied at its bound (so a stream of
// new URIs cannot grow it), and IDR payloads built from it encode the same octets as before.
import { describe, expect, it } from 'vitest';
import { idr, uriBytes } from '../src/ibake/wire.js';
import { encodeInnerChain } from '../src/mikey/index.js';

describe('uriBytes', () => {
  it('gives the UTF-8 octets, the same array for a URI while cached', () => {
    for (const u of ['sip:alice@example.org', 'sip:ünïcode@example.org', 'tel:+15551234567']) {
      expect(Buffer.from(uriBytes(u)).equals(Buffer.from(new TextEncoder().encode(u)))).toBe(true);
      expect(uriBytes(u)).toBe(uriBytes(u));
    }
  });

  it('stays bounded: after 5 000 distinct URIs an early one is a new array with the same octets', () => {
    const first = uriBytes('sip:first@example.org');
    for (let i = 0; i < 5000; i++) uriBytes(`sip:u${i}@example.org`);
    const again = uriBytes('sip:first@example.org');
    expect(again).not.toBe(first);
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
  });

  it('an IDR built from it encodes exactly the URI', () => {
    const u = 'sip:bob@example.org';
    const enc = encodeInnerChain([idr(1, u)]);
    expect(Buffer.from(enc.subarray(enc.length - u.length)).toString('utf8')).toBe(u);
  });
});
