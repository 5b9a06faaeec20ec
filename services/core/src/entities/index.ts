import type { EntitySchema } from '@mikro-orm/core';

/** Every MikroORM entity (management side). Filled in by the entity files. */
export const entities: EntitySchema<any, any>[] = [];
