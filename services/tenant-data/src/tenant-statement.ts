import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import type pg from 'pg';
import { TENANT_SCHEMA_PATTERN } from './naming.js';
import { guardStatementSync, loadSqlGuard } from './sql-guard.js';
import { tenantDataErrors, type TenantDataError } from './tenant-data-errors.js';

/** A plan's limits on tenant tables (`plans.db_max_bytes`, `db_max_rows`, `db_statement_timeout_ms`). */
export interface TableLimits {
  maxBytes: number;
  maxRows: number;
  statementTimeoutMs: number;
}

/** The free plan's (migration 20261208000150): a caller that does not send a plan's numbers gets these. */
export const FREE_TABLE_LIMITS: TableLimits = { maxBytes: 5 * 1024 * 1024, maxRows: 500, statementTimeoutMs: 1000 };

/** A result's rows, as JSON text, at most this (the sandbox's answer frame is 2 MiB). */
export const RESULT_MAX_BYTES = 1024 * 1024;
export const PARAMS_MAX = 100;
/**
 * Bytes the server may send for one tenant statement before the runner
 * cuts the connection: the row cap counts rows once they are read, and
 * one row can be huge (`select repeat('x', 500000000)`), which the driver
 * would buffer whole. Cut, the server aborts the transaction.
 */
export const WIRE_MAX_BYTES = 8 * 1024 * 1024;

export type ParamValue = null | boolean | number | string;

/** How a column's text reaches Python (sandbox-image/runtime/domaeka/db.py turns each into its type). */
export type ColumnType = 'bool' | 'int' | 'float' | 'numeric' | 'json' | 'date' | 'timestamp' | 'timestamptz' | 'text';

export interface StatementResult {
  ok: true;
  /** INSERT, UPDATE, SELECT, CREATE TABLE... (PostgreSQL's command tag). */
  command: string;
  /** Rows affected (writes) or returned. */
  rowCount: number;
  columns: string[];
  types: ColumnType[];
  rows: unknown[][];
  /** The database's time of the whole transaction, from here. */
  dbMs: number;
}

export type StatementOutcome = StatementResult | { ok: false; error: TenantDataError; dbMs: number | null };

const TYPE_OF: Record<number, ColumnType> = {
  16: 'bool', 20: 'int', 21: 'int', 23: 'int', 26: 'int', 700: 'float', 701: 'float', 1700: 'numeric',
  114: 'json', 3802: 'json', 1082: 'date', 1114: 'timestamp', 1184: 'timestamptz',
};
/** Every value as PostgreSQL's text: exact (numeric, bigint), and typed again from TYPE_OF where the tenant code reads it. */
const AS_TEXT = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

/**
 * One tenant statement (README, "How a statement runs"): the guard, then
 * one transaction on `pool` under the tenant's role and schema with the
 * plan's statement timeout; a SELECT through a cursor that fetches one row
 * over the cap, a write followed by the schema's size against the quota.
 * Over a cap, the transaction is rolled back: nothing changes. The schema
 * must exist (ensureTenantSchema). Values are parameters only.
 */
export async function runTenantStatement(pool: pg.Pool, schema: string, sql: string, params: readonly ParamValue[], limits: TableLimits): Promise<StatementOutcome> {
  if (!TENANT_SCHEMA_PATTERN.test(schema)) throw new Error(`not a tenant schema name: ${schema}`);
  await loadSqlGuard();
  const guarded = guardStatementSync(sql, schema);
  if (!guarded.ok) return { ok: false, error: guarded.error, dbMs: null };
  const paramProblem = checkParams(params);
  if (paramProblem) return { ok: false, error: paramProblem, dbMs: null };
  const t0 = performance.now();
  const client = await pool.connect();
  quietErrors(client);
  let broken: Error | undefined;
  let wire: Wire | null = null;
  try {
    const timeout = Math.max(1, Math.floor(limits.statementTimeoutMs));
    const quotaChecked = guarded.writes && !SHRINKING.has(guarded.kind);
    // Our own text (a checked schema name, a number) in one round trip; the tenant's statement follows with its parameters.
    const setup = await client.query(
      `begin; set local role ${schema}; set local search_path = ${schema}; set local statement_timeout = ${timeout}; set local lock_timeout = ${timeout}; set local idle_in_transaction_session_timeout = 10000; set local timezone = 'Asia/Seoul'` +
        (quotaChecked ? `; ${sizeSql(schema)}` : ''),
    );
    const before = quotaChecked ? bytesOf([setup].flat().at(-1)!) : 0;
    wire = watchWire(client);
    let result: pg.QueryResult<unknown[]>;
    let command: string;
    if (guarded.kind === 'select') {
      await client.query({ text: `declare kb_rows no scroll cursor for ${sql}`, values: params as unknown[] });
      result = await client.query({ text: `fetch ${limits.maxRows + 1} from kb_rows`, rowMode: 'array', types: AS_TEXT });
      command = 'SELECT';
    } else {
      result = await client.query({ text: sql, values: params as unknown[], rowMode: 'array', types: AS_TEXT });
      command = result.command;
    }
    wire.stop();
    const over = overCaps(result, limits);
    const overBytes = !over && quotaChecked ? await overQuota(client, schema, limits, before) : null;
    if (over ?? overBytes) {
      await client.query('rollback');
      if (overBytes) await reclaim(client, schema);
      return { ok: false, error: (over ?? overBytes)!, dbMs: performance.now() - t0 };
    }
    await client.query('commit');
    const types = result.fields.map((f) => TYPE_OF[f.dataTypeID] ?? 'text');
    return {
      ok: true,
      command,
      rowCount: guarded.kind === 'select' ? result.rows.length : (result.rowCount ?? 0),
      columns: result.fields.map((f) => f.name),
      types,
      rows: result.rows.map((row) => row.map((v, i) => typed(v as string | null, types[i]!))),
      dbMs: performance.now() - t0,
    };
  } catch (err) {
    wire?.stop();
    if (wire?.cut) {
      broken = err as Error;
      return { ok: false, error: tenantDataErrors.resultTooLarge(RESULT_MAX_BYTES), dbMs: performance.now() - t0 };
    }
    await client.query('rollback').catch((e: Error) => (broken = e));
    return { ok: false, error: statementError(err, limits), dbMs: performance.now() - t0 };
  } finally {
    client.release(broken);
  }
}

/** Statements that cannot make the schema bigger: allowed at (and over) the quota, so a tenant can always make room. */
const SHRINKING = new Set(['delete', 'truncate', 'drop']);

/**
 * After a write refused for the quota: a rolled-back insert leaves its
 * pages at the end of the table file (dead, but counted by
 * pg_total_relation_size until a vacuum), which would keep the tenant over
 * its quota for the next write. VACUUM (as the tables' owner, outside the
 * transaction) removes them and gives the trailing pages back. Only on
 * this refusal path; best effort (autovacuum does the same later).
 */
export async function reclaim(client: pg.PoolClient, schema: string): Promise<void> {
  try {
    const { rows } = await client.query<{ rel: string }>(
      `select format('%I.%I', n.nspname, c.relname) as rel
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relkind = 'r'`,
      [schema],
    );
    if (rows.length === 0) return;
    await client.query(`set role ${schema}`);
    await client.query(`vacuum ${rows.map((r) => r.rel).join(', ')}`);
  } catch {
    // autovacuum reclaims them later
  } finally {
    await client.query('reset role').catch(() => undefined);
  }
}

const quieted = new WeakSet<pg.PoolClient>();

/**
 * A checked-out client whose connection ends (cut below, the server gone)
 * reports it as an 'error' event once no query holds it; unheard, that
 * event would end the process. The statement's own failure is answered
 * from the query's rejection; the client is released as broken.
 */
export function quietErrors(client: pg.PoolClient): void {
  if (quieted.has(client)) return;
  quieted.add(client);
  client.on('error', () => undefined);
}

interface Wire {
  stop(): void;
  readonly cut: boolean;
}

/** Counts what the server sends on this connection until stop(); over WIRE_MAX_BYTES, the connection is destroyed. */
function watchWire(client: pg.PoolClient): Wire {
  const stream = (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
  let bytes = 0;
  let cut = false;
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > WIRE_MAX_BYTES && !cut) {
      cut = true;
      stream!.destroy();
    }
  };
  stream?.on('data', onData);
  return {
    stop: () => void stream?.off('data', onData),
    get cut() {
      return cut;
    },
  };
}

function checkParams(params: readonly ParamValue[]): TenantDataError | null {
  if (!Array.isArray(params) || params.length > PARAMS_MAX) return tenantDataErrors.invalid(`params는 ${PARAMS_MAX}개까지의 목록이어야 합니다`, `params must be a list of at most ${PARAMS_MAX} values`);
  for (const p of params) {
    if (p === null || typeof p === 'boolean' || typeof p === 'string') continue;
    if (typeof p === 'number' && Number.isFinite(p)) continue;
    return tenantDataErrors.invalid('params에는 None, bool, 숫자, 문자열만 쓸 수 있습니다', 'params may hold None, bool, numbers and strings only');
  }
  return null;
}

function overCaps(result: pg.QueryResult<unknown[]>, limits: TableLimits): TenantDataError | null {
  if (result.rows.length > limits.maxRows) return tenantDataErrors.tooManyRows(limits.maxRows);
  // The rows as they will travel (JSON, UTF-8: a Korean character is 3 bytes), under the sandbox's 2 MiB answer frame.
  return Buffer.byteLength(JSON.stringify(result.rows), 'utf8') > RESULT_MAX_BYTES ? tenantDataErrors.resultTooLarge(RESULT_MAX_BYTES) : null;
}

/** The schema's tables with their indexes and TOAST, as the quota counts them (a checked schema name: spliced as a literal). */
function sizeSql(schema: string): string {
  return `select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = '${schema}' and c.relkind in ('r', 'p', 'm')`;
}

function bytesOf(result: pg.QueryResult): number {
  return Number((result.rows[0] as { bytes?: string } | undefined)?.bytes ?? 0);
}

/**
 * After the write, in its transaction: refused when it left the schema
 * over the quota AND bigger than before. A write that takes no more room
 * (an update in place, an insert into pages a vacuum freed) is not refused
 * even at the quota: what counts is the storage a tenant takes.
 */
async function overQuota(client: pg.PoolClient, schema: string, limits: TableLimits, before: number): Promise<TenantDataError | null> {
  const after = bytesOf(await client.query(sizeSql(schema)));
  return after > limits.maxBytes && after > before ? tenantDataErrors.quota(limits.maxBytes) : null;
}

function typed(v: string | null, type: ColumnType): unknown {
  if (v === null) return null;
  if (type === 'bool') return v === 't';
  if (type === 'int') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  return v;
}

/** PostgreSQL's refusal, named; its message (English, about the tenant's own SQL) is passed on. */
export function statementError(err: unknown, limits: TableLimits): TenantDataError {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const detail = String(e.message ?? err).slice(0, 300);
  if (code === '57014' || code === '55P03') return tenantDataErrors.timeout(limits.statementTimeoutMs);
  if (code === '42501') return tenantDataErrors.forbidden('권한이 없습니다', detail);
  if (code === '42601') return tenantDataErrors.syntax(detail);
  if (code === '08P01' || /bind message supplies/.test(detail)) return tenantDataErrors.invalid('params의 개수가 SQL의 $1, $2...와 맞지 않습니다', detail);
  if (/^(22|23|42|2B|40|54)/.test(code)) return tenantDataErrors.statement(detail);
  return tenantDataErrors.unavailable(code ? `statement failed (${code})` : 'the database does not answer');
}
