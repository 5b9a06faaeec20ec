import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { migrationsList } from '@domaeka/migrations';
import { entities } from '../entities/index.js';

/** MikroORM for the management side (the hot path uses the pg pool). */
export function ormOptions(databaseUrl: string): Options {
  return {
    clientUrl: databaseUrl,
    entities: [...entities],
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false },
    pool: { min: 0, max: 10 },
    debug: false,
  };
}

export async function openOrm(databaseUrl: string): Promise<MikroORM> {
  return MikroORM.init(ormOptions(databaseUrl));
}

/** Applies pending migrations; returns the names applied. */
export async function migrate(databaseUrl: string): Promise<string[]> {
  const orm = await MikroORM.init({ ...ormOptions(databaseUrl), entities: [], discovery: { warnWhenNoEntities: false } });
  try {
    const done = await orm.getMigrator().up();
    return done.map((m) => m.name);
  } finally {
    await orm.close(true);
  }
}
