import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/**
 * A named secret of a tenant (`tenant_secrets`): given to its code as
 * `os.environ[name]` for a call and usable in HTTP target headers as
 * `{{secret:NAME}}`. The value is sealed with SecretBox and never shown again.
 */
export interface TenantSecret {
  id: string;
  tenantId: string;
  name: string;
  valueEnc: string;
  createdAt: Date;
  updatedAt: Date;
}

export const TenantSecret = new EntitySchema<TenantSecret>({
  name: 'TenantSecret',
  tableName: 'tenant_secrets',
  uniques: [{ name: 'tenant_secrets_tenant_id_name_key', properties: ['tenantId', 'name'] }],
  checks: [{ name: 'tenant_secrets_name_check', expression: "name ~ '^[A-Z][A-Z0-9_]{0,63}$'" }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: foreignKey('Tenant', 'tenant_secrets', 'tenant_id', { deleteRule: 'cascade' }),
    name: { type: 'string', columnType: 'text' },
    valueEnc: { type: 'string', columnType: 'text', fieldName: 'value_enc', hidden: true },
    createdAt: createdAtColumn('created_at'),
    updatedAt: createdAtColumn('updated_at'),
  },
});
