import { Migration } from '@mikro-orm/migrations';

/**
 * Daily execution counters (issue 4, plans and quotas). One row per tenant
 * per Korean calendar day (KST, UTC+9, no daylight saving: the day turns at
 * 15:00 UTC), written by the dispatcher in the statement that first claims a
 * room call's outbox row (so a redelivered event, which finds its row, is
 * never counted again) and by the API when a test run starts. Test runs
 * have their own limit, `plans.test_runs_per_day`.
 */
export class Migration20261128000002_usage extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table plans add column test_runs_per_day integer not null default 200;`);
    this.addSql(`update plans set test_runs_per_day = 20000 where id = 'premium';`);
    this.addSql(`
      create table kb_usage_daily (
        tenant_id uuid not null references tenants(id) on delete cascade,
        day date not null,
        room_calls integer not null default 0,
        test_runs integer not null default 0,
        primary key (tenant_id, day)
      );`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table kb_usage_daily;`);
    this.addSql(`alter table plans drop column test_runs_per_day;`);
  }
}
