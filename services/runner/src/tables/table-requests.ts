import type { Logger } from 'pino';
import { isDatabaseDown, type Pool } from '@domaeka/core';
import { ensureTenantSchema, runTenantStatement, tenantDataErrors, type ParamValue } from '@domaeka/tenant-data';
import type { StoreGrants } from '../store/store-grants.js';
import type { Answer } from '../store/store-requests.js';

export const TABLE_OPS = ['db.query', 'db.execute'] as const;
export type TableOp = (typeof TABLE_OPS)[number];

/** What each request did (metrics): its op, `ok` or the error code, and the database's time when it got there. */
export type TableObserver = (op: TableOp, result: string, dbMs: number | null) => void;

/**
 * One `db.query` / `db.execute` request of a container (services/runner/README.md,
 * "Tables"): `{id, call, op, sql, params}` checked, admitted by the
 * container's grants like a store request (a call of its tenant in flight,
 * the same budget), then the tenant's schema made sure of (on `admin`, the
 * runner's main pool: it may create roles) and the statement run on
 * `statements` (the gateway's login when configured, else the same pool)
 * by @domaeka/tenant-data. Every failure is a named error.
 */
export class TableRequests {
  constructor(
    private readonly admin: Pool,
    private readonly statements: Pool,
    private readonly logger: Logger,
    private readonly observe: TableObserver = () => undefined,
  ) {}

  async answer(frame: Record<string, unknown>, grants: StoreGrants): Promise<Answer> {
    const id = typeof frame.id === 'number' && Number.isSafeInteger(frame.id) ? frame.id : null;
    const op = frame.op as TableOp;
    const fail = (error: { code: string; message: string }, dbMs: number | null = null): Answer => {
      this.observe(op, error.code, dbMs);
      return { id, ok: false, error };
    };
    if (typeof frame.sql !== 'string' || frame.sql.trim() === '') return fail(tenantDataErrors.invalid('SQL은 빈 문자열이 아닌 문자열이어야 합니다', 'sql must be a non-empty string'));
    const params = frame.params ?? [];
    if (!Array.isArray(params)) return fail(tenantDataErrors.invalid('params는 목록이어야 합니다', 'params must be a list'));
    const admitted = grants.admit(frame.call);
    if (!admitted.ok) return fail(admitted.error);
    let schema: string;
    try {
      schema = await ensureTenantSchema(this.admin, admitted.tenantId);
    } catch (err) {
      this.logger.warn({ tenantId: admitted.tenantId, err: String(err) }, 'tables: the tenant schema could not be made');
      return fail(tenantDataErrors.unavailable(isDatabaseDown(err) ? 'the database does not answer' : 'the tenant schema could not be made'));
    }
    const outcome = await runTenantStatement(this.statements, schema, frame.sql, params as ParamValue[], admitted.tables).catch((err: unknown) => {
      this.logger.warn({ tenantId: admitted.tenantId, err: String(err) }, 'tables: the database is unavailable');
      return { ok: false as const, error: tenantDataErrors.unavailable('the database does not answer'), dbMs: null };
    });
    if (!outcome.ok) return fail(outcome.error, outcome.dbMs);
    this.observe(op, 'ok', outcome.dbMs);
    const timed = frame.timed === true ? { dbMs: Math.round(outcome.dbMs * 1000) / 1000 } : {};
    if (op === 'db.execute') return { id, ok: true, rowCount: outcome.rowCount, command: outcome.command, ...timed };
    return { id, ok: true, columns: outcome.columns, types: outcome.types, rows: outcome.rows, ...timed };
  }
}
