import { EntitySchema, type PrimaryKeyProp } from '@mikro-orm/core';
import { foreignKey } from './columns.js';

/**
 * How often a tenant was throttled, per minute and kind (`kb_throttle`):
 * test runs refused by the plan's per-minute or concurrent limit. Written by
 * the API with an upsert; read by the ops dashboard ("who is throttled").
 */
export interface Throttle {
  [PrimaryKeyProp]?: ['tenantId', 'minute', 'kind'];
  tenantId: string;
  minute: Date;
  kind: string;
  count: number;
}

export const Throttle = new EntitySchema<Throttle>({
  name: 'Throttle',
  tableName: 'kb_throttle',
  indexes: [{ name: 'kb_throttle_minute_idx', properties: ['minute'] }],
  properties: {
    tenantId: { ...foreignKey('Tenant', 'kb_throttle', 'tenant_id', { deleteRule: 'cascade' }), primary: true },
    minute: { type: 'datetime', columnType: 'timestamptz', primary: true },
    kind: { type: 'string', columnType: 'text', primary: true },
    count: { type: 'integer', default: 0 },
  },
});
