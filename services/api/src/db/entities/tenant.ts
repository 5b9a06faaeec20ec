import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/** A customer account that owns bots and commands (`tenants`). */
export interface Tenant {
  id: string;
  name: string;
  planId: string;
  /** What a room reads when the tenant's code fails (null: the platform's polite default); never a line or a traceback. */
  errorReply: string | null;
  createdAt: Date;
}

export const Tenant = new EntitySchema<Tenant>({
  name: 'Tenant',
  tableName: 'tenants',
  checks: [{ name: 'tenants_error_reply_check', expression: 'char_length(error_reply) >= 1 and char_length(error_reply) <= 200' }],
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'string', columnType: 'text' },
    planId: { ...foreignKey('Plan', 'tenants', 'plan_id'), default: 'free' },
    errorReply: { type: 'string', columnType: 'text', fieldName: 'error_reply', nullable: true },
    createdAt: createdAtColumn('created_at'),
  },
});
