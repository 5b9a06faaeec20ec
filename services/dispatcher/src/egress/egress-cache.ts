import type { Pool } from '@domaeka/core';
import { TenantCache } from '../cache/tenant-cache.js';
import type { Clock } from '../cache/ttl-cache.js';

export const LOAD_SQL = `select domain from kb_egress_domains where tenant_id = $1 order by domain`;

/**
 * Each tenant's egress domain allowlist (DESIGN.md section 5), sent with
 * its sandbox calls when the plan allows egress; the runner's proxy lets
 * the code reach these names and nothing else. A `changed` event of kind
 * `egress` drops the tenant's entry.
 */
export class EgressCache extends TenantCache<readonly string[]> {
  constructor(
    private readonly pool: Pool,
    clock: Clock,
    ttlMs: number,
  ) {
    super(clock, ttlMs);
  }

  protected async load(tenantId: string): Promise<readonly string[]> {
    const { rows } = await this.pool.query<{ domain: string }>(LOAD_SQL, [tenantId]);
    return Object.freeze(rows.map((r) => r.domain));
  }
}
