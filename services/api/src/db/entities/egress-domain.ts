import { EntitySchema, type PrimaryKeyProp } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/**
 * One name of a tenant's egress domain allowlist (`kb_egress_domains`):
 * an exact host (`api.example.com`) or `*.example.com` for the names below
 * it, stored canonical (lower case, punycode) as `DomainList` reads it.
 * Used only on a plan whose `network` is `allowlist`.
 */
export interface EgressDomain {
  [PrimaryKeyProp]?: ['tenantId', 'domain'];
  tenantId: string;
  domain: string;
  createdAt: Date;
}

export const EgressDomain = new EntitySchema<EgressDomain>({
  name: 'EgressDomain',
  tableName: 'kb_egress_domains',
  checks: [
    {
      name: 'kb_egress_domains_domain_check',
      expression: "length(domain) <= 255 and domain ~ '^(\\*\\.)?([a-z0-9-]{1,63}\\.)+[a-z0-9-]*[a-z][a-z0-9-]*$'",
    },
  ],
  properties: {
    tenantId: { ...foreignKey('Tenant', 'kb_egress_domains', 'tenant_id', { deleteRule: 'cascade' }), primary: true },
    domain: { type: 'string', columnType: 'text', primary: true },
    createdAt: createdAtColumn('created_at'),
  },
});
