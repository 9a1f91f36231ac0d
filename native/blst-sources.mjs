// Puts blst's C and assembly sources where binding.gyp expects them (native/blst/).
// Source of truth: the npm tarball of @chainsafe/blst 0.2.11 (blst 0.3.10), committed as
// native/vendor/chainsafe-blst-0.2.11.tgz and pinned by the registry's own sha512 integrity
// string. We only read the tarball: that package's JavaScript and install script never run.
// A tiny ustar reader (zlib + 512-octet headers) keeps this free of any tar binary or package.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
export const TARBALL = join(HERE, 'vendor', 'chainsafe-blst-0.2.11.tgz');
/** The npm registry's integrity for @chainsafe/blst@0.2.11 (also in package-lock history). */
export const INTEGRITY =
  'sha512-URyOLq5GtxBoxibOnd2pgLydCy0UZzbiIIBcsRAvGxAsRzjZL04TsQfwRkz5aphU3a1ebeRoMmI/HHyMCiFSQg==';
export const OUT_DIR = join(HERE, 'blst');
const STAMP = join(OUT_DIR, '.integrity');

/** Entries of the tarball we need: blst's C sources, assembly, public headers, licence. */
function wanted(name) {
  return (
    name.startsWith('package/blst/src/') ||
    name.startsWith('package/blst/build/') ||
    name === 'package/blst/bindings/blst.h' ||
    name === 'package/blst/bindings/blst_aux.h' ||
    name === 'package/blst/LICENSE'
  );
}

function field(buf, off, len) {
  const raw = buf.subarray(off, off + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? len : end).toString('utf8');
}

/** Verifies the tarball and extracts the blst sources once; returns the source directory. */
export function ensureBlstSources() {
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === INTEGRITY) return OUT_DIR;
  const tgz = readFileSync(TARBALL);
  const got = 'sha512-' + createHash('sha512').update(tgz).digest('base64');
  if (got !== INTEGRITY) throw new Error(`blst tarball integrity mismatch: ${got}`);
  const tar = gunzipSync(tgz);
  let off = 0;
  let count = 0;
  while (off + 512 <= tar.length) {
    const hdr = tar.subarray(off, off + 512);
    if (hdr.every((b) => b === 0)) break;
    const name = (field(hdr, 345, 155) ? field(hdr, 345, 155) + '/' : '') + field(hdr, 0, 100);
    const size = parseInt(field(hdr, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(hdr[156] || 48);
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if ((type !== '0' && type !== '\0') || !wanted(name)) continue;
    const rel = normalize(name.slice('package/blst/'.length));
    if (rel.startsWith('..') || rel.includes(`..${sep}`)) throw new Error(`unsafe path in tarball: ${name}`);
    const dest = join(OUT_DIR, rel);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, body);
    count++;
  }
  if (count < 50 || !existsSync(join(OUT_DIR, 'src', 'server.c'))) throw new Error('blst sources missing from tarball');
  writeFileSync(STAMP, INTEGRITY);
  return OUT_DIR;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(ensureBlstSources());
}
