import { randomUUID } from 'node:crypto';
import { Bot, Device, Room } from '../db/entities/index.js';
import type { Em, Orm } from '../db/em.js';

/** What a device or room update found missing: the bot (among the tenant's) or the row itself. */
export type Missing = { missing: 'bot' | 'device' | 'room' };

/**
 * A tenant's bots (`bots`) and the phones and rooms they have seen
 * (`devices`, `rooms`: rows of the gateway and the dispatcher, reached
 * through a bot of the tenant). Every method takes the tenant id first, but
 * `nameTaken`: bot names are unique across tenants (phones identify their
 * bot by name alone).
 */
export class BotRepository {
  constructor(private readonly orm: Orm) {}

  /** Across every tenant: a bot other than `exceptId` whose name or compared form (bot-rules.ts) is this one. */
  async nameTaken(name: string, nameKey: string, exceptId?: string): Promise<boolean> {
    const where = exceptId === undefined ? { $or: [{ nameKey }, { name }] } : { $or: [{ nameKey }, { name }], id: { $ne: exceptId } };
    return (await this.orm.em.fork().count(Bot, where)) > 0;
  }

  /** Inserts a bot (a name taken meanwhile fails on the unique names). */
  async create(tenantId: string, b: { name: string; nameKey: string; secretKeyEnc: string; saltEnc: string }): Promise<Bot> {
    const em = this.orm.em.fork();
    const bot = em.create(Bot, { id: randomUUID(), tenantId, ...b, manualRoomApproval: false, isActive: true, createdAt: new Date() });
    await em.flush();
    return bot;
  }

  /** Oldest first. */
  list(tenantId: string): Promise<Bot[]> {
    return this.orm.em.fork().find(Bot, { tenantId }, { orderBy: { createdAt: 'asc' } });
  }

  get(tenantId: string, id: string): Promise<Bot | null> {
    return this.orm.em.fork().findOne(Bot, { id, tenantId });
  }

  /** Loads the tenant's bot, lets `change` edit it (or throw: nothing is written), writes what changed; null when the tenant has no such bot. */
  async edit(tenantId: string, id: string, change: (bot: Bot) => void | Promise<void>): Promise<Bot | null> {
    const em = this.orm.em.fork();
    const bot = await em.findOne(Bot, { id, tenantId });
    if (!bot) return null;
    await change(bot);
    await em.flush();
    return bot;
  }

  /** Deletes the bot (its devices and rooms go with it, its call logs stay); false when the tenant has no such bot. */
  async remove(tenantId: string, id: string): Promise<boolean> {
    return (await this.orm.em.fork().nativeDelete(Bot, { id, tenantId })) > 0;
  }

  /** The bot's phones, last seen first; null when the tenant has no such bot. */
  async devices(tenantId: string, botId: string): Promise<Device[] | null> {
    const em = this.orm.em.fork();
    if (!(await owns(em, tenantId, botId))) return null;
    return em.find(Device, { botId }, { orderBy: { lastSeenAt: 'desc' } });
  }

  /** `deviceKey` is the phone's own deviceID. */
  async setDeviceStatus(tenantId: string, botId: string, deviceKey: string, status: Device['status']): Promise<Device | Missing> {
    const em = this.orm.em.fork();
    if (!(await owns(em, tenantId, botId))) return { missing: 'bot' };
    const device = await em.findOne(Device, { botId, deviceKey });
    if (!device) return { missing: 'device' };
    device.status = status;
    await em.flush();
    return device;
  }

  /** The bot's rooms, last seen first; null when the tenant has no such bot. */
  async rooms(tenantId: string, botId: string): Promise<Room[] | null> {
    const em = this.orm.em.fork();
    if (!(await owns(em, tenantId, botId))) return null;
    return em.find(Room, { botId }, { orderBy: { lastSeenAt: 'desc' } });
  }

  async setRoomStatus(tenantId: string, botId: string, channelId: string, status: Room['status']): Promise<Room | Missing> {
    const em = this.orm.em.fork();
    if (!(await owns(em, tenantId, botId))) return { missing: 'bot' };
    const room = await em.findOne(Room, { botId, channelId });
    if (!room) return { missing: 'room' };
    room.status = status;
    await em.flush();
    return room;
  }
}

async function owns(em: Em, tenantId: string, botId: string): Promise<boolean> {
  return (await em.count(Bot, { id: botId, tenantId })) > 0;
}
