// The vendored published vectors (test/vectors) are the bytes that were published: every file
// matches the digest recorded when it was copied in (SHA256SUMS), no file is unlisted, and the
// README names every file's source. Guards against an editor or a tool "fixing" a vector.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VECTORS } from './helpers/repo.js';

const OWN = new Set(['README.md', 'SHA256SUMS']);
const listed = new Map(
  readFileSync(join(VECTORS, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(l);
    if (!m) throw new Error(`SHA256SUMS: bad line ${JSON.stringify(l)}`);
    return [m[2]!, m[1]!] as const;
  }),
);
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [relative(VECTORS, join(dir, n))]));

describe('vendored vectors', () => {
  it('every file has the recorded SHA-256, and every file is recorded', () => {
    const present = files(VECTORS).filter((f) => !OWN.has(f)).sort();
    expect(present).toEqual([...listed.keys()].sort());
    for (const [file, digest] of listed) expect(createHash('sha256').update(readFileSync(join(VECTORS, file))).digest('hex'), file).toBe(digest);
  });

  it('the README names every vector file and keeps the Wycheproof licence', () => {
    const readme = readFileSync(join(VECTORS, 'README.md'), 'utf8');
    for (const f of listed.keys()) {
      if (f === 'wycheproof/LICENSE') continue;
      // the four i·G files are listed as one brace pattern
      const named = readme.includes(f) || (/_valid_test_vectors\.dat$/.test(f) && readme.includes('g{1,2}_{compressed,uncompressed}_valid_test_vectors.dat'));
      expect(named, f).toBe(true);
    }
    expect(readFileSync(join(VECTORS, 'wycheproof', 'LICENSE'), 'utf8')).toMatch(/Apache License/);
  });
});
