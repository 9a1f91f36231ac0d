#!/usr/bin/env node
// Attacker-style fuzzing of a real ibaked over its IPC socket (docs/daemon.md §1-§2), as the
// fuzz review did: starts the built daemon (dist/, `npm run build` first) in development mode
// with a temporary --var-dir and --socket at log level trace, registers alice and bob, and runs
// seeded bursts:
//   frames  random / truncated / oversized / non-map / hand-made nasty msgpack frames
//   params  every method × every param × wrong types, huge strings, extra fields; odd ids, methods
//   mikey   genuine I_MESSAGE_1 … R_MESSAGE_2 of fresh calls, mutated (bit flips, truncation,
//           extension, splices), as `message` and in the `sdp` form, also to the wrong identity
//           and to `decode`; then the genuine message
//   conns   250 half-written frames, connections over the per-uid cap, 2 000 pipelined
//           requests, non-reading clients, abrupt closes
//   burst   the same state-changing requests at once over several connections: 60 identities
//           added 3 times each, 40 prekeys.generate of one identity (every one must succeed)
//   races   exchange.close racing the receive of I_MESSAGE_2 (must be IBAKE_NO_SESSION or
//           agreeing keys, never an auth failure), both ends re-keying at once (same keys at the end)
// After each burst: the daemon is alive, answers ping and a complete alice→bob call, its RSS is
// reported; at the end its log is searched for every SRTP key and salt handed out (hex and
// base64) and for error-level records. Any crash, hang, INTERNAL or untyped error, or canary hit
// is printed with `FINDING` and makes the exit status 1.
//   node scripts/fuzz-daemon.mjs [--workers N] [--seed S] [--mikey N] [--phases frames,params,mikey,conns,burst,races]
// It takes 1-2 minutes and about one core; not part of `npm test` (run it after changing
// src/daemon/, the framing, the MIKEY decoder or the SDP reader).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
if (!existsSync(join(root, 'dist', 'daemon', 'main.js'))) {
  console.error('fuzz-daemon: dist/ is missing: run npm run build first');
  process.exit(2);
}
const { encodeFrame, encodeMsgpack, FrameDecoder } = await import(dist('daemon/frame.js'));
const { IbakedClient } = await import(dist('client/ipc.js'));

const { values: opt } = parseArgs({ options: { workers: { type: 'string', default: '0' }, seed: { type: 'string', default: '1' }, mikey: { type: 'string', default: '200' }, phases: { type: 'string', default: 'frames,params,mikey,conns,burst,races' } } });
const phases = new Set(opt.phases.split(','));
const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
const TYPED = /^(BAD_PARAMS|BAD_REQUEST|UNKNOWN_METHOD|OVERLOADED|IDENTITY_[A-Z]+|IBAKE_[A-Z_]+|MIKEY_[A-Z_]+|SDP_[A-Z_]+|KMS_[A-Z_]+|FRAME_[A-Z_]+|NO_PEERCRED|REPLY_TOO_LARGE)$/;
let findings = 0;
const finding = (...a) => {
  findings++;
  console.log('FINDING', ...a);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** xorshift32: the same seed gives the same inputs. */
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
const rnd = rng(Number(opt.seed) * 7919 + Number(opt.workers));
const ri = (n) => (rnd() * n) | 0;
const rbytes = (n) => Buffer.from(Array.from({ length: n }, () => ri(256)));
const lenFrame = (body) => Buffer.concat([Buffer.from([body.length >>> 24, (body.length >>> 16) & 255, (body.length >>> 8) & 255, body.length & 255]), Buffer.from(body)]);

// ---- the daemon ----
const dir = mkdtempSync(join(tmpdir(), 'ibaked-fuzz-'));
const sock = join(dir, 'ibaked.sock');
const flags = readFileSync(join(root, 'bin', 'ibaked.js'), 'utf8').split('\n', 1)[0].replace(/^#!\S*env -S node/, '').trim().split(/\s+/).filter(Boolean);
const child = spawn(process.execPath, [...flags, join(root, 'bin', 'ibaked.js'), '--socket', sock, '--var-dir', join(dir, 'var'), '--workers', opt.workers, '--skip-selftest', '--log-level', 'trace'], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
child.stderr.on('data', (c) => (log += c));
let exited = null;
child.on('exit', (code, sig) => (exited = code ?? sig));
const rss = () => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return NaN;
  }
};
let alice;
let bob;
for (let i = 0; i < 300 && !alice; i++) {
  if (exited !== null) break;
  try {
    alice = await IbakedClient.connect(sock, { timeoutMs: 20_000 });
    bob = await IbakedClient.connect(sock, { timeoutMs: 20_000 });
  } catch {
    await sleep(100);
  }
}
if (!alice) {
  console.error(`fuzz-daemon: ibaked did not start:\n${log.slice(-2000)}`);
  child.kill('SIGKILL');
  process.exit(2);
}
await alice.request('identity.add', { uri: ALICE });
await bob.request('identity.add', { uri: BOB });
const keys = [];

/** One complete call, closed on both sides; its messages. */
async function call() {
  const init = await alice.request('exchange.initiate', { from: ALICE, to: BOB });
  const msgs = [init.message];
  let msg = init.message;
  let toBob = true;
  let done = false;
  while (msg) {
    const r = await (toBob ? bob : alice).request('exchange.receive', { identity: toBob ? BOB : ALICE, message: msg });
    if (r.established) {
      keys.push(...r.established.keys);
      if (!toBob) done = true;
    }
    msg = r.reply;
    if (msg) msgs.push(msg);
    toBob = !toBob;
  }
  if (!done) throw new Error('the call did not establish');
  await alice.request('exchange.close', { identity: ALICE, csbId: init.csbId });
  await bob.request('exchange.close', { identity: BOB, csbId: init.csbId });
  return { msgs, csbId: init.csbId };
}

async function health(tag) {
  if (exited !== null) {
    finding(`[${tag}] the daemon died (${exited}):\n${log.slice(-3000)}`);
    process.exit(1);
  }
  try {
    const c = await IbakedClient.connect(sock, { timeoutMs: 20_000 });
    await c.request('ping');
    c.close();
    await call();
  } catch (e) {
    finding(`[${tag}] no complete call after the burst: ${e.code ?? ''} ${e.message}`);
  }
  console.log(`[${tag}] alive, rss ${rss().toFixed(1)} MiB, ${log.split('\n').length} log lines`);
}

/** Raw bytes on a new connection; the frames received until the server closes (or ms). */
function raw(bufs, ms = 1000, halfClose = true) {
  return new Promise((resolve) => {
    const s = connect(sock);
    const dec = new FrameDecoder();
    const frames = [];
    const t = setTimeout(() => s.destroy(), ms);
    s.on('data', (c) => {
      try {
        frames.push(...dec.push(c));
      } catch (e) {
        finding('the daemon sent an undecodable frame', e.message);
      }
    });
    s.on('close', () => {
      clearTimeout(t);
      resolve(frames);
    });
    s.on('error', () => {});
    s.on('connect', () => {
      for (const b of bufs) s.write(b);
      if (halfClose) s.end();
    });
  });
}
const codeOf = (f) => (f.ok ? 'ok' : f.error?.code);
const checkCode = (where, code, detail = '') => {
  if (code !== 'ok' && !TYPED.test(String(code))) finding(where, code, detail);
};

const genuine = await call();
await health('start');

// ---- frames ----
if (phases.has('frames')) {
  const seen = {};
  for (let i = 0; i < 300; i++) {
    let bufs;
    switch (i % 6) {
      case 0: bufs = [rbytes(1 + ri(64))]; break;
      case 1: bufs = [lenFrame(rbytes(1 + ri(200)))]; break;
      case 2: { const b = encodeFrame({ id: i, method: 'ping', params: {} }); bufs = [b.subarray(0, ri(b.length))]; break; }
      case 3: { const b = Buffer.alloc(4); b.writeUInt32BE(65537 + ri(1e9)); bufs = [b]; break; }
      case 4: { const m = Buffer.from(encodeMsgpack({ id: i, method: 'ping' })); m[ri(m.length)] ^= 1 << ri(8); bufs = [lenFrame(m)]; break; }
      default: bufs = [lenFrame(encodeMsgpack([1, 2, { a: 1 }]))];
    }
    for (const f of await raw(bufs, 300)) {
      seen[codeOf(f)] = (seen[codeOf(f)] ?? 0) + 1;
      checkCode('frames', codeOf(f));
    }
  }
  const str = (s) => Buffer.concat([Buffer.from([0xa0 | s.length]), Buffer.from(s)]);
  const nasty = [
    Buffer.concat([Buffer.alloc(40, 0x91), Buffer.from([0xc0])]), // 40 nested arrays
    Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // array header of 2^32-1
    Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x41]),
    Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff, 0x41]),
    Buffer.from([0xd4, 0x01, 0x00]), // ext
    Buffer.from([0xd6, 0xff, 0, 0, 0, 0]), // timestamp
    Buffer.from([0x81, 0xc4, 0x02, 0x69, 0x64, 0x01]), // bin key
    Buffer.concat([Buffer.from([0x83]), str('id'), Buffer.from([7]), str('method'), str('ping'), str('params'), Buffer.from([0x81]), str('__proto__'), Buffer.from([0x81]), str('x'), Buffer.from([1])]),
    Buffer.concat([Buffer.from([0x82]), str('id'), Buffer.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), str('method'), str('ping')]), // u64 id
    Buffer.concat([Buffer.from([0x82]), str('id'), Buffer.from([0xca, 0x7f, 0xc0, 0, 0]), str('method'), str('ping')]), // NaN id
    Buffer.concat([Buffer.from(encodeMsgpack({ id: 9, method: 'ping' })), Buffer.from([0xc0])]), // trailing octet
  ];
  for (const body of nasty) for (const f of await raw([lenFrame(body)], 1000)) checkCode('nasty frame', codeOf(f), body.toString('hex').slice(0, 60));
  console.log('frames: replies', seen);
  await health('frames');
}

// ---- params ----
if (phases.has('params')) {
  const methods = { ping: [], info: [], selftest: [], decode: ['message'], 'identity.add': ['uri', 'psk', 'mailbox', 'uids'], 'identity.list': [], 'exchange.initiate': ['from', 'to', 'ssrcs'], 'exchange.receive': ['identity', 'message', 'sdp'], 'exchange.rekey': ['identity', 'csbId', 'peer'], 'exchange.close': ['identity', 'csbId', 'peer'], 'prekeys.generate': ['identity', 'count', 'expiry'], 'prekeys.status': ['identity'], 'mailbox.prekeys.add': ['bundle'], 'mailbox.prekeys.status': ['identity'], 'deferred.open': ['identity', 'message'], metrics: [] };
  const good = { uri: 'sip:carol@example.org', psk: '00112233445566778899aabbccddeeff', from: ALICE, to: BOB, ssrcs: [1, 0], identity: ALICE, message: genuine.msgs[0], sdp: `a=key-mgmt:mikey ${Buffer.from(genuine.msgs[0]).toString('base64')}`, csbId: genuine.csbId, peer: BOB, count: 1, expiry: Math.floor(Date.now() / 1000) + 3600, bundle: new Uint8Array([1, 2, 3]) };
  const bads = [null, true, 0, -1, 1.5, NaN, Infinity, 2 ** 53, -(2 ** 63), 4294967296, '', 'x'.repeat(60_000), `sip:${'a'.repeat(2000)}`, 'a:\u0000', 'sip:a b', 'sip:a\u001b[2J', new Uint8Array(0), new Uint8Array(60_001), [], ['a'], Array(300).fill(1), {}, { a: { b: { c: 1 } } }, [0.5], [-1], [4294967296], 'sip:nobody@example.org', 'zz'.repeat(16)];
  const c = await IbakedClient.connect(sock, { timeoutMs: 30_000 });
  const codes = {};
  for (const [m, ps] of Object.entries(methods)) {
    const variants = [{ extra: 1 }, { ['x'.repeat(1000)]: 1 }];
    for (const p of ps) {
      for (const b of bads) {
        const v = {};
        for (const q of ps) if (q !== p && q !== 'sdp' && q !== 'uids' && q !== 'mailbox' && good[q] !== undefined) v[q] = good[q];
        if (m === 'exchange.receive' && p === 'sdp') delete v.message;
        v[p] = b;
        variants.push(v);
      }
    }
    for (const v of variants) {
      let code = 'ok';
      try {
        await c.request(m, v);
      } catch (e) {
        code = e.code;
      }
      codes[code] = (codes[code] ?? 0) + 1;
      if (code !== 'FRAME_TOO_LARGE') checkCode(`params ${m}`, code, JSON.stringify(v, (k, x) => (typeof x === 'string' && x.length > 60 ? `${x.slice(0, 60)}…` : x instanceof Uint8Array ? `bin(${x.length})` : x)).slice(0, 200));
    }
  }
  c.close();
  for (const id of [null, 2 ** 53, 'x'.repeat(257), {}, new Uint8Array(3), true]) for (const f of await raw([encodeFrame({ id, method: 'ping' })], 500)) if (f.ok || f.error?.code !== 'BAD_REQUEST') finding('bad id accepted', JSON.stringify(f));
  for (const method of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'x'.repeat(65)]) for (const f of await raw([encodeFrame({ id: 1, method })], 500)) if (f.error?.code !== 'UNKNOWN_METHOD') finding('odd method', method.slice(0, 20), JSON.stringify(f));
  console.log('params: replies', codes);
  await health('params');
}

// ---- mikey ----
if (phases.has('mikey')) {
  const mutate = (m) => {
    // eslint-disable-next-line no-use-before-define
    let b = Buffer.from(m);
    switch (ri(7)) {
      case 0: b[ri(b.length)] ^= 1 << ri(8); break;
      case 1: b[ri(b.length)] = ri(256); break;
      case 2: b = b.subarray(0, ri(b.length)); break;
      case 3: b = Buffer.concat([b, rbytes(1 + ri(300))]); break;
      case 4: { const i = ri(b.length); b = Buffer.concat([b.subarray(0, i), b.subarray(i, i + ri(100)), b.subarray(i)]); break; }
      case 5: { const i = ri(b.length); b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + ri(40))]); break; }
      default: for (let j = 0; j < 1 + ri(8); j++) b[ri(b.length)] = [0, 0xff, 0x7f, 0x80, 1][ri(5)];
    }
    const out = new Uint8Array(b.length ? b : Buffer.from([ri(256)]));
    return Buffer.from(out).equals(Buffer.from(m)) ? mutate(m) : out; // never the genuine octets
  };
  const other = await IbakedClient.connect(sock, { timeoutMs: 30_000 });
  const codes = {};
  const note = (k) => (codes[k] = (codes[k] ?? 0) + 1);
  const n = Number(opt.mikey);
  for (let i = 0; i < n; i++) {
    const step = i % 4; // the message mutated: I_MESSAGE_1, R_MESSAGE_1, I_MESSAGE_2, R_MESSAGE_2
    const init = await alice.request('exchange.initiate', { from: ALICE, to: BOB });
    let msg = init.message;
    let toBob = true;
    for (let s = 0; s < step; s++) {
      const r = await (toBob ? bob : alice).request('exchange.receive', { identity: toBob ? BOB : ALICE, message: msg });
      if (r.established) keys.push(...r.established.keys);
      msg = r.reply;
      toBob = !toBob;
    }
    const bad = mutate(msg);
    const me = toBob ? BOB : ALICE;
    const params = ri(3) === 0 ? { identity: me, sdp: `${ri(2) ? 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n' : ''}a=key-mgmt:mikey ${Buffer.from(bad).toString('base64')}\r\n` } : { identity: me, message: bad };
    for (const [label, client, method, p] of [[`step ${step}`, toBob ? bob : alice, 'exchange.receive', params], ['decode', other, 'decode', { message: bad }], ['wrong identity', other, 'exchange.receive', { identity: toBob ? ALICE : BOB, message: bad }], ['genuine after', toBob ? bob : alice, 'exchange.receive', { identity: me, message: msg }]]) {
      try {
        const r = await client.request(method, p);
        if (r?.established) keys.push(...r.established.keys);
        note(`${label}:ok`);
        // R_MESSAGE_1 onwards are authenticated: a changed one accepted is worth a look
        if (label !== 'decode' && label !== 'genuine after' && step > 0) console.log(`note: a mutated message of step ${step} was accepted (${label}):\n  genuine ${Buffer.from(msg).toString('hex')}\n  mutated ${Buffer.from(bad).toString('hex')}`);
      } catch (e) {
        note(`${label}:${e.code}`);
        checkCode(`mikey ${label}`, e.code, Buffer.from(bad).toString('hex'));
      }
    }
    await alice.request('exchange.close', { identity: ALICE, csbId: init.csbId });
    await bob.request('exchange.close', { identity: BOB, csbId: init.csbId });
    if (i % 100 === 99) await health(`mikey ${i + 1}`);
  }
  other.close();
  console.log('mikey: outcomes', codes);
  await health('mikey');
}

// ---- connections ----
if (phases.has('conns')) {
  const open = () => new Promise((res) => {
    const s = connect(sock);
    s.on('error', () => {});
    s.on('connect', () => res(s));
    s.on('close', () => res(s));
  });
  const half = [];
  for (let i = 0; i < 250; i++) {
    const s = await open();
    s.write(encodeFrame({ id: i, method: 'ping' }).subarray(0, 3 + (i % 8)));
    half.push(s);
  }
  await health('250 half-written frames');
  const extra = [];
  for (let i = 0; i < 20; i++) extra.push(await open());
  await sleep(300);
  for (const s of [...half, ...extra]) s.destroy();
  await sleep(300);
  const bufs = [];
  for (let i = 0; i < 2000; i++) bufs.push(encodeFrame({ id: i, method: i % 10 === 0 ? 'exchange.initiate' : 'ping', params: i % 10 === 0 ? { from: ALICE, to: BOB } : {} }));
  const frames = await raw([Buffer.concat(bufs)], 15_000);
  if (frames.length !== 2000) finding(`2000 pipelined requests got ${frames.length} replies`);
  for (const f of frames) checkCode('pipelined', codeOf(f));
  await health('pipelined');
  const readers = [];
  const chunk = Buffer.concat(Array.from({ length: 200 }, () => encodeFrame({ id: 1, method: 'identity.list' })));
  for (let k = 0; k < 8; k++) {
    const s = await open();
    s.pause();
    readers.push(s);
  }
  const t0 = Date.now();
  while (Date.now() - t0 < 5000) {
    for (const s of readers) if (!s.writableNeedDrain) s.write(chunk);
    await sleep(10);
  }
  await health('8 clients that never read');
  for (const s of readers) s.destroy();
  for (let i = 0; i < 100; i++) {
    const s = await open();
    s.write(Buffer.concat([encodeFrame({ id: 1, method: 'exchange.initiate', params: { from: ALICE, to: BOB } }), encodeFrame({ id: 2, method: 'metrics' })]));
    s.destroy();
  }
  await sleep(500);
  await health('abrupt closes');
}

// ---- bursts of state-changing requests ----
if (phases.has('burst')) {
  const cs = await Promise.all(Array.from({ length: 6 }, () => IbakedClient.connect(sock, { timeoutMs: 60_000 })));
  const outcome = async (label, ps) => {
    const rs = await Promise.allSettled(ps);
    const bad = rs.filter((r) => r.status === 'rejected').map((r) => `${r.reason.code}: ${r.reason.message}`);
    if (bad.length > 0) finding(`${label}: ${bad.length} of ${rs.length} failed, e.g. ${bad[0]}`);
    return rs.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  };
  const uris = Array.from({ length: 60 }, (_, i) => `sip:burst${i}@example.org`);
  await outcome('60 identities added 3 times each at once', uris.flatMap((uri, i) => [0, 1, 2].map((k) => cs[(i + k) % 6].request('identity.add', { uri }))));
  const listed = (await cs[0].request('identity.list')).identities.map((x) => x.uri);
  const missing = uris.filter((u) => !listed.includes(u));
  if (missing.length > 0) finding(`${missing.length} identities of the burst are not registered`);
  const gens = await outcome('40 prekeys.generate of one identity at once', Array.from({ length: 40 }, (_, i) => cs[i % 6].request('prekeys.generate', { identity: uris[0], count: 2 })));
  const ids = gens.flatMap((g) => g.ids);
  if (new Set(ids).size !== ids.length) finding('prekeys.generate handed out an id twice');
  for (const c of cs) c.close();
  await health('burst');
}

// ---- races between the two ends and the app's own requests ----
if (phases.has('races')) {
  const [a2, b2] = await Promise.all([IbakedClient.connect(sock, { timeoutMs: 30_000 }), IbakedClient.connect(sock, { timeoutMs: 30_000 })]);
  const hexKeys = (ks) => ks.map((k) => Buffer.from(k.masterKey).toString('hex')).join();
  const pump = async (msg, toBob, last) => {
    while (msg) {
      let r;
      try {
        r = await (toBob ? bob : alice).request('exchange.receive', { identity: toBob ? BOB : ALICE, message: msg });
      } catch (e) {
        if (e.code !== 'IBAKE_STATE') finding(`re-key glare: ${e.code} ${e.message}`);
        return;
      }
      if (r.established) last[toBob ? 'bob' : 'alice'] = hexKeys(r.established.keys);
      msg = r.reply;
      toBob = !toBob;
    }
  };
  for (let i = 0; i < 20; i++) {
    const init = await alice.request('exchange.initiate', { from: ALICE, to: BOB });
    const r1 = await bob.request('exchange.receive', { identity: BOB, message: init.message });
    const i2 = await alice.request('exchange.receive', { identity: ALICE, message: r1.reply });
    const [r] = await Promise.allSettled([bob.request('exchange.receive', { identity: BOB, message: i2.reply }), b2.request('exchange.close', { identity: BOB, csbId: init.csbId })]);
    if (r.status === 'rejected' && r.reason.code !== 'IBAKE_NO_SESSION') finding(`close racing I_MESSAGE_2: ${r.reason.code} (want IBAKE_NO_SESSION)`);
    await alice.request('exchange.close', { identity: ALICE, csbId: init.csbId });
    await bob.request('exchange.close', { identity: BOB, csbId: init.csbId });
  }
  for (let i = 0; i < 20; i++) {
    const init = await alice.request('exchange.initiate', { from: ALICE, to: BOB });
    let msg = init.message;
    let toBob = true;
    while (msg) {
      msg = (await (toBob ? bob : alice).request('exchange.receive', { identity: toBob ? BOB : ALICE, message: msg })).reply;
      toBob = !toBob;
    }
    const [ua, ub] = await Promise.all([a2.request('exchange.rekey', { identity: ALICE, csbId: init.csbId, peer: BOB }), b2.request('exchange.rekey', { identity: BOB, csbId: init.csbId, peer: ALICE })]);
    const last = {};
    await Promise.all([pump(ua.message, true, last), pump(ub.message, false, last)]);
    if (last.alice !== last.bob) finding('re-key glare: the two ends were last handed different keys');
    await alice.request('exchange.close', { identity: ALICE, csbId: init.csbId });
    await bob.request('exchange.close', { identity: BOB, csbId: init.csbId });
  }
  a2.close();
  b2.close();
  await health('races');
}

// ---- the log ----
let hits = 0;
for (const k of keys) {
  for (const f of ['masterKey', 'masterSalt', 'keySalt']) {
    const b = Buffer.from(k[f]);
    for (const enc of [b.toString('hex'), b.toString('base64')]) if (enc.length >= 16 && log.includes(enc)) hits++;
  }
}
if (hits > 0) finding(`${hits} SRTP key/salt values appear in the log`);
const errors = log.split('\n').filter((l) => /"level":"(error|fatal)"|"code":"INTERNAL"/.test(l));
for (const l of errors.slice(0, 5)) finding('error record in the log:', l.slice(0, 300));
console.log(`log: ${keys.length} key entries checked against ${log.length} octets of log, ${hits} hits, ${errors.length} error records`);

alice.close();
bob.close();
child.kill('SIGTERM');
for (let i = 0; i < 100 && exited === null; i++) await sleep(100);
if (exited === null) child.kill('SIGKILL');
rmSync(dir, { recursive: true, force: true });
console.log(findings === 0 ? 'fuzz-daemon: no findings' : `fuzz-daemon: ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
