// Reading a file a user names (configuration, PEM, SDP, params) without trusting its size: at
// most `max` octets are read, more fails with an fs-style error (code EFBIG). A plain
// readFile of /dev/zero, of a stray multi-GB file or of an endless pipe would buffer until the
// process runs out of memory and dies with a V8 or std::bad_alloc abort instead of the one-line
// error every caller gives for an unreadable file ("cannot read PATH: CODE"). Pipes and process
// substitution (`--config <(…)`, /dev/stdin) still work: the file is read in chunks to its end.
// It is opened non-blocking, so a named pipe nobody writes to reads as empty at once (a
// blocking open would wait for a writer forever), and a pipe whose writer sends nothing for
// `waitMs` fails with ETIMEDOUT instead of hanging the command or the daemon's start.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** The whole file when it holds at most `max` octets; else throws an Error with code 'EFBIG'. */
export function readFileBounded(path: string, max: number, o: { waitMs?: number } = {}): Buffer {
  const waitMs = o.waitMs ?? 30_000;
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const regular = fstatSync(fd).isFile();
    const chunks: Buffer[] = [];
    let total = 0;
    let idleSince = Date.now();
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, max + 1 - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        // a pipe or terminal with a writer that has nothing for us yet
        if (regular || (e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        if (Date.now() - idleSince > waitMs) {
          for (const c of chunks) c.fill(0);
          throw Object.assign(new Error(`${path} sent nothing for ${waitMs} ms`), { code: 'ETIMEDOUT' });
        }
        Atomics.wait(pause, 0, 0, 10);
        continue;
      }
      if (n === 0) break;
      idleSince = Date.now();
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > max) {
        for (const c of chunks) c.fill(0); // it may be a private key
        throw Object.assign(new Error(`${path} holds more than ${max} octets`), { code: 'EFBIG' });
      }
    }
    const all = Buffer.concat(chunks, total);
    for (const c of chunks) c.fill(0);
    return all;
  } finally {
    closeSync(fd);
  }
}
