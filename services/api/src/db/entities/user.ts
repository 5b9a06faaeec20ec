import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/** A person who signs in (`users`); `email` is citext, so lookups ignore case. */
export interface User {
  id: string;
  tenantId: string;
  email: string;
  name: string;
  passwordHash: string;
  isAdmin: boolean;
  createdAt: Date;
}

export const User = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: foreignKey('Tenant', 'users', 'tenant_id'),
    email: { type: 'string', columnType: 'citext', unique: 'users_email_key' },
    name: { type: 'string', columnType: 'text' },
    passwordHash: { type: 'string', columnType: 'text', fieldName: 'password_hash', hidden: true },
    isAdmin: { type: 'boolean', fieldName: 'is_admin', default: false },
    createdAt: createdAtColumn('created_at'),
  },
});
