import type pg from 'pg';
import { TENANT_SCHEMA_PATTERN } from './naming.js';

/** One column of a tenant's table, as the catalog says. */
export interface CatalogColumn {
  name: string;
  /** PostgreSQL's name of the type (`integer`, `text`, `numeric`, `date`...). */
  type: string;
  nullable: boolean;
  primaryKey: boolean;
}

export interface CatalogTable {
  name: string;
  columns: CatalogColumn[];
  /** Exact `count(*)`. */
  rows: number;
  /** `pg_total_relation_size`: heap, indexes and TOAST, as the quota counts it. */
  bytes: number;
}

/** The most tables the 데이터 page and the backup list at once (a schema's tables are the tenant's own). */
export const CATALOG_MAX_TABLES = 200;

/**
 * `"name"` with `"` doubled: PostgreSQL's quote_ident for any text. Only
 * for names read back from the catalog (tenantTable/tableColumns) or
 * checked against it: a user's text never reaches SQL unquoted.
 */
export function quoteIdent(name: string): string {
  if (name.includes('\u0000')) throw new Error('identifier with a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

function checkSchema(schema: string): void {
  if (!TENANT_SCHEMA_PATTERN.test(schema)) throw new Error(`not a tenant schema name: ${schema}`);
}

const COLUMNS_SQL = `
  select c.relname as table, a.attname as name, format_type(a.atttypid, a.atttypmod) as type, not a.attnotnull as nullable,
         coalesce(a.attnum = any(i.indkey), false) as pk
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    left join pg_index i on i.indrelid = c.oid and i.indisprimary
   where n.nspname = $1 and c.relkind in ('r', 'p') and ($2::text is null or c.relname = $2)
   order by c.relname, a.attnum`;

/** The tables of a tenant's schema with their columns (no counts): `only` limits it to one table by its exact name. */
export async function tableColumns(pool: pg.Pool, schema: string, only: string | null = null): Promise<Map<string, CatalogColumn[]>> {
  checkSchema(schema);
  const { rows } = await pool.query<{ table: string; name: string; type: string; nullable: boolean; pk: boolean }>(COLUMNS_SQL, [schema, only]);
  const out = new Map<string, CatalogColumn[]>();
  for (const r of rows) {
    if (!out.has(r.table)) {
      if (out.size >= CATALOG_MAX_TABLES) break;
      out.set(r.table, []);
    }
    out.get(r.table)!.push({ name: r.name, type: r.type, nullable: r.nullable, primaryKey: r.pk });
  }
  return out;
}

/** One table of the tenant's schema by its exact name, or null: the check every route that names a table goes through. */
export async function tenantTable(pool: pg.Pool, schema: string, name: string): Promise<{ name: string; columns: CatalogColumn[] } | null> {
  if (typeof name !== 'string' || name.length === 0 || name.length > 63) return null;
  const columns = (await tableColumns(pool, schema, name)).get(name);
  return columns ? { name, columns } : null;
}

/** Every table with its columns, row count and size; the names came from the catalog and are quoted. */
export async function listTenantTables(pool: pg.Pool, schema: string): Promise<CatalogTable[]> {
  const tables = await tableColumns(pool, schema);
  if (tables.size === 0) return [];
  const names = [...tables.keys()];
  const counts = names.map((t, i) => `select ${i} as i, count(*)::bigint as n, pg_total_relation_size('${schema}.${quoteIdent(t).replace(/'/g, "''")}'::regclass)::bigint as bytes from ${schema}.${quoteIdent(t)}`);
  const { rows } = await pool.query<{ i: number; n: string; bytes: string }>(counts.join(' union all '));
  const byIndex = new Map(rows.map((r) => [r.i, r]));
  return names.map((name, i) => ({ name, columns: tables.get(name)!, rows: Number(byIndex.get(i)?.n ?? 0), bytes: Number(byIndex.get(i)?.bytes ?? 0) }));
}

/** The schema's size as the quota counts it (tables with indexes and TOAST). */
export async function tenantSchemaBytes(pool: pg.Pool, schema: string): Promise<number> {
  checkSchema(schema);
  const { rows } = await pool.query<{ bytes: string }>(
    `select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relkind in ('r', 'p', 'm')`,
    [schema],
  );
  return Number(rows[0]?.bytes ?? 0);
}
