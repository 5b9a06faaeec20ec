import ExcelJS from 'exceljs';
import type { Pool } from '@domaeka/core';
import {
  ensureTenantSchema,
  listTenantTables,
  quoteIdent,
  runTenantStatement,
  tenantSchemaBytes,
  tenantTable,
  type CatalogColumn,
  type ParamValue,
  type StatementResult,
  type TableLimits,
} from '@domaeka/tenant-data';
import type { DataRowsView, DataTablesView } from '@domaeka/broker/contracts';
import type { Caller } from '../accounts/caller.js';
import { apiErrors } from '../errors.js';
import type { DataRepository } from './data-repository.js';
import { csvField, paramOf } from './data-rules.js';

export const ROWS_MAX_LIMIT = 200;
/** Rows an export reads at most (in pages of the plan's row cap). */
export const EXPORT_MAX_ROWS = 20_000;

type Table = { name: string; columns: CatalogColumn[] };

/**
 * The tenant's own tables on the 데이터 page (services/api/README.md,
 * "Data"): names and columns from the catalog of the caller's schema only
 * (@domaeka/tenant-data's tenant-catalog), every statement run by
 * `runTenantStatement` under the tenant's role, its quota and timeout,
 * identifiers quoted from the catalog, values as parameters.
 */
export class TableService {
  constructor(
    private readonly pool: Pool,
    private readonly repo: DataRepository,
  ) {}

  async schema(caller: Caller): Promise<string> {
    return ensureTenantSchema(this.pool, caller.tenantId);
  }

  async list(caller: Caller): Promise<DataTablesView> {
    const schema = await this.schema(caller);
    const [tables, used, limits] = await Promise.all([listTenantTables(this.pool, schema), tenantSchemaBytes(this.pool, schema), this.repo.limits(caller.tenantId)]);
    return {
      tables,
      quota: { dbMaxBytes: limits.tables.maxBytes, usedBytes: used, dbMaxRows: limits.tables.maxRows },
    };
  }

  /** The table by its exact name in the caller's schema; anything else is KB_ERR_TABLE_NOT_FOUND. */
  async table(caller: Caller, name: string): Promise<{ schema: string; table: Table; limits: TableLimits }> {
    const schema = await this.schema(caller);
    const table = await tenantTable(this.pool, schema, name);
    if (!table) throw apiErrors.tableNotFound(name);
    return { schema, table, limits: (await this.repo.limits(caller.tenantId)).tables };
  }

  async rows(caller: Caller, name: string, offset: number, limit: number): Promise<DataRowsView> {
    const { schema, table, limits } = await this.table(caller, name);
    const q = quoteIdent(table.name);
    const order = orderBy(table);
    const page = await this.run(schema, `select * from ${q} ${order} offset $1 limit $2`, [offset, Math.min(limit, ROWS_MAX_LIMIT, limits.maxRows)], limits);
    const count = await this.run(schema, `select count(*) as n from ${q}`, [], limits);
    return { columns: table.columns, rows: page.rows, total: Number(count.rows[0]?.[0] ?? 0), offset, limit };
  }

  async insert(caller: Caller, name: string, values: Record<string, unknown>) {
    const { schema, table, limits } = await this.table(caller, name);
    const cols = columnsOf(table, values, 'values');
    if (cols.length === 0) throw apiErrors.validation('values에 열이 하나 이상 있어야 합니다 / values must name at least one column');
    const sql = `insert into ${quoteIdent(table.name)} (${cols.map(quoteIdent).join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`;
    const r = await this.run(schema, sql, cols.map((c) => paramOf(values[c])), limits);
    return { inserted: r.rowCount };
  }

  async update(caller: Caller, name: string, key: Record<string, unknown>, values: Record<string, unknown>) {
    const { schema, table, limits } = await this.table(caller, name);
    const where = keyWhere(table, key);
    const cols = columnsOf(table, values, 'values');
    if (cols.length === 0) throw apiErrors.validation('values에 열이 하나 이상 있어야 합니다 / values must name at least one column');
    const params: ParamValue[] = [...where.params, ...cols.map((c) => paramOf(values[c]))];
    const sets = cols.map((c, i) => `${quoteIdent(c)} = $${where.params.length + i + 1}`).join(', ');
    const r = await this.run(schema, `update ${quoteIdent(table.name)} set ${sets} where ${where.sql}`, params, limits);
    if (r.rowCount === 0) throw apiErrors.notFound('row');
    return { updated: r.rowCount };
  }

  async remove(caller: Caller, name: string, key: Record<string, unknown>) {
    const { schema, table, limits } = await this.table(caller, name);
    const where = keyWhere(table, key);
    const r = await this.run(schema, `delete from ${quoteIdent(table.name)} where ${where.sql}`, where.params, limits);
    if (r.rowCount === 0) throw apiErrors.notFound('row');
    return { deleted: r.rowCount };
  }

  /** Every row (at most EXPORT_MAX_ROWS), read in pages of the plan's row cap. */
  async allRows(caller: Caller, name: string): Promise<{ table: Table; rows: unknown[][] }> {
    const { schema, table, limits } = await this.table(caller, name);
    const page = Math.max(1, Math.min(limits.maxRows, 500));
    const rows: unknown[][] = [];
    for (let offset = 0; offset < EXPORT_MAX_ROWS; offset += page) {
      const r = await this.run(schema, `select * from ${quoteIdent(table.name)} ${orderBy(table)} offset $1 limit $2`, [offset, page], limits);
      rows.push(...r.rows);
      if (r.rows.length < page) break;
    }
    return { table, rows };
  }

  /** CSV in UTF-8 with a BOM (Excel then reads Korean right), CRLF line ends. */
  async exportCsv(caller: Caller, name: string): Promise<Buffer> {
    const { table, rows } = await this.allRows(caller, name);
    const lines = [table.columns.map((c) => csvField(c.name)).join(','), ...rows.map((r) => r.map(csvField).join(','))];
    return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n', 'utf8')]);
  }

  async exportXlsx(caller: Caller, name: string): Promise<Buffer> {
    const { table, rows } = await this.allRows(caller, name);
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet(table.name.slice(0, 31).replace(/[\\/?*[\]:]/g, '_'));
    sheet.addRow(table.columns.map((c) => c.name));
    const numeric = table.columns.map((c) => /^(integer|bigint|smallint|numeric|real|double precision)/.test(c.type));
    for (const r of rows) sheet.addRow(r.map((v, i) => (v === null ? null : numeric[i] && Number.isFinite(Number(v)) ? Number(v) : typeof v === 'object' ? JSON.stringify(v) : v)));
    return Buffer.from(await book.xlsx.writeBuffer());
  }

  private async run(schema: string, sql: string, params: ParamValue[], limits: TableLimits): Promise<StatementResult> {
    const outcome = await runTenantStatement(this.pool, schema, sql, params, limits);
    if (!outcome.ok) throw apiErrors.tenantData(outcome.error);
    return outcome;
  }
}

/** The primary key's order (a stable page), else the physical order. */
function orderBy(table: Table): string {
  const pk = table.columns.filter((c) => c.primaryKey);
  return pk.length > 0 ? `order by ${pk.map((c) => quoteIdent(c.name)).join(', ')}` : '';
}

/** The body's column names, each checked against the catalog (Korean error naming the unknown one). */
function columnsOf(table: Table, values: Record<string, unknown>, what: string): string[] {
  if (!values || typeof values !== 'object' || Array.isArray(values)) throw apiErrors.validation(`${what}는 {열: 값} 객체여야 합니다 / ${what} must be an object`);
  const known = new Set(table.columns.map((c) => c.name));
  const cols = Object.keys(values);
  for (const c of cols) {
    if (!known.has(c)) throw apiErrors.validation(`표 "${table.name}"에 열 "${c.slice(0, 63)}"이(가) 없습니다 / no such column`);
  }
  return cols;
}

/** `"pk1" = $1 and "pk2" = $2` from the body's key, which must name exactly the primary key's columns. */
function keyWhere(table: Table, key: Record<string, unknown>): { sql: string; params: ParamValue[] } {
  const pk = table.columns.filter((c) => c.primaryKey).map((c) => c.name);
  if (pk.length === 0) throw apiErrors.tableReadOnly(table.name);
  if (!key || typeof key !== 'object' || Array.isArray(key) || Object.keys(key).length !== pk.length || pk.some((c) => !(c in key))) {
    throw apiErrors.validation(`key에는 기본 키 열(${pk.join(', ')})의 값이 모두 있어야 합니다 / key must give the primary key's columns: ${pk.join(', ')}`);
  }
  return { sql: pk.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(' and '), params: pk.map((c) => paramOf(key[c])) };
}
