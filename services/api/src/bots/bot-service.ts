import { randomBytes } from 'node:crypto';
import type { BotSecret, BotView } from '@domaeka/broker/contracts';
import { type SecretBox } from '@domaeka/core';
import type { Bot } from '../db/entities/index.js';
import { apiErrors, isUniqueViolation } from '../errors.js';
import { checkAdoptedPair, checkBotName } from './bot-rules.js';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Orm } from '../db/em.js';
import { BotRepository } from './bot-repository.js';

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
 * returned only by `create` and `rotateSecret`; afterwards they leave only
 * inside the owner's pre-filled bridge script (BridgeScriptService).
 */
export class BotService {
  private readonly bots: BotRepository;

  constructor(
    orm: Orm,
    private readonly secrets: SecretBox,
    private readonly notifier: ChangeNotifier,
  ) {
    this.bots = new BotRepository(orm);
  }

  async create(caller: Caller, input: CreateBotInput): Promise<BotView & BotSecret> {
    const { name, key } = checkBotName(input.name);
    checkAdoptedPair(input.secretKey, input.salt);
    const secretKey = input.secretKey ?? randomBytes(32).toString('hex');
    const salt = input.salt ?? randomBytes(16).toString('hex');
    // Names are unique across tenants on their compared form (bot-rules.ts): phones identify their bot by name alone.
    if (await this.bots.nameTaken(name, key)) throw apiErrors.botNameTaken(name);
    const bot = await this.bots
      .create(caller.tenantId, { name, nameKey: key, secretKeyEnc: this.secrets.seal(secretKey), saltEnc: this.secrets.seal(salt) })
      .catch(lostNameRace(() => name));
    this.notifier.changed('bot', caller.tenantId, bot.id);
    return { ...toView(bot), secretKey, salt };
  }

  async list(caller: Caller): Promise<BotView[]> {
    return (await this.bots.list(caller.tenantId)).map(toView);
  }

  async get(caller: Caller, id: string): Promise<BotView> {
    const bot = await this.bots.get(caller.tenantId, id);
    if (!bot) throw apiErrors.notFound('bot');
    return toView(bot);
  }

  async update(caller: Caller, id: string, patch: BotPatch): Promise<BotView> {
    let named = '';
    const bot = await this.bots
      .edit(caller.tenantId, id, async (bot) => {
        if (patch.name !== undefined && patch.name !== bot.name) {
          const { name, key } = checkBotName(patch.name);
          // Its own key is its own (a change of case); any other bot's is taken.
          if (await this.bots.nameTaken(name, key, bot.id)) throw apiErrors.botNameTaken(name);
          bot.name = name;
          bot.nameKey = key;
        }
        if (patch.manualRoomApproval !== undefined) bot.manualRoomApproval = patch.manualRoomApproval;
        if (patch.isActive !== undefined) bot.isActive = patch.isActive;
        named = bot.name;
      })
      .catch(lostNameRace(() => named));
    if (!bot) throw apiErrors.notFound('bot');
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
    const secretKey = input.secretKey ?? randomBytes(32).toString('hex');
    const salt = input.salt ?? randomBytes(16).toString('hex');
    const bot = await this.bots.edit(caller.tenantId, id, (bot) => {
      checkAdoptedPair(input.secretKey, input.salt);
      bot.secretKeyEnc = this.secrets.seal(secretKey);
      bot.saltEnc = this.secrets.seal(salt);
    });
    if (!bot) throw apiErrors.notFound('bot');
    this.notifier.changed('bot', caller.tenantId, bot.id);
    return { id: bot.id, name: bot.name, secretKey, salt };
  }

  /** Removes the bot with its devices and rooms; its call logs stay (they belong to the tenant). */
  async remove(caller: Caller, id: string): Promise<void> {
    if (!(await this.bots.remove(caller.tenantId, id))) throw apiErrors.notFound('bot');
    this.notifier.changed('bot', caller.tenantId, id);
    this.notifier.revoked('bot_deleted', caller.tenantId, { botId: id });
  }
}

/** A write that lost a race with another tenant taking the same name. */
function lostNameRace(name: () => string): (err: unknown) => never {
  return (err) => {
    if (isUniqueViolation(err, 'bots_name_key') || isUniqueViolation(err, 'bots_name_key_key')) throw apiErrors.botNameTaken(name());
    throw err;
  };
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
