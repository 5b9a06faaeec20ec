import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import tls from 'node:tls';
import type { Logger } from '@domaeka/core';
import { capNotices } from '../protocol/rejections.js';
import { encodeError } from '../protocol/packet-codec.js';
import { ConnectionCaps, type CapReason } from './connection-caps.js';
import { Connection, type ConnectionDeps } from './connection.js';

/**
 * The phones' TCP listener (TLS when a certificate is configured: the
 * signature covers neither room nor text, so untrusted networks need it).
 *
 * Every accepted socket passes the connection caps first. One over a cap
 * gets an `error` packet (`TOO_MANY_CONNECTIONS`, Korean first) and is
 * closed, rather than dropped without a word: the kernel has already
 * completed the TCP handshake by the time we can look at the source, so
 * refusing "at accept" only differs in what the phone learns. The bridge
 * script reconnects after its backoff either way; with the packet its log
 * and a packet capture say why.
 */
export class BridgeServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly drained = new Set<() => void>();
  readonly caps: ConnectionCaps;
  /** Refusals are logged at most once a second (with the number since), so a flood does not flood the log. */
  private refusalLog = { at: 0, suppressed: 0 };

  constructor(
    private readonly deps: Omit<ConnectionDeps, 'onClosed' | 'caps'>,
    tlsOptions: { cert: Buffer; key: Buffer } | null,
    private readonly logger: Logger,
  ) {
    this.caps = new ConnectionCaps(deps.limits);
    const connDeps: ConnectionDeps = {
      ...deps,
      caps: this.caps,
      onClosed: (c) => {
        this.connections.delete(c);
        if (this.connections.size === 0) for (const fn of this.drained) fn();
      },
    };
    const onSocket = (socket: Socket) => {
      const admitted = this.caps.admit(socket.remoteAddress);
      if (!admitted.ok) return this.refuse(socket, admitted.reason);
      this.connections.add(new Connection(socket, connDeps, admitted.ticket));
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

  private refuse(socket: Socket, reason: CapReason): void {
    this.deps.metrics.connectionRefused(reason);
    const now = Date.now();
    if (now - this.refusalLog.at >= 1000) {
      this.logger.warn({ remote: socket.remoteAddress, reason, alsoRefusedSince: this.refusalLog.suppressed }, 'connection refused by a cap');
      this.refusalLog = { at: now, suppressed: 0 };
    } else this.refusalLog.suppressed++;
    const n = capNotices[reason];
    socket.on('error', () => undefined);
    // Read and discard (the phone sends its handshake at once): unread input would turn our FIN into an RST that may destroy the notice.
    socket.on('data', () => undefined);
    socket.end(encodeError(n.code, n.message, this.deps.timezone));
    setTimeout(() => socket.destroy(), 1000).unref();
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
