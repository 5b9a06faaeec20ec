import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm } from '../src/db/orm.js';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv('api-entities');
});
afterAll(async () => {
  await env?.cleanup();
});

describe('MikroORM entities', () => {
  it('describe exactly the schema the migrations create', async () => {
    const orm = await openOrm(env.databaseUrl);
    try {
      const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      expect(diff.trim()).toBe('');
    } finally {
      await orm.close(true);
    }
  });
});
