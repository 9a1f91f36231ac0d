// Reading a file a user names (configuration, PEM, SDP, params) without trusting its size: at
// most `max` octets are read, more fails with an fs-style error (code EFBIG). A plain
// readFile of /dev/zero, of a stray multi-GB file or of an endless pipe would buffer until the
// process runs out of memory and dies with a V8 or std::bad_alloc abort instead of the one-line
// error every caller gives for an unreadable file ("cannot read PATH: CODE"). Pipes and process
// substitution (`--config <(…)`, /dev/stdin) still work: the file is read in chunks to its end.
import { closeSync, openSync, readSync } from 'node:fs';

/** The whole file when it holds at most `max` octets; else throws an Error with code 'EFBIG'. */
export function readFileBounded(path: string, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, max + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
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
