import pg from 'pg';
import { dropDatabase, ensureDatabase } from '@domaeka/core';
import { migrate } from '@domaeka/migrations/migrate';
import { TEMPLATE_DB, adminDatabaseUrl } from './env.js';

/**
 * Makes the migrated template database each test file clones, once per set of
 * migrations (its name is their digest): a run finding it complete leaves it
 * as it is, so runs of the same tree at the same time share it and never drop
 * it under each other. An advisory lock keeps two runs started together from
 * racing; a template left half made (a killed run) is made again.
 */
export async function setup(): Promise<void> {
  const url = adminDatabaseUrl(TEMPLATE_DB);
  const lock = new pg.Client({ connectionString: adminDatabaseUrl('postgres') });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock(741852)');
    const { rows } = await lock.query<{ comment: string | null }>(
      'select shobj_description(oid, $2) as comment from pg_database where datname = $1',
      [TEMPLATE_DB, 'pg_database'],
    );
    if (rows[0]?.comment === COMPLETE) return;
    await dropDatabase(url);
    await ensureDatabase(url);
    await migrate(url);
    await lock.query(`comment on database ${TEMPLATE_DB} is '${COMPLETE}'`);
  } finally {
    await lock.end();
  }
}

const COMPLETE = 'migrated';
