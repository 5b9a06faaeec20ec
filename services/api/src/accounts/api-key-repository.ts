import { randomUUID } from 'node:crypto';
import { ApiKey } from '../db/entities/index.js';
import type { Orm } from '../db/em.js';
import type { CallerRow } from './account-repository.js';

export const KEY_CALLER_SQL = `
  select k.id, k.user_id, k.tenant_id, u.is_admin,
         (k.last_used_at is null or k.last_used_at < now() - interval '1 minute') as stale
    from api_keys k join users u on u.id = k.user_id
   where k.key_hash = ? and k.revoked_at is null`;

export const TOUCH_KEY_SQL = `update api_keys set last_used_at = now() where id = ?`;

/** A tenant's API keys (`api_keys`): by tenant id, but for the bearer check, which comes before any tenant is known. */
export class ApiKeyRepository {
  constructor(private readonly orm: Orm) {}

  async create(tenantId: string, k: { userId: string; name: string; keyHash: string; keyPrefix: string }): Promise<ApiKey> {
    const em = this.orm.em.fork();
    const row = em.create(ApiKey, { id: randomUUID(), tenantId, ...k, createdAt: new Date(), lastUsedAt: null, revokedAt: null });
    await em.flush();
    return row;
  }

  /** Newest first. */
  list(tenantId: string): Promise<ApiKey[]> {
    return this.orm.em.fork().find(ApiKey, { tenantId }, { orderBy: { createdAt: 'desc' } });
  }

  /** Marks the key revoked (once: a second revoke keeps the first time); null when the tenant has no such key. */
  async revoke(tenantId: string, id: string): Promise<ApiKey | null> {
    const em = this.orm.em.fork();
    const row = await em.findOne(ApiKey, { id, tenantId });
    if (!row) return null;
    row.revokedAt ??= new Date();
    await em.flush();
    return row;
  }

  /** The caller behind an unrevoked key's sha256; its `last_used_at` is written at most once a minute (a busy script must not turn every read into a write). */
  async callerOfKey(keyHash: string): Promise<CallerRow | null> {
    const em = this.orm.em.fork();
    const rows: { id: string; user_id: string; tenant_id: string; is_admin: boolean; stale: boolean }[] = await em.execute(KEY_CALLER_SQL, [keyHash]);
    const row = rows[0];
    if (!row) return null;
    if (row.stale) await em.execute(TOUCH_KEY_SQL, [row.id]);
    return { userId: row.user_id, tenantId: row.tenant_id, isAdmin: row.is_admin };
  }
}
