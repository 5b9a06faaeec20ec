import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { CallLogPayload, RunnerStatsPayload } from '@domaeka/broker';
import type { Logger } from '@domaeka/core';
import { authenticateWith, sessionTokenFrom } from '../http/auth.js';
import type { ApiServices, Caller } from '../services/index.js';
import type { RunView } from '../services/run-service.js';
import type { PlatformMetrics } from '../ops/index.js';
import { ADMIN_ROOM, AdminFeed } from './admin-feed.js';
import type { TailBindings } from './tail-bindings.js';

/** What the browser is sent (socket.io event names and payloads; services/api/README.md "Live"). */
export interface LiveEvents {
  'run:output': (e: { runId: string; seq: number; data: string }) => void;
  'run:stats': (e: { runId: string; elapsedMs: number; cpuPercent: number | null; memoryBytes: number | null; memoryLimitBytes: number }) => void;
  'run:result': (run: RunView) => void;
  'tail:call': (call: TailCall) => void;
  /** Administrators in the `admin` room, every 2 s: what `GET /admin/metrics` answers. */
  'admin:metrics': (m: PlatformMetrics) => void;
}

/** A room call as the live tail shows it. */
export type TailCall = Omit<CallLogPayload, 'tenantId'>;

type Ack = (answer: { ok: true; run?: RunView } | { ok: false; error: { code: string; message: string } }) => void;

const runRoom = (runId: string) => `run:${runId}`;
const tailRoom = (tenantId: string, commandId?: string) => (commandId ? `tail:${tenantId}:${commandId}` : `tail:${tenantId}`);
const tenantOfTailRoom = (room: string) => (room.startsWith('tail:') ? room.split(':')[1] : undefined);

/**
 * The socket.io side of the API (same port, path `/socket.io`): a
 * handshake is authenticated like any request (session cookie, or
 * `auth.token` = an API key), and refused when its Origin is another site
 * (a cookie-authenticated socket must not be opened by a foreign page).
 * Rooms are joined only through the checks here, all scoped to the
 * caller's tenant: `run:join {runId}` (the run must be the tenant's; the
 * answer carries the run so far, so a late joiner catches up) and
 * `tail:join {commandId?}` (the tenant's room calls, all or one command's).
 * `admin:join` (administrators only, else KB_ERR_FORBIDDEN) joins the
 * platform's `admin:metrics` feed.
 */
export class LiveHub {
  private io: Server | null = null;
  private readonly admin: AdminFeed;
  /** Routes a tenant's room calls to this process while one of its tail rooms exists (set once the broker is up). */
  tailBindings: TailBindings | null = null;

  constructor(
    private readonly services: () => ApiServices,
    private readonly logger: Logger,
  ) {
    this.admin = new AdminFeed(() => this.io, () => this.services().ops.metrics.snapshot(), logger);
  }

  attach(server: HttpServer): void {
    const io = new Server(server, {
      path: '/socket.io',
      serveClient: false,
      // Through the web server's proxy the browser sees one origin; anything else is refused below.
      cors: { origin: false },
      maxHttpBufferSize: 64 * 1024,
      allowRequest: (req, cb) => cb(null, sameOrigin(req.headers.origin, req.headers.host)),
    });
    io.use((socket, next) => {
      const token = typeof socket.handshake.auth?.token === 'string' ? `Bearer ${socket.handshake.auth.token}` : undefined;
      authenticateWith(this.services(), token, sessionTokenFrom(socket.handshake.headers.cookie)).then(
        (caller) => {
          if (!caller) return next(new Error('KB_ERR_UNAUTHENTICATED'));
          socket.data.caller = caller;
          next();
        },
        (err: unknown) => next(new Error(`KB_ERR_INTERNAL: ${String(err)}`)),
      );
    });
    io.on('connection', (socket) => this.connected(socket));
    // A tail room exists while someone is in it: that is when the tenant's calls must come here.
    io.of('/').adapter.on('create-room', (room: string) => {
      const tenantId = tenantOfTailRoom(room);
      if (tenantId) void this.tailBindings?.watch(tenantId);
    });
    io.of('/').adapter.on('delete-room', (room: string) => {
      const tenantId = tenantOfTailRoom(room);
      if (tenantId) this.tailBindings?.unwatch(tenantId);
    });
    this.io = io;
  }

  async close(): Promise<void> {
    const io = this.io;
    this.io = null;
    this.admin.stop();
    if (!io) return;
    io.disconnectSockets(true);
    // Not io.close(): that closes the HTTP server too, which fastify closes itself.
    io.removeAllListeners();
  }

  runOutput(runId: string, seq: number, data: string): void {
    this.io?.to(runRoom(runId)).emit('run:output', { runId, seq, data });
  }

  runStats(runId: string, s: RunnerStatsPayload): void {
    this.io?.to(runRoom(runId)).emit('run:stats', { runId, elapsedMs: s.elapsedMs, cpuPercent: s.cpuPercent, memoryBytes: s.memoryBytes, memoryLimitBytes: s.memoryLimitBytes });
  }

  runResult(run: RunView): void {
    this.io?.to(runRoom(run.id)).emit('run:result', run);
  }

  tail(c: CallLogPayload): void {
    if (!this.io) return;
    const { tenantId, ...call } = c;
    // One emit to both rooms: a socket in both gets the call once.
    this.io.to([tailRoom(tenantId), tailRoom(tenantId, c.commandId)]).emit('tail:call', call);
  }

  private connected(socket: Socket): void {
    const caller = socket.data.caller as Caller;
    socket.on('run:join', (arg: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as Ack) : () => undefined;
      const runId = arg && typeof arg === 'object' ? (arg as { runId?: unknown }).runId : undefined;
      if (typeof runId !== 'string' || !/^[0-9a-f-]{36}$/i.test(runId)) return reply(bad('runId must be a run id'));
      // Join first, then read: an event between the two is seen twice at worst, never missed.
      void socket.join(runRoom(runId));
      this.services()
        .runs.get(caller, runId)
        .then(
          (run) => reply({ ok: true, run }),
          (err: { code?: string; message?: string }) => {
            void socket.leave(runRoom(runId));
            reply({ ok: false, error: { code: err.code ?? 'KB_ERR_INTERNAL', message: err.message ?? String(err) } });
          },
        );
    });
    socket.on('run:leave', (arg: unknown) => {
      const runId = arg && typeof arg === 'object' ? (arg as { runId?: unknown }).runId : undefined;
      if (typeof runId === 'string') void socket.leave(runRoom(runId));
    });
    socket.on('tail:join', (arg: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as Ack) : () => undefined;
      const raw = arg && typeof arg === 'object' ? (arg as { commandId?: unknown }).commandId : undefined;
      // The answer waits until the tenant's calls are routed here: a call finished after it is on the tail.
      const joined = () => this.tailBindings?.settled() ?? Promise.resolve();
      if (raw === undefined || raw === null) {
        void socket.join(tailRoom(caller.tenantId));
        return void joined().then(() => reply({ ok: true }));
      }
      const commandId = String(raw);
      if (!/^\d{1,18}$/.test(commandId)) return reply(bad('commandId must be a command id'));
      this.services()
        .commands.get(caller, Number(commandId))
        .then(
          () => {
            void socket.join(tailRoom(caller.tenantId, commandId));
            return joined().then(() => reply({ ok: true }));
          },
          (err: { code?: string; message?: string }) => reply({ ok: false, error: { code: err.code ?? 'KB_ERR_INTERNAL', message: err.message ?? String(err) } }),
        );
    });
    socket.on('tail:leave', () => {
      for (const room of socket.rooms) if (room.startsWith('tail:')) void socket.leave(room);
    });
    socket.on('admin:join', (_arg: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as Ack) : () => undefined;
      if (!caller.isAdmin) return reply({ ok: false, error: { code: 'KB_ERR_FORBIDDEN', message: '권한이 없습니다 / forbidden: administrators only' } });
      void socket.join(ADMIN_ROOM);
      this.admin.joined();
      reply({ ok: true });
    });
    socket.on('admin:leave', () => void socket.leave(ADMIN_ROOM));
    socket.on('error', (err) => this.logger.debug({ err: String(err) }, 'socket error'));
  }
}

function bad(message: string) {
  return { ok: false as const, error: { code: 'KB_ERR_VALIDATION', message } };
}

/** No Origin (a script, a test client) or the API's own host; a page of another site is refused. */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
