// Where the repository's own test material lives: the vendored published vectors (test/vectors,
// see its README for each file's source) and the project's oracle wrappers (test/oracles).
// Everything is inside the repository: a fresh clone needs nothing beside it.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VECTORS = join(REPO, 'test', 'vectors');
export const ORACLES = join(REPO, 'test', 'oracles');

/** Path of an oracle wrapper script in test/oracles (e.g. 'mikey-tshark.mjs'). */
export const oracle = (name: string): string => join(ORACLES, name);
