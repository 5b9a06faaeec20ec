import { Migration } from '@mikro-orm/migrations';

/**
 * Messages from tenant code (`from domaeka import send`, issue 15 item 4):
 * `plans.sends_per_day`, the messages a tenant's code may send to its rooms
 * a day (KST; free 100, premium 5,000), counted from the delivery rows the
 * dispatcher writes to kb_api_logs with `source = 'send'` (one per room
 * reached, or one naming why nothing was). The partial index serves that
 * count only: room calls pay nothing for it.
 */
export class Migration20261208000500_sends extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table plans add column sends_per_day integer not null default 100;`);
    this.addSql(`update plans set sends_per_day = 5000 where id = 'premium';`);
    this.addSql(`create index kb_api_logs_sends_idx on kb_api_logs (tenant_id, created_at) where source = 'send';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index kb_api_logs_sends_idx;`);
    this.addSql(`alter table plans drop column sends_per_day;`);
  }
}
