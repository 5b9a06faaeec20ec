import { Migration } from '@mikro-orm/migrations';

/**
 * Test runs (`POST /api/v1/runs`): one row per run, read back by
 * `GET /api/v1/runs/:id` (tenant-scoped). `status` moves queued -> running
 * -> succeeded | failed; `error` is `{code, message, line?}`.
 */
export class Migration20261127000001_runs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table kb_runs (
        id uuid primary key,
        tenant_id uuid not null references tenants(id),
        user_id uuid references users(id),
        command_id bigint references kb_commands(id),
        status text not null check (status in ('queued','running','succeeded','failed')),
        code text not null,
        input jsonb not null,
        result jsonb,
        error jsonb,
        output text not null default '',
        duration_ms integer,
        cpu_ms double precision,
        peak_memory_bytes bigint,
        created_at timestamptz not null default now(),
        finished_at timestamptz
      );`);
    this.addSql(`create index kb_runs_tenant_idx on kb_runs(tenant_id, created_at desc);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table kb_runs;`);
  }
}
