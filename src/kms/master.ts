// The KMS directory on disk: DIR/master.key (the IBE master secret, mode 0600) and
// DIR/params.json (the public parameters, src/ibe/params.ts). Files are written atomically
// (temp file, fsync, no-clobber link into place, fsync of the directory); an existing KMS
// directory is never overwritten; a missing, truncated, corrupt, group/world-readable or
// mismatched master file is refused with a clear KMS_CONFIG error — never regenerated.
//
// master.key layout (all integers big-endian):
//   "IBAKEDMK" (8) ‖ format version 0x01 ‖ suite name length (1) ‖ suite name (ASCII)
//   ‖ params fingerprint (32, binds the secret to its params.json) ‖ secret length (2)
//   ‖ secret (bls12381-bf: 32-octet scalar; rfc5091-bf: DER BFMasterSecret)
//   ‖ SHA-256 of everything before (32)
import { createHash, randomBytes } from 'node:crypto';
import { constants as FS } from 'node:fs';
import { link, open, readFile, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engine/types.js';
import { checkMaster, isSuiteName, setup, type IbeParams, type IbeSuiteName, type PeriodKind } from '../ibe/index.js';
import { buildParams, paramsToJson, parseParams } from '../ibe/params.js';
import type { Rfc5091Level } from '../ibe/rfc5091/setup.js';
import { makeDirSync } from '../util/make-dir.js';
import { readFileBounded } from '../util/read-bounded.js';

/** Octets of a params file read at most (its text is capped at 1 Mi characters of up to 4 octets). */
const MAX_PARAMS_FILE = 4 << 20;
import { KmsError } from './errors.js';
import { requireNotOthersWritable } from './file-modes.js';

export const MASTER_FILE = 'master.key';
export const PARAMS_FILE = 'params.json';
const MAGIC = Buffer.from('IBAKEDMK', 'ascii');
const FORMAT = 1;

function cfg(msg: string): KmsError {
  return new KmsError('KMS_CONFIG', msg);
}

export function encodeMasterFile(suite: IbeSuiteName, fingerprintHex: string, secret: Uint8Array): Uint8Array {
  const name = Buffer.from(suite, 'ascii');
  const fp = Buffer.from(fingerprintHex, 'hex');
  if (fp.length !== 32) throw cfg('fingerprint must be 32 octets');
  if (secret.length < 1 || secret.length > 0xffff) throw cfg('master secret length out of range');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(secret.length);
  const body = Buffer.concat([MAGIC, Buffer.from([FORMAT, name.length]), name, fp, len, secret]);
  const out = new Uint8Array(Buffer.concat([body, createHash('sha256').update(body).digest()]));
  body.fill(0);
  return out;
}

export interface MasterFile {
  suite: IbeSuiteName;
  fingerprint: string;
  secret: Uint8Array;
}

export function decodeMasterFile(bytes: Uint8Array, path = MASTER_FILE): MasterFile {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const corrupt = (why: string) => cfg(`${path} is corrupt or truncated (${why}); refusing to use it`);
  if (b.length < MAGIC.length + 2 + 32 + 2 + 1 + 32) throw corrupt('too short');
  if (!b.subarray(0, 8).equals(MAGIC)) throw corrupt('bad magic');
  const sumAt = b.length - 32;
  const sum = createHash('sha256').update(b.subarray(0, sumAt)).digest();
  if (!sum.equals(b.subarray(sumAt))) throw corrupt('checksum mismatch');
  if (b[8] !== FORMAT) throw corrupt(`unknown format version ${b[8]}`);
  const nameLen = b[9]!;
  let o = 10;
  const suite = b.subarray(o, o + nameLen).toString('ascii');
  o += nameLen;
  if (!isSuiteName(suite)) throw corrupt(`unknown suite '${suite}'`);
  const fingerprint = b.subarray(o, o + 32).toString('hex');
  o += 32;
  if (o + 2 > sumAt) throw corrupt('truncated');
  const len = b.readUInt16BE(o);
  o += 2;
  if (o + len !== sumAt || len === 0) throw corrupt('length mismatch');
  return { suite, fingerprint, secret: new Uint8Array(b.subarray(o, o + len)) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    // e.g. ENOTDIR (a path under a regular file), EACCES, ELOOP: a typed refusal, not a crash
    throw cfg(`cannot use ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, FS.O_RDONLY);
  try {
    await fh.sync();
  } catch {
    /* some filesystems refuse fsync on directories */
  } finally {
    await fh.close();
  }
}

/** Atomic, no-clobber write: temp file (O_EXCL, `mode`), fsync, link into place, unlink temp. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL, mode);
  try {
    await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  try {
    await link(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw cfg(`${path} already exists; refusing to overwrite it`);
    throw e;
  }
  await unlink(tmp);
  await fsyncDir(join(path, '..'));
}

export interface InitOptions {
  suite: IbeSuiteName;
  period: PeriodKind;
  kmsId: string;
  engine?: Engine;
  rfc5091Level?: Rfc5091Level;
}

/** Creates a new KMS directory (master.key 0600 + params.json). Refuses an existing KMS dir. */
export async function initKmsDir(dir: string, opts: InitOptions): Promise<IbeParams> {
  if (await exists(dir)) {
    const st = await stat(dir);
    if (!st.isDirectory()) throw cfg(`${dir} exists and is not a directory`);
    const entries = await readdir(dir);
    if (entries.includes(MASTER_FILE) || entries.includes(PARAMS_FILE)) {
      throw cfg(`${dir} already holds a KMS (${MASTER_FILE}/${PARAMS_FILE}); refusing to overwrite it`);
    }
  } else {
    makeDirSync(dir, 0o700, cfg); // once, at init: a synchronous walk is fine here
  }
  const { master, params: suiteParams } = await setup(opts.suite, opts.engine, { rfc5091Level: opts.rfc5091Level });
  const params = buildParams(opts.kmsId, opts.period, suiteParams);
  const file = encodeMasterFile(opts.suite, params.fingerprint, master);
  try {
    await writeFileAtomic(join(dir, MASTER_FILE), file, 0o600);
    await writeFileAtomic(join(dir, PARAMS_FILE), paramsToJson(params), 0o644);
  } finally {
    file.fill(0);
    master.fill(0);
  }
  return params;
}

/** Reads and validates DIR/params.json. */
export async function loadParamsFile(path: string, engine?: Engine): Promise<IbeParams> {
  let text: string;
  try {
    text = readFileBounded(path, MAX_PARAMS_FILE).toString('utf8'); // parseParams then caps the text at 1 MiB
  } catch (e) {
    throw cfg(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseParams(text, engine);
}

/**
 * Loads a KMS directory: directory and params not writable by group/others, params
 * (validated), master secret (checked: file mode 0600 or stricter, checksum, suite and fingerprint match, P_pub = [s]P). Zero `master` after use.
 */
export async function loadKmsDir(dir: string, engine?: Engine): Promise<{ params: IbeParams; master: Uint8Array }> {
  // Whoever may write the directory or the params could swap the KMS's identity under it.
  await requireNotOthersWritable(dir, 'KMS directory');
  await requireNotOthersWritable(join(dir, PARAMS_FILE), 'KMS params');
  const params = await loadParamsFile(join(dir, PARAMS_FILE), engine);
  const mpath = join(dir, MASTER_FILE);
  let st;
  try {
    st = await stat(mpath);
  } catch (e) {
    throw cfg(`cannot read ${mpath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile()) throw cfg(`${mpath} is not a regular file`);
  if ((st.mode & 0o077) !== 0) throw cfg(`${mpath} is accessible by group/others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  const raw = new Uint8Array(await readFile(mpath));
  let mf: MasterFile;
  try {
    mf = decodeMasterFile(raw, mpath);
  } finally {
    raw.fill(0);
  }
  if (mf.suite !== params.suite.suite) throw cfg(`${mpath} is for suite ${mf.suite} but params.json is ${params.suite.suite}`);
  if (mf.fingerprint !== params.fingerprint) throw cfg(`${mpath} does not belong to this params.json (fingerprint mismatch)`);
  try {
    await checkMaster(mf.secret, params, engine);
  } catch (e) {
    mf.secret.fill(0);
    throw cfg(`${mpath}: ${(e as Error).message}`);
  }
  return { params, master: mf.secret };
}
