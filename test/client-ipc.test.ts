// IbakedClient (src/client/ipc.ts): against a socket that goes away, pending requests fail with
// IPC_CLOSED, and so does a request made after the close (it must not wait forever); requests
// made in one turn of the event loop leave in one writev.
import { createServer, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { IbakedClient } from '../src/client/ipc.js';
import { encodeFrame, FrameDecoder } from '../src/daemon/frame.js';

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

it('requests made in one turn leave in one writev, and each gets its own reply', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'ibaked-cl-')), 's.sock');
  // An echo daemon: answers every frame with its id, as one reply frame each.
  const server = createServer((c) => {
    const dec = new FrameDecoder();
    c.on('data', (chunk: Buffer) => {
      for (const m of dec.push(chunk)) c.write(encodeFrame({ id: m.id, ok: true, result: { method: m.method } }));
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  try {
    const c = await IbakedClient.connect(path);
    const sock = (c as unknown as { sock: Socket }).sock;
    const calls: number[] = [];
    const w = sock._write.bind(sock);
    const wv = sock._writev!.bind(sock);
    sock._write = (chunk, enc, cb) => (calls.push(1), w(chunk, enc, cb));
    sock._writev = (chunks, cb) => (calls.push(chunks.length), wv(chunks, cb));
    const replies = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((m) => c.request<{ method: string }>(m)));
    expect(replies.map((r) => r.method)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(calls).toEqual([5]);
    // the next turn's request is a write of its own
    await expect(c.request('f')).resolves.toEqual({ method: 'f' });
    expect(calls).toEqual([5, 1]);
    c.close();
  } finally {
    server.close();
  }
});
