import pg from 'pg';
import { dropDatabase, ensureDatabase } from '@domaeka/core';
import { migrate } from '@domaeka/migrations/migrate';
import { TEMPLATE_DB, adminDatabaseUrl } from './env.js';

/**
 * Migrates a template database once per run; each test file clones it. An
 * advisory lock keeps two vitest runs started together from racing.
 */
export async function setup(): Promise<void> {
  const url = adminDatabaseUrl(TEMPLATE_DB);
  const lock = new pg.Client({ connectionString: adminDatabaseUrl('postgres') });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock(741852)');
    await dropDatabase(url);
    await ensureDatabase(url);
    await migrate(url);
  } finally {
    await lock.end();
  }
}
