import type { Orm } from '../db/em.js';

/**
 * The day's test run is counted first (the row's lock orders concurrent
 * runs of a tenant), then compared with the plan read in the same
 * statement: a plan change applies from the next run. Refused runs are
 * counted too, like refused room calls: the counters say how much was
 * asked for, the limits how much was served.
 */
export const COUNT_TEST_RUN_SQL = `
  with counted as (
    insert into kb_usage_daily (tenant_id, day, test_runs) values (?, cast(? as date), 1)
    on conflict (tenant_id, day) do update set test_runs = kb_usage_daily.test_runs + 1
    returning tenant_id, test_runs
  )
  select c.test_runs, p.test_runs_per_day
    from counted c join tenants t on t.id = c.tenant_id join plans p on p.id = t.plan_id`;

export const PLAN_LIMITS_SQL = `
  select p.id, p.name, p.runs_per_day, p.test_runs_per_day
    from tenants t join plans p on p.id = t.plan_id where t.id = ?`;

export const USAGE_DAYS_SQL = `
  select day::text as day, room_calls, test_runs from kb_usage_daily
   where tenant_id = ? and day between cast(? as date) and cast(? as date)`;

export interface UsageDayRow {
  day: string;
  room_calls: number;
  test_runs: number;
}

/** A tenant's daily counters (`kb_usage_daily`, per KST day `YYYY-MM-DD`) and its plan's daily limits. */
export class UsageRepository {
  constructor(private readonly orm: Orm) {}

  /** Counts one test run of `day`; the count so far and the plan's limit (undefined only for a tenant that is gone). */
  async countTestRun(tenantId: string, day: string): Promise<{ test_runs: number; test_runs_per_day: number } | undefined> {
    const rows: { test_runs: number; test_runs_per_day: number }[] = await this.orm.em.fork().execute(COUNT_TEST_RUN_SQL, [tenantId, day]);
    return rows[0];
  }

  async planLimits(tenantId: string): Promise<{ id: string; name: string; runs_per_day: number; test_runs_per_day: number } | undefined> {
    const rows: { id: string; name: string; runs_per_day: number; test_runs_per_day: number }[] = await this.orm.em.fork().execute(PLAN_LIMITS_SQL, [tenantId]);
    return rows[0];
  }

  /** The days from `from` to `to` (KST, inclusive) that have a row; days without calls have none. */
  days(tenantId: string, from: string, to: string): Promise<UsageDayRow[]> {
    return this.orm.em.fork().execute(USAGE_DAYS_SQL, [tenantId, from, to]);
  }
}
