import { BigIntType, EntitySchema, type PrimaryKeyProp } from '@mikro-orm/core';
import { foreignKey } from './columns.js';

/**
 * One key of a tenant's key-value store (`kb_store`): what tenant code
 * stored with `store.set`/`store.incr` (`from domaeka import store`). The
 * runner writes it with the migration's functions (one round trip, the
 * tenant's usage row locked, quotas checked); mapped here for the
 * management side (the future data page). A row whose `expiresAt` passed
 * reads as missing and is deleted lazily or by the runners' sweep.
 */
export interface StoreEntry {
  [PrimaryKeyProp]?: ['tenantId', 'key'];
  tenantId: string;
  /** 1..200 characters, sorted bytewise (`collate "C"`). */
  key: string;
  /** The JSON value as stored. */
  value: unknown;
  /** UTF-8 length of the value's compact JSON text: what the plan's byte quota counts. */
  bytes: number;
  expiresAt: Date | null;
  updatedAt: Date;
}

export const StoreEntry = new EntitySchema<StoreEntry>({
  name: 'StoreEntry',
  tableName: 'kb_store',
  indexes: [{ name: 'kb_store_expires_idx', expression: 'create index kb_store_expires_idx on kb_store(expires_at) where expires_at is not null' }],
  properties: {
    tenantId: { ...foreignKey('Tenant', 'kb_store', 'tenant_id', { deleteRule: 'cascade' }), primary: true },
    key: { type: 'string', columnType: 'text', primary: true },
    value: { type: 'json', columnType: 'jsonb' },
    bytes: { type: 'integer' },
    expiresAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'expires_at', nullable: true },
    updatedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'updated_at', defaultRaw: 'now()', onCreate: () => new Date() },
  },
});

/**
 * A tenant's store usage (`kb_store_usage`): its keys and bytes, kept
 * exact by the store functions (counting rows at every write would read
 * up to 100,000 of them). Checked against `plans.store_max_keys` and
 * `store_max_bytes` on every write that grows the store.
 */
export interface StoreUsage {
  tenantId: string;
  keys: number;
  bytes: number;
}

export const StoreUsage = new EntitySchema<StoreUsage>({
  name: 'StoreUsage',
  tableName: 'kb_store_usage',
  properties: {
    tenantId: { ...foreignKey('Tenant', 'kb_store_usage', 'tenant_id', { deleteRule: 'cascade' }), primary: true },
    keys: { type: 'integer', default: 0 },
    bytes: { type: new BigIntType('number'), default: 0 },
  },
});
