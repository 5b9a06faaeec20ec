import { createServer, type Server, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { listenInHome } from '../sandbox/sandbox-home.js';
import { storeErrors, type StoreError } from './store-errors.js';
import type { StoreGrants } from './store-grants.js';
import { FRAME_MAX_BYTES } from './store-protocol.js';
import type { DataRequests } from './data-requests.js';
import { refusal, type Answer } from './store-requests.js';

/** Connections one container may hold (one per thread of tenant code that uses the store, at most). */
const MAX_CONNECTIONS = 8;
/** Requests written ahead on one connection and not answered yet; beyond is not the domaeka module. */
const MAX_QUEUED = 32;

export interface DataSocketOptions {
  socketPath: string;
  grants: StoreGrants;
  requests: DataRequests;
  logger: Logger;
  /** The container, for the log line of a misuse (its id is known only once created). */
  describe: () => Record<string, unknown>;
}

/**
 * The store's transport for one container: a unix socket in the
 * container's home (`/run/kb/data.sock`, mounted read-only into that
 * container only), framed like the runtime channel (4-byte big-endian
 * length + one UTF-8 JSON object, both ways). Tenant code's worker process
 * connects itself: one hop to the runner, while the runtime channel stays
 * the supervisor's, one request and one answer per call. Requests of one
 * connection are answered in order. A frame over FRAME_MAX_BYTES, not
 * JSON or not an object, or too many requests ahead is answered with one
 * `KB_ERR_STORE_PROTOCOL` frame and the connection is closed; nothing
 * else is touched (the container's other connections, its call, other
 * containers).
 */
export class DataSocket {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private closed = false;

  constructor(private readonly opts: DataSocketOptions) {
    this.server = createServer({ noDelay: true }, (socket) => this.serve(socket));
    this.server.maxConnections = MAX_CONNECTIONS;
    this.server.on('error', (err) => opts.logger.error({ err: String(err), socketPath: opts.socketPath }, 'store socket server error'));
  }

  async listen(): Promise<void> {
    await listenInHome(this.server, this.opts.socketPath);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.opts.socketPath, { force: true });
  }

  private serve(socket: Socket): void {
    if (this.closed) return void socket.destroy();
    let buf: Buffer = Buffer.alloc(0);
    let queued = 0;
    let chain: Promise<void> = Promise.resolve();
    // Misused, or gone: requests still waiting are dropped (no database work for an answer nobody reads).
    let broken = false;
    this.sockets.add(socket);
    socket.once('close', () => {
      broken = true;
      this.sockets.delete(socket);
    });
    socket.on('error', () => socket.destroy());
    const misuse = (what: string) => {
      broken = true;
      this.opts.logger.warn({ ...this.opts.describe(), reason: what }, 'store socket misused: the connection is closed');
      send(socket, refusal(null, storeErrors.protocol(what)));
      socket.end();
    };
    socket.on('data', (chunk: Buffer) => {
      if (broken) return;
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (len > FRAME_MAX_BYTES) return misuse(`a frame of ${len} bytes (at most ${FRAME_MAX_BYTES})`);
        if (buf.length < 4 + len) return;
        const raw = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        let frame: unknown;
        try {
          frame = JSON.parse(raw.toString('utf8'));
        } catch {
          return misuse('a frame that is not JSON');
        }
        if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return misuse('a frame that is not a JSON object');
        if (++queued > MAX_QUEUED) return misuse(`more than ${MAX_QUEUED} requests waiting for their answers`);
        const request = frame as Record<string, unknown>;
        chain = chain.then(async () => {
          if (broken) return;
          const answer = await this.answer(request);
          queued--;
          if (!broken) send(socket, answer);
        });
      }
    });
  }

  /** Never rejects: a bug of ours is still a named answer, and the runner goes on. */
  private async answer(request: Record<string, unknown>): Promise<Answer> {
    try {
      return await this.opts.requests.answer(request, this.opts.grants);
    } catch (err) {
      this.opts.logger.error({ ...this.opts.describe(), err: String(err) }, 'store request failed');
      const error: StoreError = storeErrors.unavailable('internal error');
      return refusal(typeof request.id === 'number' ? request.id : null, error);
    }
  }
}

function send(socket: Socket, answer: Answer): void {
  if (socket.destroyed || !socket.writable) return;
  const body = Buffer.from(JSON.stringify(answer), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  socket.write(Buffer.concat([head, body]));
}
