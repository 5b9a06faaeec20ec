import type { PlatformMetrics } from '@domaeka/broker/contracts';
import type { Logger } from '@domaeka/core';
import type { LiveServer } from './live-server.js';

export const ADMIN_ROOM = 'admin';
/** How often the room gets `admin:metrics`. */
export const ADMIN_FEED_MS = 2000;

/**
 * `admin:metrics` to the `admin` room (administrators only: LiveHub checks
 * the role on `admin:join`) every ADMIN_FEED_MS, the same object as
 * `GET /admin/metrics`. The timer runs only while somebody is in the room:
 * it starts on a join and stops at the first tick that finds it empty.
 */
export class AdminFeed {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly io: () => LiveServer | null,
    private readonly snapshot: () => Promise<PlatformMetrics>,
    private readonly logger: Logger,
    private readonly intervalMs = ADMIN_FEED_MS,
  ) {}

  /** Somebody joined: send a snapshot now (no waiting for the next tick) and keep the timer running. */
  joined(): void {
    void this.tick();
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    const io = this.io();
    const members = io?.sockets.adapter.rooms.get(ADMIN_ROOM)?.size ?? 0;
    if (!io || members === 0) return this.stop();
    // A snapshot slower than the interval is not stacked up.
    if (this.busy) return;
    this.busy = true;
    try {
      io.to(ADMIN_ROOM).emit('admin:metrics', await this.snapshot());
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'admin metrics snapshot failed');
    } finally {
      this.busy = false;
    }
  }
}
