import { Migration } from '@mikro-orm/migrations';

/**
 * Schedules (issue 15 item 3): a command run on a cron expression read in
 * KST, its reply sent to rooms the tenant chose (`rooms`: `[{botId, room,
 * channelId}]`, checked against the tenant's approved rooms when saved and
 * again at each fire).
 *
 * `kb_schedule_fires` makes a fire happen once with any number of scheduler
 * instances: the primary key (schedule_id, fire_at) admits one row per
 * period; `event_id` is the `schedule.fire` event the dispatcher dedupes on
 * (its outbox). `claimed` rows not `published` after a while are republished
 * by any instance (a crash between commit and publish); `skipped` rows are
 * periods missed during downtime that the missed-fire policy did not run.
 */
export class Migration20261208000200_schedules extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table kb_schedules (
        id uuid primary key,
        tenant_id uuid not null references tenants(id),
        command_id bigint not null references kb_commands(id),
        cron text not null check (char_length(cron) <= 200),
        label text not null check (char_length(label) <= 200),
        rooms jsonb not null default '[]'::jsonb,
        input_text text not null default '' check (char_length(input_text) <= 2000),
        enabled boolean not null default true,
        next_fire_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`create index kb_schedules_due_idx on kb_schedules(next_fire_at) where enabled;`);
    this.addSql(`create index kb_schedules_tenant_idx on kb_schedules(tenant_id, created_at);`);
    this.addSql(`
      create table kb_schedule_fires (
        schedule_id uuid not null references kb_schedules(id) on delete cascade,
        fire_at timestamptz not null,
        event_id uuid not null unique,
        state text not null check (state in ('claimed','published','skipped')),
        late_ms integer not null default 0,
        claimed_by text,
        claimed_at timestamptz not null,
        published_at timestamptz,
        primary key (schedule_id, fire_at)
      );`);
    this.addSql(`create index kb_schedule_fires_unpublished_idx on kb_schedule_fires(claimed_at) where state = 'claimed';`);
    // A schedule's recent fires show their call's outcome; partial, so room calls (the hot path) maintain no extra index.
    this.addSql(`create index kb_api_logs_schedule_event_idx on kb_api_logs(event_id) where source = 'schedule';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index kb_api_logs_schedule_event_idx;`);
    this.addSql(`drop table kb_schedule_fires;`);
    this.addSql(`drop table kb_schedules;`);
  }
}
