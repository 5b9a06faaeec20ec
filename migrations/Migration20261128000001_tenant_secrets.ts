import { Migration } from '@mikro-orm/migrations';

/**
 * Tenant secrets (issue 4, item 6): named values a tenant's code reads from
 * `os.environ` and its HTTP targets use as `{{secret:NAME}}` in headers.
 * `value_enc` is sealed with SecretBox (`SECRETS_KEY`, AES-256-GCM); the
 * API never returns it. Names are environment-variable shaped (the check
 * repeats the API's rule so no other writer can store what the runtime
 * would refuse).
 */
export class Migration20261128000001_tenant_secrets extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table tenant_secrets (
        id uuid primary key,
        tenant_id uuid not null references tenants(id) on delete cascade,
        name text not null,
        value_enc text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint tenant_secrets_name_check check (name ~ '^[A-Z][A-Z0-9_]{0,63}$'),
        constraint tenant_secrets_tenant_id_name_key unique (tenant_id, name)
      );`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table tenant_secrets;`);
  }
}
