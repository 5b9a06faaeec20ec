import { Bot, Device } from '../db/entities/index.js';
import type { Orm } from '../db/em.js';

/** The phones of a tenant's bots as the connection step and the pending badge read them (`devices` rows the gateway writes). */
export class PhoneStatusRepository {
  constructor(private readonly orm: Orm) {}

  /** Phones of any of the tenant's bots that wait for approval, first seen first, with their bot's name. */
  async pending(tenantId: string): Promise<{ bot: Bot; device: Device }[]> {
    const em = this.orm.em.fork();
    const bots = await em.find(Bot, { tenantId });
    if (bots.length === 0) return [];
    const byId = new Map(bots.map((b) => [b.id, b]));
    const devices = await em.find(Device, { botId: { $in: [...byId.keys()] }, status: 'pending' }, { orderBy: { firstSeenAt: 'asc' } });
    return devices.map((device) => ({ bot: byId.get(device.botId)!, device }));
  }

  /** The bot's phone heard from last; undefined when the tenant has no such bot, null when it has no phone yet. */
  async latest(tenantId: string, botId: string): Promise<Device | null | undefined> {
    const em = this.orm.em.fork();
    if ((await em.count(Bot, { id: botId, tenantId })) === 0) return undefined;
    return em.findOne(Device, { botId }, { orderBy: { lastSeenAt: 'desc' } });
  }
}
