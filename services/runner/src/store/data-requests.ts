import { TABLE_OPS, type TableRequests } from '../tables/table-requests.js';
import type { StoreGrants } from './store-grants.js';
import type { Answer, StoreRequests } from './store-requests.js';

/** What a container's data socket answers requests with. */
export interface DataRequests {
  answer(frame: Record<string, unknown>, grants: StoreGrants): Promise<Answer>;
}

/**
 * The data socket's two services, by op: `db.query` / `db.execute` to the
 * tables (services/runner/src/tables), everything else to the store (which
 * names an unknown op). One socket, one admission, one budget per run.
 */
export class DataRouter implements DataRequests {
  constructor(
    private readonly store: StoreRequests,
    private readonly tables: TableRequests | null,
  ) {}

  answer(frame: Record<string, unknown>, grants: StoreGrants): Promise<Answer> {
    if (this.tables && (TABLE_OPS as readonly unknown[]).includes(frame.op)) return this.tables.answer(frame, grants);
    return this.store.answer(frame, grants);
  }
}
