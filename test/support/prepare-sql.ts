import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createTestEnv, type TestEnv } from './env.js';

/**
 * A pg client on this file's own clone of the migrated database, connected
 * before the file's tests and closed after (the tests may alter the clone).
 */
export function migratedDatabase(name: string): { client(): pg.Client } {
  let env: TestEnv | undefined;
  let client: pg.Client | undefined;
  beforeAll(async () => {
    env = await createTestEnv(name);
    client = new pg.Client({ connectionString: env.databaseUrl });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await env?.cleanup();
  });
  return {
    client: () => {
      if (!client) throw new Error('the database is not ready yet (call client() inside a test)');
      return client;
    },
  };
}

/**
 * SQL `PREPARE` parses and analyses each statement (every table, column and
 * type is resolved, parameter types inferred) without running it, so no
 * rows are needed and nothing is written. Statements written for MikroORM
 * (`?` placeholders, knex's) are numbered as knex numbers them for pg;
 * those written for pg (`$1`) are sent as they are.
 * Returns the failures by name.
 */
export async function prepareAll(client: pg.Client, statements: Record<string, string>, names = Object.keys(statements)): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  let n = 0;
  for (const name of names) {
    const id = `kb_check_${++n}`;
    try {
      await client.query(`prepare ${id} as ${positional(statements[name]!)}`);
      await client.query(`deallocate ${id}`);
    } catch (err) {
      failed.set(name, `${(err as { code?: string }).code}: ${(err as Error).message}`);
    }
  }
  return failed;
}

function positional(sql: string): string {
  if (/\$\d/.test(sql)) return sql;
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}
