import { createHash } from 'node:crypto';

/**
 * The one place a tenant's PostgreSQL names are made (issue 15, "tables"):
 * its schema and the NOLOGIN role that owns what it creates there share
 * one name, `t_` + the first 16 hex digits of sha256(tenant id). A hash,
 * not the id: the name says nothing about the tenant, is a plain lower-case
 * identifier (never quoted wrong), and 64 bits keep collisions out of
 * reach for any number of tenants we will have.
 */
export function tenantSchemaName(tenantId: string): string {
  return `t_${createHash('sha256').update(tenantId, 'utf8').digest('hex').slice(0, 16)}`;
}

/** What every tenant schema name looks like (a guard against a name not made here reaching SQL text). */
export const TENANT_SCHEMA_PATTERN = /^t_[0-9a-f]{16}$/;

/**
 * The login role tenant statements may run under (README, "Defense in
 * depth"): NOINHERIT, no privileges of its own, member of every tenant
 * role, so `RESET ROLE` from a statement the guard missed lands on a role
 * that can do nothing. Made by migration 20261208000150.
 */
export const GATEWAY_ROLE = 'kb_data_gateway';
