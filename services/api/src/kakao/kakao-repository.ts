import type { Orm } from '../db/em.js';

/**
 * A skill call's bot, by the hash of the key in its URL: the only look-up
 * not scoped by a tenant id (the key is what says whose bot it is), with
 * what the call needs of the bot's plan.
 */
export const SKILL_BOT_SQL = `
  select b.id, b.tenant_id, b.name, b.kakao_fallback_text, p.timeout_max_ms
    from bots b join tenants t on t.id = b.tenant_id join plans p on p.id = t.plan_id
   where b.kakao_skill_key_hash = ?`;

/** The tenant's active commands, for the skill's guess at how long an utterance may take (the dispatcher decides). */
export const COMMANDS_SQL = `
  select id::text as id, command, pattern, timeout, (extract(epoch from created_at) * 1000)::float8 as created_ms
    from kb_commands
   where tenant_id = ? and is_active and deleted_at is null`;

/** The dispatcher's outbox row of a skill call (its media left out: the channel shows an image by URL). */
export const OUTCOME_SQL = `select status, reply - 'media' as reply from kb_outbox where event_id = ? and tenant_id = ?`;

export const CHANNEL_SQL = `select kakao_skill_key_enc, kakao_fallback_text from bots where id = ? and tenant_id = ?`;

/** A key is set once when first shown; two first views racing keep the first one's. */
export const FIRST_KEY_SQL = `
  update bots set kakao_skill_key_hash = ?, kakao_skill_key_enc = ?
   where id = ? and tenant_id = ? and kakao_skill_key_hash is null`;

export const ROTATE_KEY_SQL = `update bots set kakao_skill_key_hash = ?, kakao_skill_key_enc = ? where id = ? and tenant_id = ?`;

export const FALLBACK_SQL = `update bots set kakao_fallback_text = ? where id = ? and tenant_id = ?`;

export interface SkillBot {
  id: string;
  tenantId: string;
  name: string;
  fallbackText: string | null;
  timeoutMaxMs: number;
}

export interface CommandTimeoutRow {
  id: string;
  command: string;
  pattern: string | null;
  timeout: number;
  created_ms: number;
}

export interface SkillOutcomeRow {
  status: 'pending' | 'replied' | 'no_match' | 'ignored';
  reply: { type?: unknown; text?: unknown; rich?: unknown } | null;
}

/** What the Kakao channel reads and writes: the bot's skill key and fallback text (`bots`), its tenant's commands and the outbox. */
export class KakaoRepository {
  constructor(private readonly orm: Orm) {}

  /** Across every tenant: the bot whose skill key hashes to this (null: no such key). */
  async botBySkillKey(keyHash: string): Promise<SkillBot | null> {
    const rows: { id: string; tenant_id: string; name: string; kakao_fallback_text: string | null; timeout_max_ms: number }[] = await this.orm.em
      .fork()
      .execute(SKILL_BOT_SQL, [keyHash]);
    const r = rows[0];
    return r ? { id: r.id, tenantId: r.tenant_id, name: r.name, fallbackText: r.kakao_fallback_text, timeoutMaxMs: r.timeout_max_ms } : null;
  }

  commands(tenantId: string): Promise<CommandTimeoutRow[]> {
    return this.orm.em.fork().execute<CommandTimeoutRow[]>(COMMANDS_SQL, [tenantId]);
  }

  async outcome(tenantId: string, eventId: string): Promise<SkillOutcomeRow | null> {
    const rows: SkillOutcomeRow[] = await this.orm.em.fork().execute(OUTCOME_SQL, [eventId, tenantId]);
    return rows[0] ?? null;
  }

  /** The channel settings of the tenant's bot; null when the tenant has no such bot. */
  async channel(tenantId: string, botId: string): Promise<{ keyEnc: string | null; fallbackText: string | null } | null> {
    const rows: { kakao_skill_key_enc: string | null; kakao_fallback_text: string | null }[] = await this.orm.em.fork().execute(CHANNEL_SQL, [botId, tenantId]);
    const r = rows[0];
    return r ? { keyEnc: r.kakao_skill_key_enc, fallbackText: r.kakao_fallback_text } : null;
  }

  /** Sets the bot's first key unless it has one (then the caller reads that one). */
  async setFirstKey(tenantId: string, botId: string, keyHash: string, keyEnc: string): Promise<void> {
    await this.orm.em.fork().execute(FIRST_KEY_SQL, [keyHash, keyEnc, botId, tenantId]);
  }

  /** Replaces the key: the old URL stops answering at once. False when the tenant has no such bot. */
  async rotateKey(tenantId: string, botId: string, keyHash: string, keyEnc: string): Promise<boolean> {
    const res: { affectedRows?: number } = await this.orm.em.fork().execute(ROTATE_KEY_SQL, [keyHash, keyEnc, botId, tenantId], 'run');
    return (res.affectedRows ?? 0) > 0;
  }

  async setFallback(tenantId: string, botId: string, text: string | null): Promise<boolean> {
    const res: { affectedRows?: number } = await this.orm.em.fork().execute(FALLBACK_SQL, [text, botId, tenantId], 'run');
    return (res.affectedRows ?? 0) > 0;
  }
}
