import { createServer, type Server, type Socket } from 'node:net';
import { chmod, unlink } from 'node:fs/promises';
import type { AttachedStdio } from '../docker/docker-engine.js';
import { RUNTIME_SOCKET, type SandboxHome } from './sandbox-home.js';

/**
 * The runtime's channel over a unix socket in the container's home
 * (dedicated containers; sandbox-image/README.md "Transport: stdio vs unix
 * socket"): one kernel hop instead of dockerd and the shim relaying every
 * frame. The runner listens before the container starts; the runtime
 * connects before it loads any tenant code, so the first connection is the
 * runtime's. Then the socket file goes and nothing else can connect.
 */
export class RuntimeSocket {
  private readonly server: Server;
  private readonly accepted: Promise<Socket>;

  private constructor(server: Server, accepted: Promise<Socket>) {
    this.server = server;
    this.accepted = accepted;
  }

  static async listen(home: SandboxHome): Promise<RuntimeSocket> {
    const path = home.path(RUNTIME_SOCKET);
    const server = createServer({ noDelay: true });
    let take: (s: Socket) => void = () => undefined;
    const accepted = new Promise<Socket>((resolve) => (take = resolve));
    server.on('connection', (s) => {
      s.setNoDelay(true);
      take(s);
      take = (late) => late.destroy();
      // The first connection is the runtime's: no second one, ever.
      server.close();
      void unlink(path).catch(() => undefined);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    server.on('error', () => undefined);
    // uid 1000 in the container must be able to connect; the 0711 directories keep the path unlisted.
    await chmod(path, 0o666);
    return new RuntimeSocket(server, accepted);
  }

  /**
   * The channel once the runtime connected: frames over the socket, the
   * container's stderr (the runtime's own fatal errors) still from the
   * attach stream, the end when either ends.
   */
  async channel(attached: AttachedStdio): Promise<AttachedStdio> {
    let endCb: () => void = () => undefined;
    let ended = false;
    let exited: (e: Error) => void = () => undefined;
    const end = () => {
      if (ended) return;
      ended = true;
      exited(new Error('the sandbox ended before its runtime connected'));
      endCb();
    };
    const died = new Promise<never>((_, reject) => (exited = reject));
    died.catch(() => undefined);
    // A container that dies before connecting fails the start now, not at the ready timeout.
    attached.onEnd(end);
    const sock = await Promise.race([this.accepted, died]);
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', end);
    return {
      write: (data) => sock.write(data),
      onStdout: (cb) => sock.on('data', cb),
      onStderr: (cb) => attached.onStderr(cb),
      onEnd: (cb) => {
        endCb = cb;
        if (ended) cb();
      },
      close: () => {
        sock.destroy();
        attached.close();
      },
    };
  }

  /** Stops waiting (the container failed to start). */
  close(): void {
    this.server.close();
    void this.accepted.then((s) => s.destroy());
  }
}
