import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import tls from 'node:tls';
import type { Logger } from '@domaeka/core';
import { Connection, type ConnectionDeps } from './connection.js';

/**
 * The phones' TCP listener (TLS when a certificate is configured: the
 * signature covers neither room nor text, so untrusted networks need it).
 */
export class BridgeServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly drained = new Set<() => void>();

  constructor(
    deps: Omit<ConnectionDeps, 'onClosed'>,
    tlsOptions: { cert: Buffer; key: Buffer } | null,
    private readonly logger: Logger,
  ) {
    const onSocket = (socket: Socket) => {
      const conn = new Connection(socket, {
        ...deps,
        onClosed: (c) => {
          this.connections.delete(c);
          if (this.connections.size === 0) for (const fn of this.drained) fn();
        },
      });
      this.connections.add(conn);
    };
    this.server = tlsOptions
      ? tls.createServer({ cert: tlsOptions.cert, key: tlsOptions.key, handshakeTimeout: 10_000 }, onSocket)
      : net.createServer(onSocket);
    this.server.on('error', (err) => this.logger.error({ err: String(err) }, 'bridge server error'));
    if (tlsOptions) this.server.on('tlsClientError', (err) => this.logger.debug({ err: String(err) }, 'TLS handshake with a client failed'));
  }

  get size(): number {
    return this.connections.size;
  }

  /** Open connections (tests and ops look at their device). */
  list(): Connection[] {
    return [...this.connections];
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting, closes every phone connection (their replies go back to the queues), waits up to `timeoutMs`. */
  async close(timeoutMs = 3000): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const c of this.connections) c.close();
    if (this.connections.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.drained.add(done);
      });
    }
    await closed;
  }
}
