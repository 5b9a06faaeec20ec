import { randomUUID } from 'node:crypto';
import { ApiKey } from '../db/entities/index.js';
import { apiErrors } from '../errors.js';
import type { Caller } from './caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Orm } from '../db/em.js';
import { randomToken, sha256Hex } from './tokens.js';

export const API_KEY_PREFIX = 'kb_';
/** `kb_` + 8 characters: enough for a person to tell keys apart, useless to an attacker. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Bearer keys for scripts and bot servers: shown once, stored as sha256, revocable. */
export class ApiKeyService {
  constructor(
    private readonly orm: Orm,
    private readonly notifier: ChangeNotifier,
  ) {}

  async create(caller: Caller, name: string): Promise<ApiKeyView & { key: string }> {
    const key = API_KEY_PREFIX + randomToken(32);
    const em = this.orm.em.fork();
    const row = em.create(ApiKey, {
      id: randomUUID(),
      tenantId: caller.tenantId,
      userId: caller.userId,
      name,
      keyHash: sha256Hex(key),
      keyPrefix: key.slice(0, SHOWN_PREFIX_LENGTH),
      createdAt: new Date(),
      lastUsedAt: null,
      revokedAt: null,
    });
    await em.flush();
    return { ...toView(row), key };
  }

  async list(caller: Caller): Promise<ApiKeyView[]> {
    const rows = await this.orm.em.fork().find(ApiKey, { tenantId: caller.tenantId }, { orderBy: { createdAt: 'desc' } });
    return rows.map(toView);
  }

  async revoke(caller: Caller, id: string): Promise<void> {
    const em = this.orm.em.fork();
    const row = await em.findOne(ApiKey, { id, tenantId: caller.tenantId });
    if (!row) throw apiErrors.notFound('api key');
    row.revokedAt ??= new Date();
    await em.flush();
    // Sockets opened with the key close (on every API process).
    this.notifier.revoked('api_key_revoked', row.tenantId, { userId: row.userId });
  }

  /** The caller behind a bearer key, or null when unknown or revoked. */
  async authenticate(key: string): Promise<Caller | null> {
    if (!key.startsWith(API_KEY_PREFIX)) return null;
    const em = this.orm.em.fork();
    const rows: { id: string; user_id: string; tenant_id: string; is_admin: boolean; stale: boolean }[] = await em.execute(
      `select k.id, k.user_id, k.tenant_id, u.is_admin,
              (k.last_used_at is null or k.last_used_at < now() - interval '1 minute') as stale
         from api_keys k join users u on u.id = k.user_id
        where k.key_hash = ? and k.revoked_at is null`,
      [sha256Hex(key)],
    );
    const row = rows[0];
    if (!row) return null;
    // Written at most once a minute per key: a busy script must not turn every read into a write.
    if (row.stale) await em.execute(`update api_keys set last_used_at = now() where id = ?`, [row.id]);
    return { userId: row.user_id, tenantId: row.tenant_id, isAdmin: row.is_admin, via: 'api_key' };
  }
}

function toView(row: ApiKey): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.keyPrefix,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}
