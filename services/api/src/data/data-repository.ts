import type { Pool } from '@domaeka/core';
import type { TableLimits } from '@domaeka/tenant-data';

/** The plan's numbers for the 데이터 page: tables (`db_*`) and store (`store_*`). */
export interface DataLimits {
  tables: TableLimits;
  storeMaxKeys: number;
  storeMaxBytes: number;
}

export interface StoreRow {
  key: string;
  value: unknown;
  bytes: number;
  expires_at: Date | null;
  updated_at: Date;
}

/** Store values: JSON, at most this (as the runner's store-protocol VALUE_MAX_BYTES). */
export const STORE_VALUE_MAX_BYTES = 64 * 1024;
export const STORE_KEY_MAX_CHARS = 200;

export const LIMITS_SQL = `
  select p.db_max_bytes::bigint as db_max_bytes, p.db_max_rows, p.db_statement_timeout_ms, p.store_max_keys, p.store_max_bytes::bigint as store_max_bytes
    from tenants t join plans p on p.id = t.plan_id where t.id = $1`;

// The store's own functions (migration 20261207000020): the same quota accounting in kb_store_usage as the runner's writes.
export const SET_SQL = `select kb_store_set($1, $2, $3::jsonb, $4, $5, $6, $7) as status`;
export const DELETE_SQL = `select kb_store_delete($1, $2) as deleted`;
export const LIST_SQL = `
  select key, value, bytes, expires_at, updated_at, count(*) over () as total
    from kb_store
   where tenant_id = $1 and key like $2 escape '\\' and (expires_at is null or expires_at > now())
   order by key offset $3 limit $4`;
export const USAGE_SQL = `select keys, bytes::bigint as bytes from kb_store_usage where tenant_id = $1`;

/** The data domain's own SQL on the platform's tables (plans, kb_store); every statement scoped by the caller's tenant id. */
export class DataRepository {
  constructor(private readonly pool: Pool) {}

  async limits(tenantId: string): Promise<DataLimits> {
    const { rows } = await this.pool.query<Record<string, string | number>>(LIMITS_SQL, [tenantId]);
    const r = rows[0];
    if (!r) throw new Error('tenant without a plan');
    return {
      tables: { maxBytes: Number(r.db_max_bytes), maxRows: Number(r.db_max_rows), statementTimeoutMs: Number(r.db_statement_timeout_ms) },
      storeMaxKeys: Number(r.store_max_keys),
      storeMaxBytes: Number(r.store_max_bytes),
    };
  }

  async storeList(tenantId: string, prefix: string, offset: number, limit: number): Promise<{ rows: StoreRow[]; total: number }> {
    const like = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const { rows } = await this.pool.query<StoreRow & { total: string }>(LIST_SQL, [tenantId, like, offset, limit]);
    return { rows, total: Number(rows[0]?.total ?? 0) };
  }

  async storeUsage(tenantId: string): Promise<{ keys: number; bytes: number }> {
    const { rows } = await this.pool.query<{ keys: number; bytes: string }>(USAGE_SQL, [tenantId]);
    return { keys: Number(rows[0]?.keys ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
  }

  async storeSet(tenantId: string, key: string, json: string, bytes: number, ttlMs: number | null, limits: DataLimits): Promise<'ok' | 'keys' | 'bytes'> {
    const { rows } = await this.pool.query<{ status: 'ok' | 'keys' | 'bytes' }>(SET_SQL, [tenantId, key, json, bytes, ttlMs, limits.storeMaxKeys, limits.storeMaxBytes]);
    return rows[0]!.status;
  }

  async storeDelete(tenantId: string, key: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ deleted: boolean }>(DELETE_SQL, [tenantId, key]);
    return rows[0]!.deleted;
  }
}
