import { EntitySchema, type PrimaryKeyProp } from '@mikro-orm/core';

/**
 * The login and signup brakes every API process shares (`kb_auth_attempts`,
 * issue 18): one row per brake and key, the key only as its SHA-256. Read
 * and written with plain SQL by accounts/attempt-store.ts; described here
 * so the entities keep matching the migrations.
 */
export interface AuthAttempt {
  [PrimaryKeyProp]?: ['scope', 'keyHash'];
  scope: string;
  keyHash: Buffer;
  windowMs: number;
  hits: string[];
  expiresMs: string;
}

export const AuthAttempt = new EntitySchema<AuthAttempt>({
  name: 'AuthAttempt',
  tableName: 'kb_auth_attempts',
  indexes: [{ name: 'kb_auth_attempts_expires_idx', properties: ['expiresMs'] }],
  properties: {
    scope: { type: 'string', columnType: 'text', primary: true },
    keyHash: { type: 'blob', columnType: 'bytea', primary: true },
    windowMs: { type: 'integer', columnType: 'integer' },
    hits: { type: 'string[]', columnType: 'bigint[]' },
    expiresMs: { type: 'bigint', columnType: 'bigint' },
  },
});
