import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';

/**
 * A TCP listener on 127.0.0.1 that accepts and says nothing (a broker that
 * never completes the AMQP handshake), until `forwardTo()` makes it a plain
 * proxy: connections accepted from then on are piped to the real broker.
 * Emits 'accepted' and 'closed' per silent connection, so tests wait for
 * events instead of sleeping.
 */
export class SilentListener extends EventEmitter {
  private target: { host: string; port: number } | null = null;
  private readonly sockets = new Set<Socket>();
  /** Silent connections accepted / closed by their client. */
  accepted = 0;
  closedByClient = 0;

  private constructor(private readonly server: Server) {
    super();
  }

  static async start(): Promise<SilentListener> {
    const server = createServer();
    const l = new SilentListener(server);
    server.on('connection', (s) => l.accept(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return l;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** `amqpUrl` with its host and port replaced by this listener's. */
  urlFor(amqpUrl: string): string {
    const u = new URL(amqpUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  /** From now on new connections go to the broker of `amqpUrl`; silent ones still open are cut (their clients retry). */
  forwardTo(amqpUrl: string): void {
    const u = new URL(amqpUrl);
    this.target = { host: u.hostname, port: Number(u.port || 5672) };
    for (const s of this.sockets) s.destroy();
  }

  /** Open silent connections (the half-open sockets a client failed to drop). */
  get open(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private accept(s: Socket): void {
    s.on('error', () => undefined);
    if (this.target) {
      const up = createConnection(this.target);
      up.on('error', () => s.destroy());
      s.on('close', () => up.destroy());
      up.on('close', () => s.destroy());
      s.pipe(up).pipe(s);
      return;
    }
    this.accepted++;
    this.sockets.add(s);
    s.resume(); // read (and drop) the client's protocol header: its FIN then arrives as 'end'
    s.on('end', () => {
      this.closedByClient++;
      this.emit('closed');
    });
    s.on('close', () => this.sockets.delete(s));
    this.emit('accepted');
  }
}
