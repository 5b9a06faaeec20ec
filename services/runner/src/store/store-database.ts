import { performance } from 'node:perf_hooks';
import type { Pool } from '@domaeka/core';
import { KEYS_MAX, VALUE_MAX_BYTES, likePrefix } from './store-protocol.js';
import type { StoreLimits } from './store-grants.js';

/**
 * The store's SQL (`kb_store`, `kb_store_usage` and the functions of
 * migration 20261207000020). Every statement is scoped by the container's
 * tenant id, which the runner knows (never the request); keys, values and
 * prefixes are parameters only. Reads are plain selects; each write is one
 * function call (one round trip, one transaction, the tenant's usage row
 * locked for the quota). test/integration/hot-path-sql.test.ts prepares
 * each statement against the migrated schema.
 */

/** An expired row is answered as missing (and deleted after: purgeSoon). */
export const GET_SQL = `
  select value::text as value, (expires_at is not null and expires_at <= now()) as expired
    from kb_store where tenant_id = $1 and key = $2`;
export const SET_SQL = `select kb_store_set($1, $2, $3::jsonb, $4, $5, $6, $7) as status`;
export const INCR_SQL = `select status, value from kb_store_incr($1, $2, $3::numeric, $4, $5, $6)`;
export const DELETE_SQL = `select kb_store_delete($1, $2) as deleted`;
/** A range of the primary key (`key` sorts bytewise: `collate "C"`). */
export const KEYS_SQL = `
  select key from kb_store
   where tenant_id = $1 and key like $2 escape '\\' and (expires_at is null or expires_at > now())
   order by key limit $3`;
/** Tenants with expired keys, oldest expiry first (the partial index on expires_at). */
export const EXPIRED_TENANTS_SQL = `select tenant_id from kb_store where expires_at <= now() order by expires_at limit $1`;
export const PURGE_SQL = `select kb_store_purge($1) as purged`;

export type SetStatus = 'ok' | 'keys' | 'bytes';
export type IncrStatus = SetStatus | 'not_a_number' | 'too_large';

/** What a statement answered, and the database's time for it as seen from here (pool checkout, round trip, execution). */
export interface Timed<T> {
  result: T;
  dbMs: number;
}

export class StoreDatabase {
  /** Tenants whose expired keys are being deleted after a read found one. */
  private readonly purging = new Set<string>();

  constructor(private readonly pool: Pool) {}

  /** The value's JSON text; null when missing or expired. */
  async get(tenantId: string, key: string): Promise<Timed<string | null>> {
    const { rows, dbMs } = await this.query<{ value: string; expired: boolean }>('kb_store_get', GET_SQL, [tenantId, key]);
    const row = rows[0];
    if (row?.expired) this.purgeSoon(tenantId);
    return { result: row && !row.expired ? row.value : null, dbMs };
  }

  async set(tenantId: string, key: string, value: string, bytes: number, ttlMs: number | null, limits: StoreLimits): Promise<Timed<SetStatus>> {
    const { rows, dbMs } = await this.query<{ status: SetStatus }>('kb_store_set', SET_SQL, [tenantId, key, value, bytes, ttlMs, limits.maxKeys, limits.maxBytes]);
    return { result: rows[0]!.status, dbMs };
  }

  /** `by` as decimal text (numeric in SQL: no float rounding of stored numbers). */
  async incr(tenantId: string, key: string, by: string, limits: StoreLimits): Promise<Timed<{ status: IncrStatus; value: string | null }>> {
    const { rows, dbMs } = await this.query<{ status: IncrStatus; value: string | null }>('kb_store_incr', INCR_SQL, [tenantId, key, by, limits.maxKeys, limits.maxBytes, VALUE_MAX_BYTES]);
    return { result: rows[0]!, dbMs };
  }

  async delete(tenantId: string, key: string): Promise<Timed<boolean>> {
    const { rows, dbMs } = await this.query<{ deleted: boolean }>('kb_store_delete', DELETE_SQL, [tenantId, key]);
    return { result: rows[0]!.deleted, dbMs };
  }

  async keys(tenantId: string, prefix: string): Promise<Timed<string[]>> {
    const { rows, dbMs } = await this.query<{ key: string }>(null, KEYS_SQL, [tenantId, likePrefix(prefix), KEYS_MAX]);
    return { result: rows.map((r) => r.key), dbMs };
  }

  /** Up to `limit` tenants with expired keys (the sweep). */
  async expiredTenants(limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ tenant_id: string }>(EXPIRED_TENANTS_SQL, [limit]);
    return [...new Set(rows.map((r) => r.tenant_id))];
  }

  /** Deletes a tenant's expired keys; -1 when its writes held the usage row (skipped, not waited for). */
  async purge(tenantId: string): Promise<number> {
    const { rows } = await this.pool.query<{ purged: number }>(PURGE_SQL, [tenantId]);
    return rows[0]!.purged;
  }

  /** The lazy half of expiry: after a read found an expired key, off the request's path, once at a time per tenant. */
  private purgeSoon(tenantId: string): void {
    if (this.purging.has(tenantId)) return;
    this.purging.add(tenantId);
    void this.purge(tenantId)
      .catch(() => undefined) // the sweep gets them otherwise
      .finally(() => this.purging.delete(tenantId));
  }

  /**
   * `name`: prepared once per connection (parsed and planned once; the key
   * lookups and function calls plan the same for every tenant). KEYS_SQL is
   * not named: its LIKE prefix needs the value to plan the index range.
   */
  private async query<R extends Record<string, unknown>>(name: string | null, sql: string, params: unknown[]): Promise<{ rows: R[]; dbMs: number }> {
    const t0 = performance.now();
    const { rows } = await this.pool.query<R>(name ? { name, text: sql, values: params } : { text: sql, values: params });
    return { rows, dbMs: performance.now() - t0 };
  }
}
