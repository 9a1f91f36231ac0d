// IbakedClient (src/client/ipc.ts) against a socket that goes away: pending requests fail with
// IPC_CLOSED, and so does a request made after the close (it must not wait forever).
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';

it('requests pending at, or made after, the close reject with IPC_CLOSED', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'ibaked-cl-')), 's.sock');
  const server = createServer((c) => c.once('data', () => c.destroy()));
  await new Promise<void>((r) => server.listen(path, r));
  try {
    const c = await IbakedClient.connect(path);
    await expect(c.request('ping')).rejects.toMatchObject({ code: 'IPC_CLOSED' });
    await expect(c.request('ping')).rejects.toMatchObject({ code: 'IPC_CLOSED' });
    c.close();
    await expect(c.request('ping')).rejects.toMatchObject({ code: 'IPC_CLOSED' });
  } finally {
    server.close();
  }
});

it('an empty socket path is IPC_CONNECT, not a TCP-port error (found by fuzzing ibake ipc --socket "")', async () => {
  await expect(IbakedClient.connect('')).rejects.toMatchObject({ code: 'IPC_CONNECT', message: 'cannot connect: the socket path is empty' });
  await expect(IbakedClient.connect(undefined as unknown as string)).rejects.toMatchObject({ code: 'IPC_CONNECT' });
});
