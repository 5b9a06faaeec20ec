import pg from 'pg';
import { TENANT_SCHEMA_PATTERN } from '@domaeka/tenant-data';

/**
 * What a database holds, counted exactly: rows of every platform table
 * (schema `public`) and of every tenant table (schemas `t_<16 hex>`,
 * services/tenant-data). Taken into the backup's manifest when it is made,
 * and again from a restored copy by the drill: the two must be equal.
 */
export interface Inventory {
  /** `schema.table` -> rows. */
  tables: Record<string, number>;
  /** Tenant schemas (each has the role of the same name). */
  tenantSchemas: string[];
  /** Migrations applied, in order (`mikro_orm_migrations`). */
  migrations: string[];
}

export async function takeInventory(databaseUrl: string): Promise<Inventory> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // One snapshot for all the counts: a busy platform still gives a consistent picture.
    await client.query('begin isolation level repeatable read read only');
    const inventory = await inventoryIn(client);
    await client.query('commit');
    return inventory;
  } finally {
    await client.end();
  }
}

/** The inventory as the client's transaction sees it (the backup counts inside the snapshot pg_dump reads). */
export async function inventoryIn(client: pg.Client): Promise<Inventory> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `select table_schema as schema, table_name as name from information_schema.tables
      where table_type = 'BASE TABLE' and (table_schema = 'public' or table_schema ~ $1)
      order by 1, 2`,
    [TENANT_SCHEMA_PATTERN.source],
  );
  const tables: Record<string, number> = {};
  for (const { schema, name } of rows) {
    const { rows: n } = await client.query<{ n: string }>(`select count(*)::text as n from ${ident(schema)}.${ident(name)}`);
    tables[`${schema}.${name}`] = Number(n[0]!.n);
  }
  const { rows: schemas } = await client.query<{ name: string }>('select nspname as name from pg_namespace where nspname ~ $1 order by 1', [TENANT_SCHEMA_PATTERN.source]);
  const migrations = tables['public.mikro_orm_migrations'] === undefined ? [] : (await client.query<{ name: string }>('select name from mikro_orm_migrations order by id')).rows.map((r) => r.name);
  return { tables, tenantSchemas: schemas.map((s) => s.name), migrations };
}

/** Differences between two inventories, one line each (empty: the same). */
export function compareInventories(expected: Inventory, actual: Inventory): string[] {
  const out: string[] = [];
  for (const [table, n] of Object.entries(expected.tables)) {
    const got = actual.tables[table];
    if (got === undefined) out.push(`${table}: missing (expected ${n} rows)`);
    else if (got !== n) out.push(`${table}: ${got} rows (expected ${n})`);
  }
  for (const table of Object.keys(actual.tables)) if (!(table in expected.tables)) out.push(`${table}: not in the backup`);
  if (expected.tenantSchemas.join() !== actual.tenantSchemas.join()) out.push(`tenant schemas: ${actual.tenantSchemas.length} (expected ${expected.tenantSchemas.length})`);
  if (expected.migrations.join() !== actual.migrations.join()) out.push(`migrations: ${actual.migrations.length} applied (expected ${expected.migrations.length})`);
  return out;
}

/** A name from the catalog, quoted (schema and table names come from information_schema, never from input). */
function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
