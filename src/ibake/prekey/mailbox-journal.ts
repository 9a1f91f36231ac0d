// The mailbox's journal of handed-out prekey ids (`mailbox-prekeys.used`, 0600): one line per
// prekey, `["<user URI>",<id>,<bundle expiry>]\n`, appended and fdatasync'ed before the prekey
// leaves the mailbox, so a hand-out costs one short write whatever the table holds (the snapshot
// is rewritten only on add and on compaction, which empties the journal). A crash can leave a torn
// last line: its prekey was never returned (the write had not completed), so it is ignored and cut
// off before the next append. A bad complete line is corruption: the table refuses to load.
import { readFileSync, statSync, truncateSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface JournalEntry {
  uri: string;
  id: number;
  expiry: number;
}

const lineOf = (e: JournalEntry) => `${JSON.stringify([e.uri, e.id, e.expiry])}\n`;

function entryOf(line: string): JournalEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || v.length !== 3) return undefined;
  const [uri, id, expiry] = v as unknown[];
  if (typeof uri !== 'string' || uri === '' || !Number.isInteger(id) || (id as number) < 1 || (id as number) > 0xffffffff) return undefined;
  if (!Number.isSafeInteger(expiry) || (expiry as number) < 0) return undefined;
  return { uri, id: id as number, expiry: expiry as number };
}

/**
 * The entries of the journal at `path` (none if it does not exist) and where its complete lines
 * end. `bad` is called (and must throw) for a loose mode or a bad complete line.
 */
export function readJournal(path: string, bad: (why: string) => never): { entries: JournalEntry[]; complete: number; size: number } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], complete: 0, size: 0 };
    throw e;
  }
  if ((statSync(path).mode & 0o077) !== 0) bad('journal mode must be 0600');
  const complete = buf.lastIndexOf(0x0a) + 1;
  const lines = complete === 0 ? [] : buf.subarray(0, complete - 1).toString('utf8').split('\n');
  const entries = lines.map((l, i) => entryOf(l) ?? bad(`journal line ${i + 1}`));
  return { entries, complete, size: buf.length };
}

/** Cuts a torn last line off (after readJournal found the rest good). */
export function cutTornTail(path: string, complete: number, size: number): void {
  if (size > complete) truncateSync(path, complete);
}

export class Journal {
  #fh: FileHandle | undefined;
  /** Octets of complete lines in the file. */
  #size: number;
  /** A failed append could not be cut back: appending more would bury a torn line. */
  #broken = false;
  /** Lines since the last compaction (those found at load included). */
  lines: number;

  constructor(
    readonly path: string,
    lines: number,
    size: number,
  ) {
    this.lines = lines;
    this.#size = size;
  }

  async #handle(): Promise<FileHandle> {
    if (this.#fh) return this.#fh;
    const fh = await open(this.path, 'a', 0o600);
    try {
      await fh.chmod(0o600);
      // the file's name must survive a crash as well as its lines
      const dir = await open(dirname(this.path), 'r');
      await dir.sync().finally(() => dir.close());
    } catch (e) {
      await fh.close();
      throw e;
    }
    return (this.#fh = fh);
  }

  /** Appends one entry and waits until it is on disk. */
  async append(e: JournalEntry): Promise<void> {
    if (this.#broken) throw new Error(`mailbox journal ${this.path} is unusable after a failed write (restart the daemon)`);
    const fh = await this.#handle();
    const line = Buffer.from(lineOf(e));
    try {
      await fh.appendFile(line);
      await fh.datasync();
    } catch (err) {
      // a partly written line must not stay in the middle of the journal
      await fh.truncate(this.#size).catch(() => (this.#broken = true));
      throw err;
    }
    this.#size += line.length;
    this.lines++;
  }

  /** Empties the journal (after a snapshot that holds its entries was written). */
  async clear(): Promise<void> {
    const fh = await this.#handle();
    await fh.truncate(0);
    await fh.datasync();
    this.lines = 0;
    this.#size = 0;
    this.#broken = false;
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close();
  }
}
