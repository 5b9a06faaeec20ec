import { randomBytes, randomUUID } from 'node:crypto';
import type { BotSecret, BotView } from '@domaeka/broker/contracts';
import { type SecretBox } from '@domaeka/core';
import { Bot } from '../db/entities/index.js';
import { apiErrors, isUniqueViolation } from '../errors.js';
import { checkAdoptedPair, checkBotName } from './bot-rules.js';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Em, Orm } from '../db/em.js';

export interface CreateBotInput {
  name: string;
  /** Adopted from a bot server whose phones already carry it; generated when absent. */
  secretKey?: string;
  salt?: string;
}

export interface BotPatch {
  name?: string;
  manualRoomApproval?: boolean;
  isActive?: boolean;
}

/**
 * Bots of a tenant. The signing key and salt are sealed with SecretBox and
 * returned only by `create`: afterwards nobody, the owner included, reads them.
 */
export class BotService {
  constructor(
    private readonly orm: Orm,
    private readonly secrets: SecretBox,
    private readonly notifier: ChangeNotifier,
  ) {}

  async create(caller: Caller, input: CreateBotInput): Promise<BotView & BotSecret> {
    const { name, key } = checkBotName(input.name);
    checkAdoptedPair(input.secretKey, input.salt);
    const secretKey = input.secretKey ?? randomBytes(32).toString('hex');
    const salt = input.salt ?? randomBytes(16).toString('hex');
    const em = this.orm.em.fork();
    // Names are unique across tenants on their compared form (bot-rules.ts): phones identify their bot by name alone.
    if ((await em.count(Bot, { $or: [{ nameKey: key }, { name }] })) > 0) throw apiErrors.botNameTaken(name);
    const bot = em.create(Bot, {
      id: randomUUID(),
      tenantId: caller.tenantId,
      name,
      nameKey: key,
      secretKeyEnc: this.secrets.seal(secretKey),
      saltEnc: this.secrets.seal(salt),
      manualRoomApproval: false,
      isActive: true,
      createdAt: new Date(),
    });
    await this.flushNamed(em, name);
    this.notifier.changed('bot', caller.tenantId, bot.id);
    return { ...toView(bot), secretKey, salt };
  }

  async list(caller: Caller): Promise<BotView[]> {
    const bots = await this.orm.em.fork().find(Bot, { tenantId: caller.tenantId }, { orderBy: { createdAt: 'asc' } });
    return bots.map(toView);
  }

  async get(caller: Caller, id: string): Promise<BotView> {
    return toView(await this.owned(this.orm.em.fork(), caller, id));
  }

  async update(caller: Caller, id: string, patch: BotPatch): Promise<BotView> {
    const em = this.orm.em.fork();
    const bot = await this.owned(em, caller, id);
    if (patch.name !== undefined && patch.name !== bot.name) {
      const { name, key } = checkBotName(patch.name);
      // Its own key is its own (a change of case); any other bot's is taken.
      if ((await em.count(Bot, { $or: [{ nameKey: key }, { name }], id: { $ne: bot.id } })) > 0) throw apiErrors.botNameTaken(name);
      bot.name = name;
      bot.nameKey = key;
    }
    if (patch.manualRoomApproval !== undefined) bot.manualRoomApproval = patch.manualRoomApproval;
    if (patch.isActive !== undefined) bot.isActive = patch.isActive;
    await this.flushNamed(em, bot.name);
    this.notifier.changed('bot', caller.tenantId, bot.id);
    return toView(bot);
  }

  /**
   * A new signing pair (random, or adopted from the body), shown once like
   * at creation. The `changed` event makes the gateway drop its cached pair:
   * from then on packets signed with the old pair are refused as
   * BAD_SIGNATURE, on open connections from their next packet.
   */
  async rotateSecret(caller: Caller, id: string, input: { secretKey?: string; salt?: string }): Promise<BotSecret> {
    const em = this.orm.em.fork();
    const bot = await this.owned(em, caller, id);
    checkAdoptedPair(input.secretKey, input.salt);
    const secretKey = input.secretKey ?? randomBytes(32).toString('hex');
    const salt = input.salt ?? randomBytes(16).toString('hex');
    bot.secretKeyEnc = this.secrets.seal(secretKey);
    bot.saltEnc = this.secrets.seal(salt);
    await em.flush();
    this.notifier.changed('bot', caller.tenantId, bot.id);
    return { id: bot.id, name: bot.name, secretKey, salt };
  }

  /** Removes the bot with its devices and rooms; its call logs stay (they belong to the tenant). */
  async remove(caller: Caller, id: string): Promise<void> {
    const em = this.orm.em.fork();
    const bot = await this.owned(em, caller, id);
    await em.nativeDelete(Bot, { id: bot.id });
    this.notifier.changed('bot', caller.tenantId, bot.id);
    this.notifier.revoked('bot_deleted', caller.tenantId, { botId: bot.id });
  }

  /** The bot if it belongs to the caller's tenant; another tenant's bot is "not found". */
  async owned(em: Em, caller: Caller, id: string): Promise<Bot> {
    const bot = await em.findOne(Bot, { id, tenantId: caller.tenantId });
    if (!bot) throw apiErrors.notFound('bot');
    return bot;
  }

  private async flushNamed(em: Em, name: string): Promise<void> {
    try {
      await em.flush();
    } catch (err) {
      // Lost a race with another tenant taking the same name.
      if (isUniqueViolation(err, 'bots_name_key') || isUniqueViolation(err, 'bots_name_key_key')) throw apiErrors.botNameTaken(name);
      throw err;
    }
  }
}

export function toView(bot: Bot): BotView {
  return {
    id: bot.id,
    name: bot.name,
    manualRoomApproval: bot.manualRoomApproval,
    isActive: bot.isActive,
    createdAt: bot.createdAt,
  };
}
