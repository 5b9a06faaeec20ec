import { Migration } from '@mikro-orm/migrations';

/**
 * Fair share and poison-proofing (issue 12).
 *
 * - `plans`: limits on editor test runs per minute and at once, and the most
 *   room calls one tenant may have in hand at a dispatcher (beyond: answered
 *   "busy", so other tenants' calls pass). Free 10/min, 2 at once, 8 in hand;
 *   premium 60/min, 4 at once, 64 in hand.
 * - `kb_runs.deadline_at`: when no runner can still be on the run; a run
 *   still queued/running after it is swept to `failed`.
 * - `kb_outbox.attempts`: how many deliveries claimed the row; a row retried
 *   too often is answered with an error instead of calling the target again.
 * - `kb_throttle`: per tenant, minute and kind, how often it was throttled
 *   (the ops dashboard's "who is throttled"); purged with the usage counters.
 */
export class Migration20261207000001_fair_share extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table plans add column test_runs_per_minute integer not null default 10;`);
    this.addSql(`alter table plans add column test_runs_concurrent integer not null default 2;`);
    this.addSql(`alter table plans add column room_calls_in_flight integer not null default 8;`);
    this.addSql(`update plans set test_runs_per_minute = 60, test_runs_concurrent = 4, room_calls_in_flight = 64 where id = 'premium';`);
    this.addSql(`alter table kb_runs add column deadline_at timestamptz;`);
    this.addSql(`create index kb_runs_unfinished_idx on kb_runs(deadline_at) where status in ('queued','running');`);
    this.addSql(`alter table kb_outbox add column attempts integer not null default 1;`);
    this.addSql(`
      create table kb_throttle (
        tenant_id uuid not null references tenants(id) on delete cascade,
        minute timestamptz not null,
        kind text not null,
        count integer not null default 0,
        constraint kb_throttle_pkey primary key (tenant_id, minute, kind)
      );`);
    this.addSql(`create index kb_throttle_minute_idx on kb_throttle(minute);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table kb_throttle;`);
    this.addSql(`alter table kb_outbox drop column attempts;`);
    this.addSql(`drop index kb_runs_unfinished_idx;`);
    this.addSql(`alter table kb_runs drop column deadline_at;`);
    this.addSql(`alter table plans drop column test_runs_per_minute, drop column test_runs_concurrent, drop column room_calls_in_flight;`);
  }
}
