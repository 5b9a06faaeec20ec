import type pg from 'pg';
import { TENANT_SCHEMA_PATTERN } from './naming.js';
import { guardStatementSync, loadSqlGuard } from './sql-guard.js';
import { tenantSchemaBytes } from './tenant-catalog.js';
import { quietErrors, reclaim, statementError, type ParamValue, type TableLimits } from './tenant-statement.js';
import type { TenantDataError } from './tenant-data-errors.js';
import { tenantDataErrors } from './tenant-data-errors.js';

/** One statement of a batch: SQL the platform wrote (identifiers quoted from the catalog), values as parameters (a column's values as one array: `unnest($1::text[], ...)`). */
export interface BatchStatement {
  sql: string;
  params: readonly (ParamValue | readonly ParamValue[])[];
}

export type BatchOutcome = { ok: true; rowCount: number } | { ok: false; error: TenantDataError };

/** Parameters of one statement at most (an array counts as one). */
export const BATCH_PARAMS_MAX = 1000;

/**
 * Several statements the platform wrote (a sheet's import: CREATE TABLE,
 * then its rows in multi-row INSERTs) in ONE transaction under the
 * tenant's role, like runTenantStatement: each statement through the
 * guard, the whole batch's statement timeout scaled by its length, and the
 * quota read before and after: when the batch left the schema over
 * `db_max_bytes` and bigger than before, ROLLBACK (nothing changed) and
 * `KB_ERR_STORAGE_QUOTA`. Any failure rolls back everything.
 */
export async function runTenantBatch(pool: pg.Pool, schema: string, statements: readonly BatchStatement[], limits: TableLimits): Promise<BatchOutcome> {
  if (!TENANT_SCHEMA_PATTERN.test(schema)) throw new Error(`not a tenant schema name: ${schema}`);
  await loadSqlGuard();
  for (const s of statements) {
    const guarded = guardStatementSync(s.sql, schema);
    if (!guarded.ok) return { ok: false, error: guarded.error };
    if (s.params.length > BATCH_PARAMS_MAX) throw new Error('batch statement with too many parameters');
  }
  const client = await pool.connect();
  quietErrors(client);
  let broken: Error | undefined;
  // The sheet's rows take longer than one statement of tenant code: the plan's timeout per statement, at most a minute in all.
  const timeout = Math.min(60_000, Math.max(1, Math.floor(limits.statementTimeoutMs)) * Math.max(1, statements.length));
  try {
    await client.query(
      `begin; set local role ${schema}; set local search_path = ${schema}; set local statement_timeout = ${timeout}; set local lock_timeout = ${Math.floor(limits.statementTimeoutMs)}; set local timezone = 'Asia/Seoul'`,
    );
    const before = await tenantSchemaBytes(client as unknown as pg.Pool, schema);
    let rowCount = 0;
    for (const s of statements) {
      const r = await client.query({ text: s.sql, values: s.params as unknown[] });
      if (r.command === 'INSERT' || r.command === 'UPDATE' || r.command === 'DELETE') rowCount += r.rowCount ?? 0;
    }
    const after = await tenantSchemaBytes(client as unknown as pg.Pool, schema);
    if (after > limits.maxBytes && after > before) {
      await client.query('rollback');
      await reclaim(client, schema);
      return { ok: false, error: tenantDataErrors.quota(limits.maxBytes) };
    }
    await client.query('commit');
    return { ok: true, rowCount };
  } catch (err) {
    await client.query('rollback').catch((e: Error) => (broken = e));
    return { ok: false, error: statementError(err, limits) };
  } finally {
    client.release(broken);
  }
}
