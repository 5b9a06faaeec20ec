import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/** A browser session (`sessions`); `id` is the sha256 hex of the cookie token, never the token. */
export interface Session {
  id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
}

export const Session = new EntitySchema<Session>({
  name: 'Session',
  tableName: 'sessions',
  properties: {
    id: { type: 'string', columnType: 'text', primary: true },
    userId: { ...foreignKey('User', 'sessions', 'user_id', { deleteRule: 'cascade' }), index: 'sessions_user_idx' },
    createdAt: createdAtColumn('created_at'),
    expiresAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'expires_at' },
  },
});
