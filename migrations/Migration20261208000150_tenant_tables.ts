import { Migration } from '@mikro-orm/migrations';

/**
 * Tenant tables (`from domaeka import db`, issue 15; services/tenant-data):
 *
 * - `plans`: the tables' limits per plan: bytes of the tenant's schema
 *   (tables with their indexes and TOAST; free 5 MiB, premium 200 MiB),
 *   rows one statement may return (free 500, premium 5,000) and the
 *   statement timeout (free 1 s, premium 5 s). They travel to the runner
 *   with each call (the call's profile), like the store's quotas.
 * - the role `kb_data_gateway` (LOGIN, NOINHERIT, no privileges of its own):
 *   the login tenant statements may run under (RUNNER_TABLES_DATABASE_URL);
 *   each tenant role is granted to it when the tenant's schema is made, so
 *   it can `SET ROLE` to a tenant and, should a statement ever get `RESET
 *   ROLE` past the guard, lands on a role that can read nothing. No
 *   password here: an operator who uses it sets one (`ALTER ROLE ...
 *   PASSWORD`). Roles are cluster-wide: made once, kept by `down`, taken as
 *   made when another database of the cluster made it first.
 *
 * Tenant schemas and roles themselves are made on a tenant's first
 * statement (ensureTenantSchema), not here.
 */
export class Migration20261208000150_tenant_tables extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table plans add column db_max_bytes bigint not null default 5242880;`);
    this.addSql(`alter table plans add column db_max_rows integer not null default 500;`);
    this.addSql(`alter table plans add column db_statement_timeout_ms integer not null default 1000;`);
    this.addSql(`update plans set db_max_bytes = 209715200, db_max_rows = 5000, db_statement_timeout_ms = 5000 where id = 'premium';`);
    this.addSql(`
      do $$
      begin
        if not exists (select 1 from pg_roles where rolname = 'kb_data_gateway') then
          create role kb_data_gateway login noinherit nosuperuser nocreatedb nocreaterole noreplication;
        end if;
      exception when duplicate_object or unique_violation then null;
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table plans drop column db_max_bytes, drop column db_max_rows, drop column db_statement_timeout_ms;`);
  }
}
