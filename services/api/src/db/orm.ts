import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { entities } from './entities/index.js';

/**
 * MikroORM for the management side (the hot paths of the other services use
 * plain SQL on a pg pool; test/integration/hot-path-sql.test.ts prepares
 * those statements against the migrated schema). The schema itself is the
 * migrations' (@domaeka/migrations): this never creates or alters a table.
 */
export function ormOptions(databaseUrl: string): Options {
  return {
    clientUrl: databaseUrl,
    entities: [...entities],
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: 10 },
    debug: false,
  };
}

export async function openOrm(databaseUrl: string): Promise<MikroORM> {
  return MikroORM.init(ormOptions(databaseUrl));
}
