// Creates a directory and its missing parents (mkdir -p) without Node's recursive mkdir.
// Why: on Node 20, fs.mkdirSync/fs.promises.mkdir(dir, { recursive: true }) loop forever when
// mkdir(2) answers ENOENT for a path whose parent exists — procfs does that (mkdir /proc/x,
// /proc/self/x): Node takes ENOENT to mean "parent missing", creates the parent (EEXIST, a
// directory: fine) and retries the child, which fails with ENOENT again, forever, inside one
// synchronous call (100 % CPU, SIGTERM never handled). Here each component, from the root
// down, is created with a plain mkdir and visited once, so the walk always ends; every failure
// is reported as the caller's typed error naming the directory, the component and the errno.
import { mkdirSync, statSync } from 'node:fs';
import { join, parse, resolve, sep } from 'node:path';

/** Builds the caller's typed error (ConfigError, KmsError, …) from a one-line message. */
export type MakeDirFailure = (message: string) => Error;

/** Every prefix of an absolute path, root first: /a/b → ['/', '/a', '/a/b']. */
function prefixes(abs: string): string[] {
  const root = parse(abs).root;
  const out = [root];
  for (const p of abs.slice(root.length).split(sep).filter((c) => c.length > 0)) out.push(join(out[out.length - 1]!, p));
  return out;
}

/** 'directory', 'other' (exists, not a directory) or the errno code of a failed stat. */
function kindOf(path: string): 'directory' | 'other' | string {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'UNKNOWN';
  }
}

/**
 * Makes `dir` and any missing parent, each new one created with `mode` (less the umask, as
 * mkdir(2) does). An existing directory (or a symlink to one) is accepted as it is. Returns the
 * first directory it created, or undefined if `dir` already existed (like fs.mkdirSync with
 * recursive). Throws `fail(message)` on any failure; never loops.
 */
export function makeDirSync(dir: string, mode: number, fail: MakeDirFailure): string | undefined {
  if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) throw fail(`cannot create directory ${JSON.stringify(dir)}: not a valid path`);
  const abs = resolve(dir);
  let first: string | undefined;
  for (const p of prefixes(abs)) {
    try {
      mkdirSync(p, { mode });
      first ??= p;
      continue;
    } catch (e) {
      // Any error on something that is already a directory is fine (EEXIST, but also EROFS or
      // EACCES from some file systems for an existing entry): go on to the next component.
      const kind = kindOf(p);
      if (kind === 'directory') continue;
      const at = p === abs ? '' : ` (at ${p})`;
      if (kind === 'other') throw fail(`cannot create directory ${dir}: ${p} exists and is not a directory`);
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EEXIST') throw fail(`cannot create directory ${dir}${at}: it exists but cannot be followed (stat: ${kind})`);
      // "ENOENT: no such file or directory, mkdir '/x'" → "ENOENT (no such file or directory)"
      const text = /^[A-Z0-9]+: ([^,]+),/.exec(err.message)?.[1];
      throw fail(`cannot create directory ${dir}${at}: mkdir failed with ${err.code ?? 'UNKNOWN'}${text ? ` (${text})` : ''}`);
    }
  }
  return first;
}
