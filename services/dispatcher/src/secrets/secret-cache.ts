import type { Pool, SecretBox } from '@domaeka/core';
import type { Logger } from 'pino';
import { TenantCache } from '../cache/tenant-cache.js';
import type { Clock } from '../cache/ttl-cache.js';

/** A tenant's secrets opened: name -> value (frozen: targets read it, nobody edits the cached copy). */
export type TenantSecrets = Readonly<Record<string, string>>;

const NONE: TenantSecrets = Object.freeze({});

export const LOAD_SQL = `select name, value_enc from tenant_secrets where tenant_id = $1`;

/**
 * Each tenant's secrets, opened once and cached. A `changed` event for the
 * tenant's secrets drops the entry, so a deleted secret is gone from the
 * next call; the TTL covers events missed while disconnected. Values are
 * never logged, names only.
 */
export class SecretCache extends TenantCache<TenantSecrets> {
  constructor(
    private readonly pool: Pool,
    private readonly box: SecretBox,
    private readonly logger: Logger,
    clock: Clock,
    ttlMs: number,
  ) {
    super(clock, ttlMs);
  }

  protected async load(tenantId: string): Promise<TenantSecrets> {
    const { rows } = await this.pool.query<{ name: string; value_enc: string }>(LOAD_SQL, [tenantId]);
    if (rows.length === 0) return NONE;
    const values: Record<string, string> = {};
    for (const r of rows) {
      try {
        values[r.name] = this.box.open(r.value_enc);
      } catch {
        // Left out: the code sees it missing, a header naming it fails with KB_ERR_SECRET_MISSING.
        this.logger.error({ tenantId, secret: r.name }, 'tenant secret could not be opened (wrong SECRETS_KEY?)');
      }
    }
    return Object.freeze(values);
  }
}
