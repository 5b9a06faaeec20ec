import { Bot, BridgeLink } from '../db/entities/index.js';
import type { Orm } from '../db/em.js';

/** What filling a bot's script needs: its name and its sealed key and salt. */
export interface SealedBot {
  id: string;
  tenantId: string;
  name: string;
  secretKeyEnc: string;
  saltEnc: string;
}

export const SPEND_LINK_SQL = `delete from kb_bridge_links where token_hash = ? and expires_at > ? returning tenant_id, bot_id`;

/**
 * The script download links (`kb_bridge_links`) and the bot rows the
 * scripts are filled from. Times come from the caller's clock (tests move
 * it), never the database's `now()`.
 */
export class BridgeLinkRepository {
  constructor(private readonly orm: Orm) {}

  /** The tenant's bot with its sealed secrets, or null. */
  async sealedBot(tenantId: string, botId: string): Promise<SealedBot | null> {
    const bot = await this.orm.em.fork().findOne(Bot, { id: botId, tenantId }, { fields: ['id', 'tenantId', 'name', 'secretKeyEnc', 'saltEnc'] });
    return bot ? { id: bot.id, tenantId: bot.tenantId, name: bot.name, secretKeyEnc: bot.secretKeyEnc, saltEnc: bot.saltEnc } : null;
  }

  /** A new link; links expired before `now` (anyone's) are deleted on the way. */
  async create(link: { tokenHash: string; tenantId: string; botId: string; now: Date; expiresAt: Date }): Promise<void> {
    const em = this.orm.em.fork();
    await em.nativeDelete(BridgeLink, { expiresAt: { $lte: link.now } });
    em.create(BridgeLink, { tokenHash: link.tokenHash, tenantId: link.tenantId, botId: link.botId, createdAt: link.now, expiresAt: link.expiresAt });
    await em.flush();
  }

  /**
   * Spends the link: one statement that finds it unexpired and deletes it,
   * so of two requests racing for it one gets the bot id. Null when there
   * is no such link (never made, or used), or it expired.
   */
  async spend(tokenHash: string, now: Date): Promise<{ tenantId: string; botId: string } | null> {
    const rows = await this.orm.em
      .fork()
      .getConnection()
      .execute<{ tenant_id: string; bot_id: string }[]>(SPEND_LINK_SQL, [tokenHash, now]);
    const row = rows[0];
    return row ? { tenantId: row.tenant_id, botId: row.bot_id } : null;
  }
}
