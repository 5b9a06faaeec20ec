import type { UsageView } from '@domaeka/broker/contracts';
import { kstDay, kstDayEnd, kstDaysEnding } from '@domaeka/core';
import { apiErrors } from '../errors.js';
import type { Caller } from './caller.js';
import type { Orm } from '../db/em.js';
import { UsageRepository } from './usage-repository.js';

/** Days `GET /usage` lists (today included). */
export const USAGE_HISTORY_DAYS = 7;

/**
 * Daily execution counters per KST day (`kb_usage_daily`): room calls are
 * counted by the dispatcher when it claims an event, test runs here when
 * one starts. `clock` is the wall clock (tests inject a day).
 */
export class UsageService {
  private readonly counters: UsageRepository;

  constructor(
    orm: Orm,
    private readonly clock: () => number = Date.now,
  ) {
    this.counters = new UsageRepository(orm);
  }

  /** The KST day of now (`YYYY-MM-DD`). */
  today(): string {
    return kstDay(this.clock());
  }

  /** Counts one test run of today; throws 429 KB_ERR_QUOTA_EXCEEDED beyond the plan's `test_runs_per_day`. */
  async countTestRun(tenantId: string): Promise<void> {
    const now = this.clock();
    const r = await this.counters.countTestRun(tenantId, kstDay(now));
    if (r && r.test_runs > r.test_runs_per_day) {
      throw apiErrors.quotaExceeded('test runs', r.test_runs, r.test_runs_per_day, new Date(kstDayEnd(now)).toISOString());
    }
  }

  async usage(caller: Caller): Promise<UsageView> {
    const now = this.clock();
    const days = kstDaysEnding(now, USAGE_HISTORY_DAYS);
    const plan = await this.counters.planLimits(caller.tenantId);
    const rows = await this.counters.days(caller.tenantId, days[0]!, days.at(-1)!);
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
