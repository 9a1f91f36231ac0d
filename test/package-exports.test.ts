// The package as an integrator sees it: `ibaked/client`, `ibaked/sdp` and `ibaked/mikey` import
// by name (package.json `exports`, built dist/), from the package itself (self-reference) and
// from a separate app with the package in its node_modules; deep imports of dist/ are refused;
// the declarations type-check an app's code (and catch a misuse); the exported client talks to
// a running daemon. Uses dist/ (npm run build, as pretest does).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from './helpers/repo.js';

const app = mkdtempSync(join(tmpdir(), 'ibaked-app-'));
afterAll(() => rmSync(app, { recursive: true, force: true }));
mkdirSync(join(app, 'node_modules', '@types'), { recursive: true });
symlinkSync(REPO, join(app, 'node_modules', 'ibaked'), 'dir');
symlinkSync(join(REPO, 'node_modules', '@types', 'node'), join(app, 'node_modules', '@types', 'node'), 'dir');
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'an-app', private: true, type: 'module' }));

/** Runs an ES module snippet with node in `cwd`; returns its stdout parsed as JSON. */
function runModule(cwd: string, code: string): { status: number | null; out: unknown; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8', timeout: 60_000 });
  let out: unknown;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    out = r.stdout;
  }
  return { status: r.status, out, stderr: r.stderr };
}

const USE_ALL = `
  import { IbakedClient, IpcError } from 'ibaked/client';
  import { formatKeyMgmtLine, extractMikey, insertMikey, effectiveMikey } from 'ibaked/sdp';
  import { decodeMessage, encodeMessage, describeMessage, parseMessageText, MikeyError } from 'ibaked/mikey';
  const msg = parseMessageText(process.argv[1] ?? '${'AQAFAAutyv4BAADerb7vAAAAAAsA6x8KAEAAAAAKECAhIiMkJSYnKCkqKywtLi8BAAAAGwABAQEBEAIBAQMBFAQBDgcBAQgBAQoBAQsBCgAAABQAAAAQsLGys7S1tre4ubq7vL2+vwFQUVJTVFVWV1hZWltcXV5fYGFiYw=='}').bytes;
  const m = decodeMessage(msg);
  const sdp = insertMikey('v=0\\r\\no=- 1 1 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\nm=audio 4000 RTP/SAVP 0\\r\\n', { session: msg });
  const back = effectiveMikey(extractMikey(sdp), 0).data;
  let code;
  try { decodeMessage(msg.subarray(0, 5)); } catch (e) { code = e instanceof MikeyError ? e.code : 'untyped'; }
  console.log(JSON.stringify({
    client: typeof IbakedClient.connect, ipcError: new IpcError('X', 'y').code,
    payloads: m.payloads.map((p) => p.kind), roundtrip: Buffer.from(encodeMessage(m)).equals(Buffer.from(msg)),
    described: describeMessage(m).json.dataType, sdpBack: Buffer.from(back).equals(Buffer.from(msg)),
    line: formatKeyMgmtLine(msg).slice(0, 17), truncated: code,
  }));`;

describe('package exports', () => {
  it('is built (dist/api) — run npm run build otherwise', () => {
    for (const f of ['client', 'sdp', 'mikey']) {
      expect(existsSync(join(REPO, 'dist', 'api', `${f}.js`)), f).toBe(true);
      expect(existsSync(join(REPO, 'dist', 'api', `${f}.d.ts`)), f).toBe(true);
    }
  });

  for (const [where, cwd] of [['the package itself (self-reference)', REPO], ['an app with ibaked in node_modules', app]] as const) {
    it(`ibaked/client, ibaked/sdp, ibaked/mikey import by name from ${where} and work`, () => {
      const r = runModule(cwd, USE_ALL);
      expect(r.stderr).toBe('');
      expect(r.out).toEqual({
        client: 'function', ipcError: 'X', payloads: ['T', 'RAND', 'SP', 'KEMAC'], roundtrip: true,
        described: { value: 0, name: 'Pre-shared' }, sdpBack: true, line: 'a=key-mgmt:mikey ', truncated: 'MIKEY_TRUNCATED',
      });
    });
  }

  it('deep imports of dist/ and unlisted paths are refused (ERR_PACKAGE_PATH_NOT_EXPORTED)', () => {
    for (const spec of ['ibaked/dist/client/ipc.js', 'ibaked/dist/mikey/index.js', 'ibaked/src/srtp/sdp.ts', 'ibaked']) {
      const r = runModule(app, `import(${JSON.stringify(spec)}).then(() => console.log('"loaded"'), (e) => console.log(JSON.stringify(e.code)));`);
      expect(r.out, spec).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    }
  });

  it('the declarations type-check an app (and reject a misuse)', () => {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false } }));
    writeFileSync(join(app, 'app.ts'), `
import { IbakedClient, IpcError } from 'ibaked/client';
import { extractMikey, insertMikey, type MikeyPlacement } from 'ibaked/sdp';
import { decodeMessage, MikeyError, type DecodedMessage } from 'ibaked/mikey';
export async function keyFor(sock: string, sdp: string): Promise<DecodedMessage | undefined> {
  const c: IbakedClient = await IbakedClient.connect(sock);
  try {
    const pong = await c.request<{ pong: boolean }>('ping');
    if (!pong.pong) return undefined;
  } catch (e) {
    if (e instanceof IpcError) console.error(e.code);
  } finally {
    c.close();
  }
  const data = extractMikey(sdp).session;
  const placement: MikeyPlacement = { session: new Uint8Array(4) };
  insertMikey(sdp, placement);
  try {
    return data ? decodeMessage(data) : undefined;
  } catch (e) {
    if (e instanceof MikeyError) console.error(e.code, e.offset);
    return undefined;
  }
}
// @ts-expect-error decodeMessage takes octets, not text: the declarations must say so
decodeMessage('AAAA');
// @ts-expect-error there is no such export
import { notExported } from 'ibaked/client';
void notExported;
`);
    const r = spawnSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the exported client talks to a running daemon (ping)', async () => {
    const sock = join(app, 'd.sock');
    const d = spawn(process.execPath, [join(REPO, 'bin', 'ibaked.js'), '--socket', sock, '--engine', 'ts', '--skip-selftest', '--var-dir', join(app, 'var')]);
    let err = '';
    d.stderr.on('data', (c) => (err += c));
    try {
      for (let i = 0; i < 300 && !err.includes('listening on '); i++) await new Promise((r) => setTimeout(r, 100));
      expect(err).toMatch(/listening/);
      const r = runModule(app, `
        import { IbakedClient } from 'ibaked/client';
        const c = await IbakedClient.connect(${JSON.stringify(sock)});
        const pong = await c.request('ping');
        c.close();
        console.log(JSON.stringify(pong));`);
      expect(r.stderr).toBe('');
      expect(r.out).toMatchObject({ pong: true });
    } finally {
      const closed = new Promise((r) => d.on('close', r));
      d.kill('SIGTERM');
      await closed;
    }
  });
});
