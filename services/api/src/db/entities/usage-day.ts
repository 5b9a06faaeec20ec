import { EntitySchema, type PrimaryKeyProp } from '@mikro-orm/core';
import { foreignKey } from './columns.js';

/**
 * A tenant's execution counters for one KST day (`kb_usage_daily`). Room
 * calls are counted by the dispatcher with raw SQL when it first claims an
 * event; test runs by the API when a run starts. Mapped here for the
 * management side.
 */
export interface UsageDay {
  [PrimaryKeyProp]?: ['tenantId', 'day'];
  tenantId: string;
  /** `YYYY-MM-DD`, the Korean calendar day. */
  day: string;
  roomCalls: number;
  testRuns: number;
}

export const UsageDay = new EntitySchema<UsageDay>({
  name: 'UsageDay',
  tableName: 'kb_usage_daily',
  properties: {
    tenantId: { ...foreignKey('Tenant', 'kb_usage_daily', 'tenant_id', { deleteRule: 'cascade' }), primary: true },
    day: { type: 'string', columnType: 'date', primary: true },
    roomCalls: { type: 'integer', fieldName: 'room_calls', default: 0 },
    testRuns: { type: 'integer', fieldName: 'test_runs', default: 0 },
  },
});
