import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { ensureDatabase } from '@domaeka/core';
import { TENANT_SCHEMA_PATTERN } from '@domaeka/tenant-data';
import type { Manifest } from './backup.js';
import { compareInventories, takeInventory, type Inventory } from './inventory.js';
import { libpq, run } from './tools.js';

export interface RestoreResult {
  inventory: Inventory;
  /** Differences from the manifest's counts (empty: every table holds what was dumped). */
  differences: string[];
}

export async function readManifest(dir: string): Promise<Manifest> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  if (manifest.format !== 1) throw new Error(`${dir}: not a backup of this format (format ${String(manifest.format)})`);
  return manifest;
}

/**
 * Restores a backup's database into `databaseUrl`, which must be a new or
 * empty database (never over a live one): the roles first (each statement
 * alone; a role that exists is kept), then pg_restore with owners and
 * grants, so each tenant's tables stay its role's. Then counts every table
 * and compares with the manifest.
 */
export async function restoreDatabase(dir: string, databaseUrl: string): Promise<RestoreResult> {
  const manifest = await readManifest(dir);
  await ensureDatabase(databaseUrl);
  await refuseNonEmpty(databaseUrl);
  await applyRoles(databaseUrl, await readFile(join(dir, manifest.roles.file), 'utf8'));
  const { dbname, env } = libpq(databaseUrl);
  await run('pg_restore', ['--exit-on-error', '--single-transaction', `--dbname=${dbname}`, join(dir, manifest.database.file)], env);
  const inventory = await takeInventory(databaseUrl);
  return { inventory, differences: compareInventories(manifest.inventory, inventory) };
}

async function refuseNonEmpty(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from pg_tables where schemaname = $1 or schemaname ~ $2', ['public', TENANT_SCHEMA_PATTERN.source]);
    if (rows[0]!.n > 0) throw new Error('the target database is not empty: restore into a new database, then point DATABASE_URL at it');
  } finally {
    await client.end();
  }
}

/**
 * roles.sql, statement by statement. Roles are cluster-wide: one that is
 * there already (this cluster's own) is kept as it is, attributes and
 * password included; one made here gets the attributes it had.
 */
async function applyRoles(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const made = new Set<string>();
  try {
    for (const statement of sql.split('\n').filter((l) => l.trim())) {
      const [verb, , role] = statement.split(/\s+/);
      if (verb === 'ALTER' && !made.has(role!)) continue;
      try {
        await client.query(statement);
        if (verb === 'CREATE') made.add(role!.replace(/;$/, ''));
      } catch (err) {
        if ((err as { code?: string }).code !== '42710') throw err; // duplicate_object: the role is there
      }
    }
  } finally {
    await client.end();
  }
}
