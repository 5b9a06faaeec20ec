import { dropDatabase, ensureDatabase, migrate } from '@domaeka/core';
import { TEMPLATE_DB, adminDatabaseUrl } from './env.js';

/** Migrates a template database once per run; each test file clones it. */
export async function setup(): Promise<void> {
  const url = adminDatabaseUrl(TEMPLATE_DB);
  await dropDatabase(url);
  await ensureDatabase(url);
  await migrate(url);
}
