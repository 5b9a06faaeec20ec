import { createHash, randomBytes } from 'node:crypto';
import type { BridgeScriptLink } from '@domaeka/broker/contracts';
import type { SecretBox } from '@domaeka/core';
import type { Caller } from '../accounts/caller.js';
import type { Orm } from '../db/em.js';
import { apiErrors } from '../errors.js';
import { BridgeLinkRepository, type SealedBot } from './bridge-link-repository.js';
import { bridgeTemplate, fillBridgeScript } from './bridge-script.js';

/** How long a QR link works: long enough to find the phone and scan, short enough that a photo of the screen is soon worthless. */
export const BRIDGE_LINK_TTL_MS = 10 * 60_000;

/** Where phones reach the bridge, as this request sees it (BRIDGE_PUBLIC_HOST/PORT or what the routes work out). */
export interface BridgeAddress {
  host: string;
  port: number;
}

/** A filled script and the bot it was filled for. */
export interface FilledScript {
  botName: string;
  script: string;
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The bridge script as a shop owner gets it (issue 16): pre-filled with the
 * server address, port, bot name, key and salt, so nothing is typed on the
 * phone. The owner downloads it signed in, or makes a link for the phone (a
 * QR code on the bot page): 10 minutes, one use, its token the only
 * credential, stored hashed. This is the one way a bot's key and salt leave
 * the platform after the answer that created them, and only to the bot's
 * owner or to whoever holds a link the owner just made.
 */
export class BridgeScriptService {
  private readonly links: BridgeLinkRepository;

  constructor(
    orm: Orm,
    private readonly secrets: SecretBox,
    private readonly clock: () => number = Date.now,
  ) {
    this.links = new BridgeLinkRepository(orm);
  }

  /** A new single-use link to the bot's filled script; the path carries the token, which is not kept. */
  async createLink(caller: Caller, botId: string): Promise<BridgeScriptLink> {
    const bot = await this.links.sealedBot(caller.tenantId, botId);
    if (!bot) throw apiErrors.notFound('bot');
    const token = randomBytes(24).toString('base64url');
    const now = this.clock();
    const expiresAt = new Date(now + BRIDGE_LINK_TTL_MS);
    await this.links.create({ tokenHash: hashOf(token), tenantId: bot.tenantId, botId: bot.id, now: new Date(now), expiresAt });
    return { path: `/api/v1/bridge-script/${token}`, expiresAt, ttlSeconds: BRIDGE_LINK_TTL_MS / 1000 };
  }

  /** The owner's own download (signed in). */
  async script(caller: Caller, botId: string, address: BridgeAddress): Promise<FilledScript> {
    const bot = await this.links.sealedBot(caller.tenantId, botId);
    if (!bot) throw apiErrors.notFound('bot');
    return this.fill(bot, address);
  }

  /**
   * The phone opening a link: the filled script, once. Null for a token
   * never made, already used or expired, alike (the caller says nothing
   * more). A bot deleted meanwhile took its links with it.
   */
  async redeem(token: string, address: BridgeAddress): Promise<FilledScript | null> {
    const spent = await this.links.spend(hashOf(token), new Date(this.clock()));
    if (!spent) return null;
    const bot = await this.links.sealedBot(spent.tenantId, spent.botId);
    return bot ? this.fill(bot, address) : null;
  }

  private fill(bot: SealedBot, address: BridgeAddress): FilledScript {
    const script = fillBridgeScript(bridgeTemplate(), {
      host: address.host,
      port: address.port,
      botName: bot.name,
      secretKey: this.secrets.open(bot.secretKeyEnc),
      salt: this.secrets.open(bot.saltEnc),
    });
    return { botName: bot.name, script };
  }
}
