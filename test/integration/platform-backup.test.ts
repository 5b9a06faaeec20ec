import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase } from '@domaeka/core';
import { ensureTenantSchema, FREE_TABLE_LIMITS, runTenantStatement } from '@domaeka/tenant-data';
import { backupPlatform, type Manifest } from '../../scripts/backup/backup.js';
import { restoreDrill } from '../../scripts/backup/drill.js';
import { restoreDatabase } from '../../scripts/backup/restore.js';
import { withDatabase } from '../../scripts/backup/tools.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';

/**
 * Issue 15 item 6, the ops side: a whole-platform backup (pg_dump in one
 * snapshot with the tenant schemas and the roles their grants name, the
 * broker's definitions, the secrets key, a manifest of every table's rows)
 * and the restore drill (restored into a scratch database, compared row by
 * row count, migrated, a sealed bot key opened, the queues imported into a
 * scratch vhost; nothing scratch left). A real restore keeps each tenant's
 * tables its role's, so the wall between tenants stands after it.
 */
const ITEMS = 7;

describe('platform backup and restore drill', () => {
  let stack: Stack;
  let dir: string;
  let schema: string;
  let manifest: Manifest;
  const restoredUrls: string[] = [];

  beforeAll(async () => {
    stack = await startStack('platform-backup');
    const shop = await TenantClient.signup(stack.api, 'backup@shop.example', '백업가게');
    await shop.ok('POST', '/bots', { name: '백업봇' });
    await shop.ok('POST', '/commands', { command: '인사', target: { type: 'http', url: stack.stub.url('/hello') } });
    const me = await shop.ok<{ tenant: { id: string } }>('GET', '/me');
    // The tenant's own table, as its code would make it (the same guard and role).
    const pool = new pg.Pool({ connectionString: stack.env.databaseUrl, max: 2 });
    try {
      schema = await ensureTenantSchema(pool, me.tenant.id);
      const made = await runTenantStatement(pool, schema, 'create table 재고 (품목 text primary key, 수량 int not null)', [], FREE_TABLE_LIMITS);
      expect(made.ok).toBe(true);
      for (let i = 0; i < ITEMS; i++) {
        const put = await runTenantStatement(pool, schema, 'insert into 재고 values ($1, $2)', [`품목${i}`, i], FREE_TABLE_LIMITS);
        expect(put.ok).toBe(true);
      }
    } finally {
      await pool.end();
    }
    dir = await mkdtemp(join(tmpdir(), 'kb-backup-'));
    await rm(dir, { recursive: true });
    const keyFile = join(tmpdir(), `kb-backup-key-${process.pid}`);
    await writeFile(keyFile, stack.env.secretsKeyHex, { mode: 0o600 });
    manifest = await backupPlatform({ databaseUrl: stack.env.databaseUrl, outDir: dir, brokerPrefix: stack.env.brokerPrefix, secretsKeyPath: keyFile });
    await rm(keyFile, { force: true });
  }, 120_000);

  afterAll(async () => {
    for (const url of restoredUrls) await dropDatabase(url).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
    await stack?.close();
  });

  it('writes a manifest that counts what it dumped: platform tables, the tenant table and its role, the broker, the key', async () => {
    expect(manifest.inventory.tables['public.bots']).toBe(1);
    expect(manifest.inventory.tables['public.kb_commands']).toBe(1);
    expect(manifest.inventory.tables[`${schema}.재고`]).toBe(ITEMS);
    expect(manifest.inventory.tenantSchemas).toEqual([schema]);
    expect(manifest.roles.names).toEqual(expect.arrayContaining(['kb_data_gateway', schema]));
    // Only this database's tenant roles: other databases of the cluster have their own.
    expect(manifest.roles.names.filter((r) => r.startsWith('t_'))).toEqual([schema]);
    expect(manifest.broker!.prefixQueues).toBeGreaterThan(0);
    expect(manifest.secretsKey).toEqual({ file: 'secrets.key' });
    expect((await readFile(join(dir, 'secrets.key'), 'utf8')).trim()).toBe(stack.env.secretsKeyHex);
  });

  it('the restore drill restores into a scratch database, finds every row, opens a sealed key, imports the queues, and leaves nothing behind', async () => {
    const report = await restoreDrill(dir, stack.env.databaseUrl, { brokerPrefix: stack.env.brokerPrefix });
    expect(report.database.differences).toEqual([]);
    expect(report.secrets).toBe('opened');
    expect(report.broker!.importedQueues).toBe(manifest.broker!.prefixQueues);
    expect(report.ok).toBe(true);
    const admin = new pg.Client({ connectionString: withDatabase(stack.env.databaseUrl, 'postgres') });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [report.database.restoredAs]);
      expect(rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  }, 120_000);

  it('a restore keeps the tenant table its role\'s: the tenant reads its rows, not the platform\'s; a non-empty target is refused', async () => {
    const url = withDatabase(stack.env.databaseUrl, `${new URL(stack.env.databaseUrl).pathname.slice(1)}_restored`);
    restoredUrls.push(url);
    const restored = await restoreDatabase(dir, url);
    expect(restored.differences).toEqual([]);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`set role ${schema}`);
      const { rows } = await c.query(`select sum(수량)::int as total from ${schema}.재고`);
      expect(rows[0].total).toBe((ITEMS * (ITEMS - 1)) / 2);
      await expect(c.query('select count(*) from public.bots')).rejects.toThrow(/permission denied/);
    } finally {
      await c.end();
    }
    await expect(restoreDatabase(dir, url)).rejects.toThrow(/not empty/);
  }, 120_000);
});
