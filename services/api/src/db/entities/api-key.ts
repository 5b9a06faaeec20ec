import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/** A bearer key for scripts (`api_keys`); only the sha256 of the key is stored. */
export interface ApiKey {
  id: string;
  tenantId: string;
  userId: string;
  name: string;
  keyHash: string;
  /** The first characters of the key, so a user can tell keys apart. */
  keyPrefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export const ApiKey = new EntitySchema<ApiKey>({
  name: 'ApiKey',
  tableName: 'api_keys',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { ...foreignKey('Tenant', 'api_keys', 'tenant_id'), index: 'api_keys_tenant_idx' },
    userId: foreignKey('User', 'api_keys', 'user_id'),
    name: { type: 'string', columnType: 'text' },
    keyHash: { type: 'string', columnType: 'text', fieldName: 'key_hash', unique: 'api_keys_key_hash_key', hidden: true },
    keyPrefix: { type: 'string', columnType: 'text', fieldName: 'key_prefix' },
    createdAt: createdAtColumn('created_at'),
    lastUsedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'last_used_at', nullable: true },
    revokedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'revoked_at', nullable: true },
  },
});
