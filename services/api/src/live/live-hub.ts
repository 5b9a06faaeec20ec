import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { AccessRevokedPayload, CallLogPayload, ChangedPayload, DevicePresencePayload, RunnerStatsPayload } from '@domaeka/broker';
import type { ClientToServerEvents, JoinAnswer, RunJoinAnswer, RunView, ServerToClientEvents } from '@domaeka/broker/contracts';
import type { Logger } from '@domaeka/core';
import { authenticateWith, sessionTokenFrom } from '../http/auth.js';
import { parseBigintId, parseUuid } from '../http/ids.js';
import type { ApiServices } from '../wiring.js';
import { ADMIN_ROOM, AdminFeed } from './admin-feed.js';
import { AUTH_ENDED, botTailRoom, SocketGuard } from './socket-guard.js';
import type { LiveServer, LiveSocket } from './live-server.js';
import type { TailBindings } from './tail-bindings.js';

type Ack = (answer: JoinAnswer | RunJoinAnswer) => void;
type Failure = { code?: string; message?: string };

const runRoom = (runId: string) => `run:${runId}`;
const tailRoom = (tenantId: string, commandId?: string) => (commandId ? `tail:${tenantId}:${commandId}` : `tail:${tenantId}`);
const tenantOfTailRoom = (room: string) => (room.startsWith('tail:') ? room.split(':')[1] : undefined);
/** The tenant's phones: connected, gone, approved or blocked (the bot pages and the top menu). */
const devicesRoom = (tenantId: string) => `devices:${tenantId}`;

/**
 * The socket.io side of the API (same port, path `/socket.io`): a
 * handshake is authenticated like any request (session cookie, or
 * `auth.token` = an API key), and refused when its Origin is another site
 * (a cookie-authenticated socket must not be opened by a foreign page).
 * Rooms are joined only through the checks here, all scoped to the
 * caller's tenant, and every check completes before `socket.join` (as
 * Phoenix Channels authorise in `join/3` before the topic is subscribed):
 * a refused socket is never in the room, not even for the moment a lookup
 * takes. Each join first re-authenticates the socket (SocketGuard: logout,
 * expiry, a revoked key end it). `run:join {runId}` (the run must be the
 * tenant's; the answer carries the run so far, read again once in the
 * room, so a late joiner catches up without a gap), `tail:join
 * {commandId?} | {botId}` (the tenant's room calls: all, one command's or
 * one bot's). `admin:join` (administrators only, else KB_ERR_FORBIDDEN)
 * joins the platform's `admin:metrics` feed. `devices:join` joins the
 * tenant's `device:presence` and `devices:changed` events. Event names and payloads, both
 * ways: `ServerToClientEvents`, `ClientToServerEvents` (@domaeka/broker/contracts,
 * live-events.ts), the map the web's socket is typed with too.
 */
export class LiveHub {
  private io: LiveServer | null = null;
  private readonly admin: AdminFeed;
  private readonly guard: SocketGuard;
  /** Routes a tenant's room calls to this process while one of its tail rooms exists (set once the broker is up). */
  tailBindings: TailBindings | null = null;

  constructor(
    private readonly services: () => ApiServices,
    private readonly logger: Logger,
    opts: { recheckMs?: number } = {},
  ) {
    this.admin = new AdminFeed(() => this.io, () => this.services().ops.metrics.snapshot(), logger);
    this.guard = new SocketGuard(() => this.io, services, logger, opts.recheckMs);
  }

  attach(server: HttpServer): void {
    const io = new Server<ClientToServerEvents, ServerToClientEvents>(server, {
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
          this.guard.admitted(socket, caller);
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
    this.guard.start();
  }

  /** `access.revoked` from the broker (any API process, this one included). */
  revoked(e: AccessRevokedPayload): Promise<void> {
    return this.guard.revoked(e);
  }

  async close(): Promise<void> {
    const io = this.io;
    this.io = null;
    this.admin.stop();
    this.guard.stop();
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
    // A call of a deleted bot finishing late (a dispatcher that had it cached) is shown to nobody.
    if (this.guard.isDeletedBot(c.botId)) return;
    // One emit to every room: a socket in several gets the call once.
    this.io.to([tailRoom(tenantId), tailRoom(tenantId, c.commandId), botTailRoom(tenantId, c.botId)]).emit('tail:call', call);
  }

  devicePresence(p: DevicePresencePayload): void {
    if (this.guard.isDeletedBot(p.botId)) return;
    this.io?.to(devicesRoom(p.tenantId)).emit('device:presence', { botId: p.botId, deviceKey: p.deviceKey, status: p.status, online: p.online, at: p.at });
  }

  /** `changed`: only the devices of a tenant's bot concern the pages (approved or blocked, in this tab or another). */
  devicesChanged(c: ChangedPayload): void {
    if (c.entity !== 'device' || !c.tenantId) return;
    this.io?.to(devicesRoom(c.tenantId)).emit('devices:changed', { botId: c.botId });
  }

  private connected(socket: LiveSocket): void {
    const refuse = (reply: Ack) => (err: Failure) => reply({ ok: false, error: { code: err.code ?? 'KB_ERR_INTERNAL', message: err.message ?? String(err) } });
    /** The socket's caller as of now; null: its credentials ended (told, answered and disconnected). */
    const caller = async (reply: Ack) => this.guard.current(socket, () => reply({ ok: false, error: AUTH_ENDED }));
    /** Joins only a socket still connected (a revocation may have closed it meanwhile). */
    const join = (room: string) => socket.connected && (void socket.join(room), true);

    socket.on('run:join', (arg: unknown, ack: unknown) => {
      const reply = ackOf(ack);
      const runId = parseUuid(arg && typeof arg === 'object' ? (arg as { runId?: unknown }).runId : undefined);
      if (runId === null) return reply(bad('runId must be a run id'));
      void (async () => {
        const who = await caller(reply);
        if (!who) return;
        // The owner check first: a run of another tenant is NOT_FOUND and the socket never enters its room.
        await this.services().runs.get(who, runId);
        if (!join(runRoom(runId))) return;
        // Read again once in the room: an event between the two reads is seen twice at worst, never missed.
        reply({ ok: true, run: await this.services().runs.get(who, runId) });
      })().catch(refuse(reply));
    });
    socket.on('run:leave', (arg: unknown) => {
      const runId = arg && typeof arg === 'object' ? (arg as { runId?: unknown }).runId : undefined;
      if (typeof runId === 'string') void socket.leave(runRoom(runId));
    });
    socket.on('tail:join', (arg: unknown, ack: unknown) => {
      const reply = ackOf(ack);
      const a = arg && typeof arg === 'object' ? (arg as { commandId?: unknown; botId?: unknown }) : {};
      const given = (v: unknown) => v !== undefined && v !== null;
      if (given(a.commandId) && given(a.botId)) return reply(bad('commandId or botId, not both'));
      const commandId = given(a.commandId) ? parseBigintId(a.commandId) : null;
      const botId = given(a.botId) ? parseUuid(a.botId) : null;
      if (given(a.commandId) && commandId === null) return reply(bad('commandId must be a command id'));
      if (given(a.botId) && botId === null) return reply(bad('botId must be a bot id'));
      void (async () => {
        const who = await caller(reply);
        if (!who) return;
        let room = tailRoom(who.tenantId);
        if (commandId !== null) {
          await this.services().commands.get(who, commandId);
          room = tailRoom(who.tenantId, String(commandId));
        } else if (botId !== null) {
          await this.services().bots.get(who, botId);
          room = botTailRoom(who.tenantId, botId);
        }
        if (!join(room)) return;
        // The answer waits until the tenant's calls are routed here: a call finished after it is on the tail.
        await (this.tailBindings?.settled() ?? Promise.resolve());
        reply({ ok: true });
      })().catch(refuse(reply));
    });
    socket.on('tail:leave', () => {
      for (const room of socket.rooms) if (room.startsWith('tail:')) void socket.leave(room);
    });
    socket.on('admin:join', (_arg: unknown, ack: unknown) => {
      const reply = ackOf(ack);
      void (async () => {
        const who = await caller(reply);
        if (!who) return;
        if (!who.isAdmin) return reply({ ok: false, error: { code: 'KB_ERR_FORBIDDEN', message: '권한이 없습니다 / forbidden: administrators only' } });
        if (!join(ADMIN_ROOM)) return;
        this.admin.joined();
        reply({ ok: true });
      })().catch(refuse(reply));
    });
    socket.on('admin:leave', () => void socket.leave(ADMIN_ROOM));
    socket.on('devices:join', (_arg: unknown, ack: unknown) => {
      const reply = ackOf(ack);
      void (async () => {
        const who = await caller(reply);
        if (!who || !join(devicesRoom(who.tenantId))) return;
        reply({ ok: true });
      })().catch(refuse(reply));
    });
    socket.on('devices:leave', () => {
      for (const room of socket.rooms) if (room.startsWith('devices:')) void socket.leave(room);
    });
    socket.on('error', (err) => this.logger.debug({ err: String(err) }, 'socket error'));
  }
}

function ackOf(ack: unknown): Ack {
  return typeof ack === 'function' ? (ack as Ack) : () => undefined;
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
