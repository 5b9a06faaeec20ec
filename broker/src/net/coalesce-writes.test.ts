import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from './coalesce-writes.js';

/** A loopback server that records each read it gets (one read per segment the sender's syscalls made). */
async function reader(): Promise<{ server: Server; port: number; reads: string[]; next: (n: number) => Promise<void> }> {
  const reads: string[] = [];
  let wanted = 0;
  let wake: (() => void) | null = null;
  const server = createServer((s) =>
    s.on('data', (d: Buffer) => {
      reads.push(d.toString());
      if (reads.length >= wanted) wake?.();
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const next = (n: number) =>
    new Promise<void>((resolve) => {
      wanted = n;
      wake = resolve;
      if (reads.length >= n) resolve();
    });
  return { server, port: (server.address() as AddressInfo).port, reads, next };
}

describe('coalesceWrites', () => {
  const open: { server?: Server; socket?: Socket } = {};
  afterEach(() => {
    open.socket?.destroy();
    open.server?.close();
  });

  it('sends the writes of one tick in one segment, in order, and later ticks again', async () => {
    const r = await reader();
    open.server = r.server;
    const socket = connect(r.port, '127.0.0.1');
    open.socket = socket;
    socket.setNoDelay(true);
    await once(socket, 'connect');
    coalesceWrites(socket);

    // pg writes bind, describe, execute and sync one after the other: none reaches the kernel before the tick ends.
    for (const part of ['bind|', 'describe|', 'execute|', 'sync|']) socket.write(part);
    expect(socket.writableCorked).toBe(1);
    expect(socket.writableLength).toBe('bind|describe|execute|sync|'.length);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(socket.writableCorked).toBe(0);
    await r.next(1);
    expect(r.reads).toEqual(['bind|describe|execute|sync|']);

    const written = new Promise<void>((resolve) => socket.write(Buffer.from('ack|'), () => resolve()));
    socket.write('publish|', 'utf8');
    await written; // callbacks still fire
    await r.next(2);
    expect(r.reads.join('')).toBe('bind|describe|execute|sync|ack|publish|');
    expect(r.reads).toHaveLength(2);
  });

  it('keeps backpressure: write says false above the high-water mark and drain follows', async () => {
    const r = await reader();
    open.server = r.server;
    const socket = connect(r.port, '127.0.0.1');
    open.socket = socket;
    await once(socket, 'connect');
    coalesceWrites(socket);
    const big = Buffer.alloc(socket.writableHighWaterMark + 1, 'x');
    expect(socket.write(big)).toBe(false);
    await once(socket, 'drain');
    expect(socket.write('small')).toBe(true);
  });
});
