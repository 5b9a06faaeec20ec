import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/** A customer account that owns bots and commands (`tenants`). */
export interface Tenant {
  id: string;
  name: string;
  planId: string;
  createdAt: Date;
}

export const Tenant = new EntitySchema<Tenant>({
  name: 'Tenant',
  tableName: 'tenants',
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'string', columnType: 'text' },
    planId: { ...foreignKey('Plan', 'tenants', 'plan_id'), default: 'free' },
    createdAt: createdAtColumn('created_at'),
  },
});
