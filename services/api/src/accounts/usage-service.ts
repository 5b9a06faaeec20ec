import type { UsageView } from '@domaeka/broker/contracts';
import { kstDay, kstDayEnd, kstDaysEnding } from '@domaeka/core';
import { apiErrors } from '../errors.js';
import type { Caller } from './caller.js';
import type { Orm } from '../db/em.js';

/** Days `GET /usage` lists (today included). */
export const USAGE_HISTORY_DAYS = 7;

/**
 * The day's test run is counted first (the row's lock orders concurrent
 * runs of a tenant), then compared with the plan read in the same
 * statement: a plan change applies from the next run. Refused runs are
 * counted too, like refused room calls: the counters say how much was
 * asked for, the limits how much was served.
 */
const COUNT_TEST_RUN_SQL = `
  with counted as (
    insert into kb_usage_daily (tenant_id, day, test_runs) values (?, cast(? as date), 1)
    on conflict (tenant_id, day) do update set test_runs = kb_usage_daily.test_runs + 1
    returning tenant_id, test_runs
  )
  select c.test_runs, p.test_runs_per_day
    from counted c join tenants t on t.id = c.tenant_id join plans p on p.id = t.plan_id`;

const PLAN_SQL = `
  select p.id, p.name, p.runs_per_day, p.test_runs_per_day
    from tenants t join plans p on p.id = t.plan_id where t.id = ?`;

const DAYS_SQL = `
  select day::text as day, room_calls, test_runs from kb_usage_daily
   where tenant_id = ? and day between cast(? as date) and cast(? as date)`;

/**
 * Daily execution counters per KST day (`kb_usage_daily`): room calls are
 * counted by the dispatcher when it claims an event, test runs here when
 * one starts. `clock` is the wall clock (tests inject a day).
 */
export class UsageService {
  constructor(
    private readonly orm: Orm,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The KST day of now (`YYYY-MM-DD`). */
  today(): string {
    return kstDay(this.clock());
  }

  /** Counts one test run of today; throws 429 KB_ERR_QUOTA_EXCEEDED beyond the plan's `test_runs_per_day`. */
  async countTestRun(tenantId: string): Promise<void> {
    const now = this.clock();
    const rows: { test_runs: number; test_runs_per_day: number }[] = await this.orm.em.fork().execute(COUNT_TEST_RUN_SQL, [tenantId, kstDay(now)]);
    const r = rows[0];
    if (r && r.test_runs > r.test_runs_per_day) {
      throw apiErrors.quotaExceeded('test runs', r.test_runs, r.test_runs_per_day, new Date(kstDayEnd(now)).toISOString());
    }
  }

  async usage(caller: Caller): Promise<UsageView> {
    const now = this.clock();
    const days = kstDaysEnding(now, USAGE_HISTORY_DAYS);
    const em = this.orm.em.fork();
    const plans: { id: string; name: string; runs_per_day: number; test_runs_per_day: number }[] = await em.execute(PLAN_SQL, [caller.tenantId]);
    const rows: { day: string; room_calls: number; test_runs: number }[] = await em.execute(DAYS_SQL, [caller.tenantId, days[0], days.at(-1)]);
    const plan = plans[0];
    if (!plan) throw apiErrors.unauthenticated();
    const byDay = new Map(rows.map((r) => [r.day, r]));
    const history = days.map((day) => ({ day, roomCalls: byDay.get(day)?.room_calls ?? 0, testRuns: byDay.get(day)?.test_runs ?? 0 }));
    const today = history.at(-1)!;
    return {
      plan: { id: plan.id, name: plan.name },
      today: {
        day: today.day,
        resetsAt: new Date(kstDayEnd(now)).toISOString(),
        roomCalls: { used: today.roomCalls, limit: plan.runs_per_day },
        testRuns: { used: today.testRuns, limit: plan.test_runs_per_day },
      },
      days: history,
    };
  }
}
