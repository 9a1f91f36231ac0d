// `ibake call`: a complete MIKEY-IBAKE call on one machine, as an operator's smoke test and a
// demonstration of each scenario. Starts a KMS on a loopback HTTP port with a fresh master key,
// provisions every party through it (REQUEST_KEY_PSK / REQUEST_KEY_RESP, key checked with the
// pairing), runs the scenario's messages between in-process endpoints, and checks that the
// sides agree on the SRTP keys. --reveal-secrets prints K_SESSION (and its inputs)/MPK/TGK: for debugging only.
import { createHash, randomBytes } from 'node:crypto';
import { selectEngine, ENGINE_NAMES } from '../engine/select.js';
import type { EngineName } from '../engine/types.js';
import { setup, validateUri } from '../ibe/index.js';
import { buildParams } from '../ibe/params.js';
import { startKmsServer } from '../kms/server.js';
import { requestPrivateKey } from '../kms/client.js';
import { runScenario, SCENARIOS, derivedUri, type ScenarioName, type ScenarioResult } from '../ibake/scenario.js';
import type { CryptoSessionKeys } from '../ibake/output.js';
import { stackKeys } from '../srtp/stack.js';
import { parseFlags, UsageError, type Command } from './command.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ms = (v: number) => Math.round(v * 1000) / 1000;

/** Key entries with their SRTP-stack forms (docs/keys.md §8); octet strings in hex. */
function keysJson(k: CryptoSessionKeys[]) {
  return k.map((c) => {
    const st = stackKeys(c);
    return {
      csId: c.csId, ssrc: st.ssrc, roc: st.roc, profile: c.profile, masterKey: hex(c.masterKey), masterSalt: hex(c.masterSalt), keySource: c.keySource,
      keySalt: hex(st.keySalt), inline: st.inline, sender: st.sender, libsrtp: st.libsrtp, gst: { ...st.gst, 'srtp-key': hex(st.keySalt) },
    };
  });
}

export function resultJson(engine: string, r: ScenarioResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    engine,
    scenario: r.scenario,
    ok: r.ok,
    ...(r.problems.length ? { problems: r.problems } : {}),
    messages: r.messages.map((m) => ({ name: m.name, from: m.from, to: m.to, base64: Buffer.from(m.bytes).toString('base64') })),
    initiator: {
      identity: r.initiator.identity,
      keys: keysJson(r.initiator.keys),
      ...(r.initiator.forks ? { forks: r.initiator.forks.map((f) => ({ identity: f.identity, keys: keysJson(f.keys) })) } : {}),
    },
    responder: {
      identity: r.responder.identity,
      ...(r.responder.answeredBy ? { answeredBy: r.responder.answeredBy } : {}),
      keys: keysJson(r.responder.keys),
      ...(r.responder.devices ? { devices: r.responder.devices.map((f) => ({ identity: f.identity, keys: keysJson(f.keys) })) } : {}),
      ...(r.responder.mailbox ? { mailbox: { identity: r.responder.mailbox.identity, stored: r.responder.mailbox.stored, keys: keysJson(r.responder.mailbox.keys) } } : {}),
    },
    ...(r.deferred ? { deferred: r.deferred, escrowed: r.escrowed === true } : {}),
    timingsMs: Object.fromEntries(Object.entries(r.timingsMs).map(([k, v]) => [k, ms(v)])),
  };
  if (r.secrets) {
    const s = r.secrets;
    const one = (x: (typeof s)[number]) => ({
      kSession: hex(x.kSession),
      // the K_SESSION inputs (profile v2, docs/profile.md §5): recompute it with any SHA-256
      point: hex(x.point),
      nc: hex(x.nc),
      idi: hex(new TextEncoder().encode(x.idi)),
      idr: hex(new TextEncoder().encode(x.idr)),
      rand: hex(x.rand),
      csbId: x.csbId.toString(16).padStart(8, '0'),
      mpk: hex(x.mpk),
      tgk: hex(x.tgk),
    });
    if (s[0]) out.secrets = one(s[0]);
    // forking: one exchange per device
    if (s.length > 1) out.allSecrets = s.map((x) => ({ peer: x.peer, ...one(x) }));
  }
  return out;
}

/** A fingerprint (SHA-256 prefix) so humans can compare keys without seeing them. */
const fp = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex').slice(0, 12);

function human(engine: string, r: ScenarioResult, reveal: boolean): string {
  const L: string[] = [];
  L.push(`ibake call: scenario ${r.scenario} on engine ${engine}: ${r.ok ? 'OK — both sides agree' : 'FAILED'}`);
  if (r.deferred?.version === 2) L.push(`deferred delivery v2: signed prekey ${r.deferred.prekeyId}, not escrowed (the KMS cannot read it); prekey secret ${r.deferred.prekeyDeleted ? 'deleted' : 'STILL STORED'} after opening`);
  if (r.deferred?.version === 1) L.push('deferred delivery v1: ESCROWED — the KMS can read this content (allowed by --allow-escrowed)');
  for (const p of r.problems) L.push(`  problem: ${p}`);
  L.push('messages:');
  for (const m of r.messages) L.push(`  ${m.name.padEnd(12)} ${m.from} -> ${m.to}  (${m.bytes.length} octets)`);
  const show = (who: string, id: string, k: CryptoSessionKeys[]) => {
    L.push(`${who} ${id}:`);
    if (k.length === 0) L.push('  (no media keys)');
    for (const c of k) {
      const key = reveal ? `${hex(c.masterKey)} salt ${hex(c.masterSalt)}` : `key ${fp(c.masterKey)} salt ${fp(c.masterSalt)}`;
      L.push(`  cs ${c.csId} ssrc 0x${c.ssrc.toString(16).padStart(8, '0')} ${c.profile} [${c.keySource}] ${key}`);
    }
  };
  if (r.initiator.forks) for (const f of r.initiator.forks) show('initiator with', f.identity, f.keys);
  else show('initiator', r.initiator.identity, r.initiator.keys);
  if (r.responder.devices) for (const d of r.responder.devices) show('device', d.identity, d.keys);
  else if (r.responder.mailbox) {
    show('mailbox (its view)', r.responder.mailbox.identity, r.responder.mailbox.keys);
    show('user after opening the stored message', r.responder.identity, r.responder.keys);
  } else show(r.responder.answeredBy ? `responder (answered for ${r.responder.identity})` : 'responder', r.responder.answeredBy ?? r.responder.identity, r.responder.keys);
  L.push('timings (ms): ' + Object.entries(r.timingsMs).map(([k, v]) => `${k} ${ms(v)}`).join(', '));
  if (r.secrets) for (const s of r.secrets) L.push(`SECRETS (dangerous) with ${s.peer}: kSession ${hex(s.kSession)} = SHA-256("MIKEY-IBAKE-V02 K_SESSION" ‖ point ${hex(s.point)} ‖ len16 ‖ ${s.idi} ‖ len16 ‖ ${s.idr} ‖ N_c ${hex(s.nc)}) mpk ${hex(s.mpk)} tgk ${hex(s.tgk)} rand ${hex(s.rand)}`);
  return L.join('\n') + '\n';
}

const isIdentityUri = (u: string): boolean => {
  try {
    validateUri(u);
    return true;
  } catch {
    return false;
  }
};

export const command: Command = {
  name: 'call',
  summary: 'run a complete MIKEY-IBAKE call (with a loopback KMS) and check both sides agree',
  usage: `usage: ibake call --from URI --to URI [--scenario basic|forking|retarget|deferred|preencoded]
                  [--engine native|wasm|ts] [--json] [--reveal-secrets]
                  [--no-prekeys] [--allow-escrowed]
       ibake call --via SOCKET --from URI --to URI [--json]

Starts a KMS on 127.0.0.1 (ephemeral port, fresh master key), provisions every party through it
with REQUEST_KEY_PSK, runs the scenario's MIKEY-IBAKE messages in process and checks that the
parties derive the same SRTP master keys and salts.

Scenarios (helper identities are derived from --to, e.g. sip:bob-dev1@host):
  basic       I_MESSAGE_1 -> R_MESSAGE_1 -> I_MESSAGE_2 -> R_MESSAGE_2 between --from and --to
  forking     --to is the common identity; devices <to>-dev1 and <to>-dev2 both answer; the
              caller completes with each separately (keys listed per device)
  retarget    a proxy silently retargets to <to>-retarget, which cannot decrypt and answers with
              its own identity; the caller's policy allows it (answeredBy names it)
  deferred    v2: the user (--to) signs one-time prekeys, its mailbox <to>-voicemail hands one to
              the caller in R_MESSAGE_1 and stores I_MESSAGE_2 without learning keys; the user
              later opens it with its key and the prekey's private half, which is then deleted.
              Neither the mailbox nor the KMS can read the content (JSON: "deferred":{"version":2,
              "prekeyId","prekeyDeleted"}, "escrowed":false)
  --no-prekeys      deferred: the mailbox has no prekey; the caller refuses (exit 1) unless
  --allow-escrowed  lets it fall back to the escrowed v1 flow (ESK = IBE(user, IDRi ‖ SK): the KMS
                    can read the content; JSON "deferred":{"version":1}, "escrowed":true)
  preencoded  the responder returns its pre-encoded content keys in R_MESSAGE_2's KEMAC

  --via SOCKET      run the basic call's messages through a running ibaked instead, between two
                    identities registered in it (identity.add or its configuration); prints the
                    same result (engine = the daemon's); a step with no answer within
                    30 s fails (IPC_TIMEOUT, exit status 1)
  --engine NAME     pairing engine (default: native, else wasm, else ts; IBAKED_ENGINE overrides)
  --json            {"engine","scenario","ok","messages":[{"name","from","to","base64"}],
                     "initiator":{"identity","keys":[{"csId","ssrc","roc","profile","masterKey",
                     "masterSalt","keySource","keySalt","inline","sender","libsrtp":{"profile",
                     "rtp","rtcp"},"gst":{"srtp-key","srtp-cipher","srtp-auth","srtcp-cipher",
                     "srtcp-auth","roc","ssrc"}}]},"responder":{…},"timingsMs":{"total",…}}
                    (master keys are printed in JSON: it is a test tool with throw-away keys)
  --reveal-secrets  DANGEROUS: also print "secrets":{"kSession","point","nc","idi","idr","rand",
                    "csbId","mpk","tgk"} (hex; point, nc and the identities' UTF-8 octets idi/idr
                    are the inputs of K_SESSION, docs/profile.md §5;
                    forking adds "allSecrets", one per device). For debugging only; never use
                    with real identities or keys.
Exit status: 0 the parties agree, 1 they do not or a step failed, 2 usage.
`,
  async run(argv, io) {
    const { values } = parseFlags(argv, {
      from: { type: 'string' },
      to: { type: 'string' },
      scenario: { type: 'string' },
      engine: { type: 'string' },
      json: { type: 'boolean' },
      'reveal-secrets': { type: 'boolean' },
      'no-prekeys': { type: 'boolean' },
      'allow-escrowed': { type: 'boolean' },
      via: { type: 'string' },
    });
    const from = values.from as string | undefined;
    const to = values.to as string | undefined;
    if (!from || !to) throw new UsageError('--from URI and --to URI are required');
    // the IBE identity rules too (no control character, well-formed Unicode): an ESC in --from
    // used to pass here and fail in the loopback KMS as KMS_CONFIG (exit 1)
    for (const u of [from, to]) if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s\0]+$/.test(u) || u.length > 256 || !isIdentityUri(u)) throw new UsageError(`not a URI: ${JSON.stringify(u).slice(1, -1)}`);
    if (from === to) throw new UsageError('--from and --to must differ');
    const scenario = (values.scenario ?? 'basic') as ScenarioName;
    if (!SCENARIOS.includes(scenario)) throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}`);
    const name = values.engine as string | undefined;
    if (name !== undefined && !ENGINE_NAMES.includes(name as EngineName)) throw new UsageError(`--engine must be one of ${ENGINE_NAMES.join(', ')}`);
    const reveal = values['reveal-secrets'] === true;
    if ((values['no-prekeys'] || values['allow-escrowed']) && scenario !== 'deferred') throw new UsageError('--no-prekeys and --allow-escrowed apply to --scenario deferred');
    if (values.via !== undefined) {
      if (values.scenario !== undefined && scenario !== 'basic') throw new UsageError('--via runs the basic scenario only');
      if (name !== undefined) throw new UsageError('--via uses the daemon\'s engine; --engine does not apply');
      if (reveal) throw new UsageError('--via cannot reveal secrets: they never leave the daemon');
      const { callVia } = await import('./call-via.js');
      const { engine, result } = await callVia(values.via as string, from, to);
      if (values.json) io.stdout(JSON.stringify(resultJson(engine, result)) + '\n');
      else io.stdout(human(engine, result, false));
      return result.ok ? 0 : 1;
    }

    const { engine } = await selectEngine(name ? { name: name as EngineName } : undefined);
    const { master, params: suite } = await setup('bls12381-bf', engine);
    const params = buildParams('sip:kms.invalid', 'month', suite);
    // Every party gets a PSK; forking devices may also fetch the common identity's key.
    const users: Record<string, { psk: string; identities?: string[] }> = {};
    const psk = () => hex(randomBytes(32));
    users[from] = { psk: psk() };
    users[to] = { psk: psk() };
    for (const tag of ['dev1', 'dev2']) users[derivedUri(to, tag)] = { psk: psk(), identities: [to] };
    for (const tag of ['retarget', 'voicemail']) users[derivedUri(to, tag)] = { psk: psk() };
    const audit: unknown[] = [];
    const kms = await startKmsServer({ master, params, users, host: '127.0.0.1', port: 0, rateLimit: false, engine, log: (e) => audit.push(e) });
    master.fill(0);
    try {
      const result = await runScenario({
        scenario,
        from,
        to,
        engine,
        Ppub: (suite as { Ppub: Uint8Array }).Ppub,
        revealSecrets: reveal,
        provision: async (identity, asUser) => {
          const k = await requestPrivateKey({ url: kms.url, identity, psk: users[asUser]!.psk, ...(asUser !== identity ? { pskName: asUser } : {}), params, engine });
          return { period: k.period, key: k.key };
        },
        // Deferred v2: the user's signing key comes with its decryption key (docs/kms.md §2.5).
        provisionSigning: async (identity) => {
          const k = await requestPrivateKey({ url: kms.url, identity, psk: users[identity]!.psk, params, engine, signing: true });
          k.key.fill(0);
          return { period: k.period, key: k.signingKey! };
        },
        ...(values['no-prekeys'] ? { noPrekeys: true } : {}),
        ...(values['allow-escrowed'] ? { escrowedDeferred: true } : {}),
      });
      if (values.json) io.stdout(JSON.stringify(resultJson(engine.name, result)) + '\n');
      else io.stdout(human(engine.name, result, reveal));
      return result.ok ? 0 : 1;
    } finally {
      for (const u of Object.values(users)) u.psk = '';
      await kms.close();
    }
  },
};
