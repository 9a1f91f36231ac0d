// `npm install` hook of this package: builds the native engine addon (binding.gyp) with
// node-gyp. It never fails the install: without a compiler, python or the blst sources it
// prints one clear warning and exits 0, and the engine selection falls back to wasm/ts.
//   IBAKED_SKIP_NATIVE=1   skip the build entirely
//   IBAKED_NATIVE_DEBUG=1  show node-gyp's full output
// node-gyp comes from npm itself (npm_config_node_gyp, set by npm for install scripts), else
// from npm's own node_modules next to the running npm, else `node-gyp` on PATH.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function warn(why) {
  console.warn(`ibaked: native addon NOT built (${why}).`);
  console.warn('ibaked: the engine falls back to wasm (mcl-wasm) or ts; install a C++ toolchain and python3, then run `npm rebuild ibaked` or `node scripts/install-native.mjs`.');
  process.exit(0);
}

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) {
    // .../npm/bin/npm-cli.js -> .../npm/node_modules/node-gyp/bin/node-gyp.js
    candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of candidates) if (c && existsSync(c)) return { cmd: process.execPath, pre: [c] };
  return { cmd: 'node-gyp', pre: [] };
}

async function main() {
  if (process.env.IBAKED_SKIP_NATIVE === '1') warn('IBAKED_SKIP_NATIVE=1');
  if (!existsSync(join(ROOT, 'binding.gyp'))) warn('binding.gyp missing');
  try {
    const { ensureBlstSources } = await import('../native/blst-sources.mjs');
    ensureBlstSources();
  } catch (e) {
    warn(`blst sources unavailable: ${e.message}`);
  }
  const gyp = findNodeGyp();
  const args = [...gyp.pre, 'rebuild', '--release', `-j${Math.max(1, Math.min(4, (await import('node:os')).availableParallelism()))}`];
  // npm passes its configured nodedir to install scripts; honour it when running standalone too.
  const nodedir = process.env.npm_config_nodedir;
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  else if (existsSync('/usr/include/node/node_api.h') && existsSync('/usr/include/node/common.gypi')) args.push('--nodedir=/usr');
  const debug = process.env.IBAKED_NATIVE_DEBUG === '1';
  console.log('ibaked: building the native engine addon (node-gyp, blst 0.3.10)…');
  const r = spawnSync(gyp.cmd, args, { cwd: ROOT, stdio: debug ? 'inherit' : 'pipe', encoding: 'utf8' });
  if (r.error) warn(`could not run node-gyp: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').filter((l) => /error|not found|ERR!/i.test(l)).slice(-6).join('\n');
    if (tail) console.warn(tail);
    warn(`node-gyp exited with status ${r.status}`);
  }
  // Smoke test: the addon must load and agree with itself on a pairing-free check.
  const node = spawnSync(process.execPath, ['-e', `const a=require(${JSON.stringify(join(ROOT, 'build', 'Release', 'ibaked_native.node'))});if(a.runSync(0,[]).length!==48)process.exit(3)`], { encoding: 'utf8' });
  if (node.status !== 0) warn(`the built addon does not load: ${(node.stderr || '').trim().split('\n')[0]}`);
  console.log('ibaked: native engine addon built (build/Release/ibaked_native{,_adx}.node).');
}

main().catch((e) => warn(e?.message ?? String(e)));
