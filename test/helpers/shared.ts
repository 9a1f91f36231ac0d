// Where the team's shared reference material lives: ../shared beside the repository (as on the
// developers' machines and in CI), or IBAKED_SHARED. Tests read vectors and oracles from here.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = process.env.IBAKED_SHARED ?? join(REPO, '..', 'shared');
export const VECTORS = join(SHARED, 'spec', 'vectors');
export const ORACLES = join(SHARED, 'oracles');
if (!existsSync(VECTORS)) throw new Error(`shared material not found at ${SHARED} (set IBAKED_SHARED)`);
