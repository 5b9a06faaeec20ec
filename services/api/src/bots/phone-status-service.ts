import type { BotConnectionView, PendingDeviceView } from '@domaeka/broker/contracts';
import type { Caller } from '../accounts/caller.js';
import type { Orm } from '../db/em.js';
import { apiErrors } from '../errors.js';
import { PhoneStatusRepository } from './phone-status-repository.js';

/**
 * A phone is connected when the gateway heard from it lately: it pings every
 * 30 s and writes each pong's time (`devices.last_seen_at`, in batches of a
 * second), so three missed pings mean gone. The pages learn of changes live
 * (`device:presence`); this answers where they start from.
 */
export const ONLINE_WINDOW_MS = 90_000;

/** The phones' side of the bot pages (issue 16): the connection step and the top menu's pending badge. */
export class PhoneStatusService {
  private readonly phones: PhoneStatusRepository;

  constructor(
    orm: Orm,
    private readonly clock: () => number = Date.now,
  ) {
    this.phones = new PhoneStatusRepository(orm);
  }

  async pending(caller: Caller): Promise<PendingDeviceView[]> {
    return (await this.phones.pending(caller.tenantId)).map(({ bot, device }) => ({
      botId: bot.id,
      botName: bot.name,
      deviceKey: device.deviceKey,
      info: device.deviceInfo,
      firstSeenAt: device.firstSeenAt,
      lastSeenAt: device.lastSeenAt,
    }));
  }

  async connection(caller: Caller, botId: string): Promise<BotConnectionView> {
    const latest = await this.phones.latest(caller.tenantId, botId);
    if (latest === undefined) throw apiErrors.notFound('bot');
    if (latest === null) return { online: false, latest: null };
    return {
      online: latest.status !== 'blocked' && this.clock() - latest.lastSeenAt.getTime() < ONLINE_WINDOW_MS,
      latest: { deviceKey: latest.deviceKey, status: latest.status, lastSeenAt: latest.lastSeenAt },
    };
  }
}
