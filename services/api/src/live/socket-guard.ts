import type { AccessRevokedPayload } from '@domaeka/broker';
import type { LiveError } from '@domaeka/broker/contracts';
import type { Logger } from '@domaeka/core';
import { authenticateWith, sessionTokenFrom } from '../http/auth.js';
import type { ApiServices, Caller } from '../wiring.js';
import type { LiveServer, LiveSocket } from './live-server.js';

/** How often every socket's credentials are checked again (LIVE_RECHECK_MS). */
export const LIVE_RECHECK_MS = 60_000;
/** Deleted bots remembered, so a call finishing late (a dispatcher's cached bot) reaches no tail. */
const DELETED_BOTS_KEPT = 10_000;
const DELETED_BOT_TTL_MS = 60 * 60 * 1000;

/** A user's private room: where the revocation of one of their credentials looks for sockets. */
export const userRoom = (userId: string) => `user:${userId}`;
export const botTailRoom = (tenantId: string, botId: string) => `tail:${tenantId}:bot:${botId}`;

/** What a socket is told before the server closes it. */
export const AUTH_ENDED: LiveError = { code: 'KB_ERR_UNAUTHENTICATED', message: '로그인이 끝났습니다. 다시 로그인해 주세요 (signed out or key revoked: authenticate again)' };

/**
 * A socket lives no longer than what authenticated it. The socket keeps
 * its handshake (the session cookie or the API key), and the one rule of
 * HTTP requests (`authenticateWith`) is applied to it again:
 * - before every join (`current`): a socket whose session was logged out,
 *   expired or whose key was revoked is told `auth:ended` and disconnected
 *   instead of joining; the fresh caller decides the join (admin role too);
 * - every LIVE_RECHECK_MS for every socket (sessions expire without an event);
 * - at once on `access.revoked` from any API process (the broker event):
 *   the user's sockets (each socket is in its user's private room) are
 *   re-authenticated, so only those of the ended credential go; a deleted
 *   bot's tails are told `tail:ended` and left, and its late calls dropped.
 * Followed: socket.io's guidance for sessions (a room per session/user to
 * disconnect on logout, a periodic check for expiry) and Phoenix's
 * `live_socket_id` (one topic per user, a `disconnect` broadcast on logout
 * reaching every node), with the database as the one judge.
 */
export class SocketGuard {
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;
  private readonly deletedBots = new Map<string, number>();

  constructor(
    private readonly io: () => LiveServer | null,
    private readonly services: () => ApiServices,
    private readonly logger: Logger,
    private readonly recheckMs = LIVE_RECHECK_MS,
  ) {}

  /** The handshake's caller: the socket enters its user's room. */
  admitted(socket: LiveSocket, caller: Caller): void {
    socket.data.caller = caller;
    void socket.join(userRoom(caller.userId));
  }

  /**
   * The socket's caller as the database says now, or null: then the socket
   * has been told (`refused` first: a join's answer goes out before the
   * close) and disconnected. Throws when the database cannot say (the join
   * is refused, the socket kept).
   */
  async current(socket: LiveSocket, refused?: () => void): Promise<Caller | null> {
    const token = typeof socket.handshake.auth?.token === 'string' ? `Bearer ${socket.handshake.auth.token}` : undefined;
    const caller = await authenticateWith(this.services(), token, sessionTokenFrom(socket.handshake.headers.cookie));
    if (!caller || !socket.connected) {
      refused?.();
      this.end(socket);
      return null;
    }
    const before = socket.data.caller as Caller;
    socket.data.caller = caller;
    // No longer an administrator: out of the admin feed.
    if (before.isAdmin && !caller.isAdmin) void socket.leave('admin');
    return caller;
  }

  /** A bot deleted on some process: calls of it reach no tail from now on. */
  isDeletedBot(botId: string): boolean {
    return this.deletedBots.has(botId);
  }

  /** `access.revoked` from any API process (this one included). */
  async revoked(e: AccessRevokedPayload): Promise<void> {
    const io = this.io();
    if (!io) return;
    if (e.reason === 'bot_deleted') {
      if (e.botId) this.botDeleted(io, e.tenantId, e.botId);
      return;
    }
    const all = io.sockets.sockets;
    const ids = e.userId ? [...(io.sockets.adapter.rooms.get(userRoom(e.userId)) ?? [])] : [...all.keys()];
    for (const id of ids) {
      const socket = all.get(id);
      if (socket && (socket.data.caller as Caller | undefined)?.tenantId === e.tenantId) await this.check(socket, e.reason);
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), this.recheckMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Every socket of this process, one at a time (a thousand sockets must not take the pool at once). */
  private async sweep(): Promise<void> {
    const io = this.io();
    if (!io || this.sweeping) return;
    this.sweeping = true;
    try {
      for (const socket of [...io.sockets.sockets.values()]) await this.check(socket, 'recheck');
    } finally {
      this.sweeping = false;
    }
  }

  private async check(socket: LiveSocket, why: string): Promise<void> {
    try {
      if (!(await this.current(socket))) this.logger.info({ socketId: socket.id, why }, 'live socket closed: its credentials ended');
    } catch (err) {
      // The database is away: the socket stays until it can be judged (its next join is refused meanwhile).
      this.logger.warn({ err: String(err), socketId: socket.id }, 'live socket re-check failed');
    }
  }

  private end(socket: LiveSocket): void {
    if (socket.connected) socket.emit('auth:ended', AUTH_ENDED);
    socket.disconnect(true);
  }

  private botDeleted(io: LiveServer, tenantId: string, botId: string): void {
    const now = Date.now();
    this.deletedBots.set(botId, now);
    for (const [id, at] of this.deletedBots) {
      if (this.deletedBots.size <= DELETED_BOTS_KEPT && now - at < DELETED_BOT_TTL_MS) break;
      this.deletedBots.delete(id);
    }
    const room = botTailRoom(tenantId, botId);
    io.to(room).emit('tail:ended', { botId, reason: 'bot_deleted' });
    io.in(room).socketsLeave(room);
  }
}
