import type { Orm } from '../db/em.js';

/**
 * The checklist's four facts in one statement, each by tenant id over an
 * index of its table (bots_tenant_idx, kb_commands' tenant, devices by
 * bot, kb_api_logs_tenant_idx): a home page polled while a step is open
 * must cost next to nothing.
 */
export const ONBOARDING_SQL = `
  with b as (select id, created_at from bots where tenant_id = ?),
       d as (select d.bot_id, d.status, d.first_seen_at from devices d join b on b.id = d.bot_id where d.status in ('pending','approved'))
  select (select id from b order by created_at, id limit 1) as first_bot,
         (select id from kb_commands where tenant_id = ? and deleted_at is null order by id limit 1) as first_command,
         (select count(*)::int from d where status = 'approved') as approved,
         (select count(*)::int from d where status = 'pending') as pending,
         (select bot_id from d order by status = 'pending' desc, first_seen_at limit 1) as phone_bot,
         (select created_at from kb_api_logs where tenant_id = ? order by created_at limit 1) as first_call`;

export interface OnboardingRow {
  first_bot: string | null;
  first_command: string | number | null;
  approved: number;
  pending: number;
  phone_bot: string | null;
  first_call: Date | null;
}

/** What the first-run checklist reads (onboarding-service.ts makes the view). */
export class OnboardingRepository {
  constructor(private readonly orm: Orm) {}

  async facts(tenantId: string): Promise<OnboardingRow> {
    const [row] = await this.orm.em.fork().execute<OnboardingRow[]>(ONBOARDING_SQL, [tenantId, tenantId, tenantId]);
    return row!;
  }
}
