import type { AnalyzePayload } from '@domaeka/broker';

export interface HeldLimits {
  /** A kept command older than this is dropped (the room has moved on; an answer now would confuse it). */
  ttlMs: number;
  /** Commands kept per pending phone; past it the oldest goes. */
  perDevice: number;
  /** Pending phones with commands kept in this process; past it the phone kept longest goes. */
  maxDevices: number;
}

/** 10 minutes, 20 per phone, 1,000 phones (issue 16). */
export const HELD_LIMITS: HeldLimits = { ttlMs: 10 * 60_000, perDevice: 20, maxDevices: 1000 };

interface Held {
  botId: string;
  items: { payload: AnalyzePayload; at: number }[];
}

/**
 * The commands a phone relayed while it awaited approval (issue 16). They
 * used to be lost: a pending phone's events are ignored. Only the
 * dispatcher knows which events were ignored for that reason (a gateway's
 * idea of a phone's status lags the approval), so it keeps them here, in
 * this process's memory, bounded in age, per phone and in phones: lost
 * when the dispatcher restarts. When the owner approves the phone
 * (`changed`, see HeldRelease) they are published again as new events; the
 * outbox takes a chat message's (bot, room, log_id) once, so each is
 * answered once. Only events with a log_id are kept.
 */
export class HeldEvents {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly clock: () => number,
    private readonly limits: HeldLimits = HELD_LIMITS,
  ) {}

  /** Keeps a pending phone's command; false when it cannot be deduplicated (no phone or no log id). */
  hold(payload: AnalyzePayload): boolean {
    const deviceId = payload.deviceId;
    if (!deviceId || payload.logId === null || this.limits.perDevice === 0) return false;
    const now = this.clock();
    let h = this.held.get(deviceId);
    if (!h) {
      if (this.held.size >= this.limits.maxDevices) this.held.delete(this.held.keys().next().value!);
      h = { botId: payload.botId, items: [] };
      this.held.set(deviceId, h);
    }
    h.items = h.items.filter((i) => now - i.at < this.limits.ttlMs);
    // A redelivery of an event already kept is kept once.
    if (!h.items.some((i) => i.payload.logId === payload.logId && i.payload.channelId === payload.channelId)) h.items.push({ payload, at: now });
    if (h.items.length > this.limits.perDevice) h.items.splice(0, h.items.length - this.limits.perDevice);
    return true;
  }

  /** Phones of the bot (every bot's when null) with commands kept. */
  devicesOf(botId: string | null): { deviceId: string; botId: string }[] {
    const out: { deviceId: string; botId: string }[] = [];
    for (const [deviceId, h] of this.held) if (botId === null || h.botId === botId) out.push({ deviceId, botId: h.botId });
    return out;
  }

  /** The phone was approved: its commands still young enough, oldest first (and no longer kept). */
  release(deviceId: string): AnalyzePayload[] {
    const now = this.clock();
    const items = this.held.get(deviceId)?.items ?? [];
    this.held.delete(deviceId);
    return items.filter((i) => now - i.at < this.limits.ttlMs).map((i) => i.payload);
  }

  /** Blocked or gone: its commands are never answered. */
  drop(deviceId: string): void {
    this.held.delete(deviceId);
  }

  /** Commands kept now (metrics, tests). */
  get size(): number {
    let n = 0;
    for (const h of this.held.values()) n += h.items.length;
    return n;
  }
}
