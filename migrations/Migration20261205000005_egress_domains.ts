import { Migration } from '@mikro-orm/migrations';

/**
 * A tenant's egress domain allowlist (DESIGN.md section 5): the host names
 * its sandbox code may reach through the runner's egress proxy, on a plan
 * whose `network` is `allowlist`. One row per name, exactly as the API
 * stored it (lower case, punycode, `*.` for the names below a domain), so
 * the dispatcher and runner read it with one select and `DomainList`.
 *
 * A table rather than an array column on `tenants`: it follows
 * `tenant_secrets` (per-tenant rows, cascade on delete), keeps the tenant
 * row out of every allowlist save, and lets the check below hold per name.
 * The check repeats the API's rule coarsely (no scheme, port, path or IPv4
 * literal can get in through another writer); the API gives the messages.
 */
export class Migration20261205000005_egress_domains extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table kb_egress_domains (
        tenant_id uuid not null references tenants(id) on delete cascade,
        domain text not null,
        created_at timestamptz not null default now(),
        constraint kb_egress_domains_pkey primary key (tenant_id, domain),
        constraint kb_egress_domains_domain_check check (length(domain) <= 255 and domain ~ '^(\\*\\.)?([a-z0-9-]{1,63}\\.)+[a-z0-9-]*[a-z][a-z0-9-]*$')
      );`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table kb_egress_domains;`);
  }
}
