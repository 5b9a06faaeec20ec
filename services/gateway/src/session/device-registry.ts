import { REPLY_TTL_MS } from '@domaeka/broker';
import type { Clock } from '../clock.js';

/** A connection that counts for a device (it signed a packet). */
export interface LiveDevice {
  /** Stops taking replies and closes the socket (a newer signed connection took over). */
  retire(reason: string): Promise<void>;
}

/**
 * Which connection holds each device (by devices.id), and the reply ids
 * already written to each device. A reply id is remembered for the reply
 * TTL: a redelivered reply (a dispatcher republish, or our own ack lost) is
 * then dropped instead of reaching the room twice.
 */
export class DeviceRegistry {
  private readonly live = new Map<string, LiveDevice>();
  private readonly claims = new Map<string, Promise<void>>();
  private readonly written = new Map<string, Map<string, number>>();

  constructor(
    private readonly clock: Clock,
    private readonly maxIdsPerDevice = 50_000,
  ) {}

  get size(): number {
    return this.live.size;
  }

  holder(deviceId: string): LiveDevice | undefined {
    return this.live.get(deviceId);
  }

  /**
   * Makes `conn` the device's connection, retiring the previous holder
   * first (its reply consumer stops before the new one starts, so one
   * device's queue never feeds two sockets). Claims of one device run in turn.
   */
  claim(deviceId: string, conn: LiveDevice): Promise<void> {
    const prev = this.claims.get(deviceId) ?? Promise.resolve();
    const next = prev.then(async () => {
      const old = this.live.get(deviceId);
      this.live.set(deviceId, conn);
      if (old && old !== conn) await old.retire('replaced by a newer signed connection of the same device').catch(() => undefined);
    });
    const settled = next.catch(() => undefined);
    this.claims.set(deviceId, settled);
    void settled.then(() => {
      if (this.claims.get(deviceId) === settled) this.claims.delete(deviceId);
    });
    return next;
  }

  release(deviceId: string, conn: LiveDevice): void {
    if (this.live.get(deviceId) === conn) this.live.delete(deviceId);
  }

  /** True (and the id reserved) when this reply was not written to the device yet. */
  reserveReply(deviceId: string, replyId: string): boolean {
    let ids = this.written.get(deviceId);
    if (!ids) {
      ids = new Map();
      this.written.set(deviceId, ids);
    }
    const now = this.clock.now();
    const exp = ids.get(replyId);
    if (exp !== undefined && exp > now) return false;
    // Sweep a few expired ids from the front (insertion order = expiry order).
    let budget = 8;
    for (const [id, e] of ids) {
      if (budget-- <= 0 || e > now) break;
      ids.delete(id);
    }
    ids.delete(replyId);
    ids.set(replyId, now + REPLY_TTL_MS);
    if (ids.size > this.maxIdsPerDevice) {
      const oldest = ids.keys().next().value;
      if (oldest !== undefined) ids.delete(oldest);
    }
    return true;
  }

  /** Drops expired reply ids of every device (devices that went away included). */
  sweep(): void {
    const now = this.clock.now();
    for (const [deviceId, ids] of this.written) {
      for (const [id, exp] of ids) {
        if (exp > now) break;
        ids.delete(id);
      }
      if (ids.size === 0) this.written.delete(deviceId);
    }
  }

  /** The write failed: the reply was not written after all. */
  unreserveReply(deviceId: string, replyId: string): void {
    this.written.get(deviceId)?.delete(replyId);
  }
}
