import pg from 'pg';
import { tenantSchemaName } from '@domaeka/tenant-data';
import { adminDatabaseUrl } from './env.js';

/**
 * A tenant's table role (`t_<hash>`, made by the first use of its tables:
 * a runner's db call or the API's 데이터 routes) belongs to the cluster, not
 * the test's database: dropped with the test, after the database's stack.
 */
export async function dropTenantRoles(tenantIds: readonly string[]): Promise<void> {
  if (tenantIds.length === 0) return;
  const admin = new pg.Client({ connectionString: adminDatabaseUrl('postgres') });
  await admin.connect();
  try {
    for (const id of tenantIds) await admin.query(`drop role if exists ${tenantSchemaName(id)}`).catch(() => undefined);
  } finally {
    await admin.end();
  }
}
