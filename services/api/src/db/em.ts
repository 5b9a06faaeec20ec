import type { openOrm } from './orm.js';

/** The MikroORM instance of the management side (PostgreSQL driver). */
export type Orm = Awaited<ReturnType<typeof openOrm>>;
/** A forked EntityManager: one per request / per service call, never the global one. */
export type Em = Orm['em'];
