// The package's version, read once from package.json (two levels above both src/util and
// dist/util), for `ibake --version` and `ibaked --version`.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The `version` field of the package's package.json. */
export function packageVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    if (typeof pkg.version !== 'string') throw new Error('package.json has no version');
    cached = pkg.version;
  }
  return cached;
}
