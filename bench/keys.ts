// Benchmarks (tinybench, medians) for the per-call symmetric key work: MIKEY PRF derivations from
// K_SESSION, one SRTP crypto session's master key/salt, the RFC 3711 session keys, and one V MAC.
// Run: npm run bench:keys (prints its table; writes no file)
import { randomBytes } from 'node:crypto';
import { Bench } from 'tinybench';
import { deriveSessionKeys, deriveSrtpMasterKeys } from '../src/mikey/keys.js';
import { computeVMac, MacAlg } from '../src/mikey/mac.js';
import { deriveSrtpSessionKeys, deriveSrtcpSessionKeys } from '../src/srtp/kdf.js';
import { benchArgs, taskMedian } from './lib/cli.js';

benchArgs({
  name: 'keys',
  command: 'npm run bench:keys --',
  summary: 'Per-call symmetric key work: MIKEY PRF derivations from K_SESSION, one SRTP master key/salt, the RFC 3711 session keys, one V MAC.',
  flags: [],
});

const kSession = new Uint8Array([4, ...randomBytes(64)]);
const rand = randomBytes(16);
const csb = 0x01020304;
const { tgk, authKey } = deriveSessionKeys(0, kSession, csb, rand);
const mk = randomBytes(16);
const ms = randomBytes(14);
const msg = randomBytes(300);

const bench = new Bench({ time: 500 });
bench
  .add('MPK+TGK+auth_key from K_SESSION (MIKEY-1)', () => void deriveSessionKeys(0, kSession, csb, rand))
  .add('TEK+salt for one CS (MIKEY-1)', () => void deriveSrtpMasterKeys(0, tgk, 1, csb, rand))
  .add('SRTP+SRTCP session keys (AES-CM PRF)', () => {
    deriveSrtpSessionKeys(mk, ms);
    deriveSrtcpSessionKeys(mk, ms);
  })
  .add('V MAC HMAC-SHA-1 over 300 octets', () =>
    void computeVMac(MacAlg.HMAC_SHA1_160, authKey, { message: msg, macOffset: 280, identities: [msg.subarray(0, 20), msg.subarray(20, 40)] }),
  );
await bench.run();
for (const t of bench.tasks) {
  console.log(`${t.name}: median ${(taskMedian(t).medianMs * 1000).toFixed(1)} µs`);
}
