import type { CommandStats, CommandStatsItem, UsageHistory } from '@domaeka/broker/contracts';
import { kstDaysEnding } from '@domaeka/core';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import { WINDOW_SPANS, errorRate, millis, type StatsWindow } from './log-rules.js';
import type { Em, Orm } from '../db/em.js';

/*
 * All in SQL over kb_api_logs, always by tenant id (and command id: the
 * (command_id, created_at) index), windows ending at now(). Window spans
 * and steps are interval parameters, never spliced into the text.
 */
const COMMAND_SQL = `select id from kb_commands where id = ? and tenant_id = ?`;

const TOTALS_SQL = `
  select count(*)::int as calls, count(error_code)::int as errors,
         percentile_cont(0.5) within group (order by response_time) as p50,
         percentile_cont(0.95) within group (order by response_time) as p95,
         avg(response_time)::float8 as avg
    from kb_api_logs
   where tenant_id = ? and command_id = ? and created_at >= now() - cast(? as interval)`;

// Points start on whole steps of Korean time (a `week` point is a KST day), the first one may be partial.
const SERIES_SQL = `
  with w as (select now() - cast(? as interval) as since, cast(? as interval) as step),
  b as (select generate_series(date_bin(w.step, w.since, timestamptz '2000-01-03 00:00:00+09'), now(), w.step) as t, w.step, w.since from w)
  select b.t, count(l.id)::int as calls, count(l.error_code)::int as errors
    from b left join kb_api_logs l
      on l.tenant_id = ? and l.command_id = ? and l.created_at >= b.since and l.created_at >= b.t and l.created_at < b.t + b.step
   group by b.t order by b.t`;

const ALL_SQL = `
  select c.id, c.command, count(l.id)::int as calls, count(l.error_code)::int as errors,
         percentile_cont(0.5) within group (order by l.response_time) as p50,
         percentile_cont(0.95) within group (order by l.response_time) as p95
    from kb_commands c
    left join kb_api_logs l on l.command_id = c.id and l.tenant_id = c.tenant_id and l.created_at >= now() - cast(? as interval)
   where c.tenant_id = ? and c.deleted_at is null
   group by c.id, c.command order by c.id`;

const USAGE_SQL = `
  select day::text as day, room_calls, test_runs from kb_usage_daily
   where tenant_id = ? and day between cast(? as date) and cast(? as date)`;

interface TotalsRow {
  calls: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  avg: number | null;
}

/**
 * Call statistics per command (for the commands list and a command's page)
 * and the daily usage history (for the usage chart). `clock` is the wall
 * clock of the KST days (the one UsageService counts with).
 */
export class StatsService {
  constructor(
    private readonly orm: Orm,
    private readonly clock: () => number = Date.now,
  ) {}

  /** One command's calls in the window; a command of another tenant (or none) is 404. Deleted ones still answer. */
  async command(caller: Caller, commandId: number, window: StatsWindow): Promise<CommandStats> {
    const { span, step } = WINDOW_SPANS[window];
    // One transaction: both statements see the same now().
    return this.orm.em.fork().transactional(async (em: Em) => {
      const found: unknown[] = await em.execute(COMMAND_SQL, [commandId, caller.tenantId]);
      if (found.length === 0) throw apiErrors.notFound('command');
      const [t]: TotalsRow[] = await em.execute(TOTALS_SQL, [caller.tenantId, commandId, span]);
      const series: { t: Date | string; calls: number; errors: number }[] = await em.execute(SERIES_SQL, [span, step, caller.tenantId, commandId]);
      const calls = t?.calls ?? 0;
      const errors = t?.errors ?? 0;
      return {
        window,
        commandId,
        calls,
        errors,
        errorRate: errorRate(calls, errors),
        p50Ms: millis(t?.p50),
        p95Ms: millis(t?.p95),
        avgMs: millis(t?.avg),
        series: series.map((p) => ({ t: new Date(p.t).toISOString(), calls: p.calls, errors: p.errors })),
      };
    });
  }

  /** Every (not deleted) command of the tenant, by id, with its calls in the window (zeros when none). */
  async commands(caller: Caller, window: StatsWindow): Promise<{ window: StatsWindow; items: CommandStatsItem[] }> {
    const rows: { id: string | number; command: string; calls: number; errors: number; p50: number | null; p95: number | null }[] =
      await this.orm.em.fork().execute(ALL_SQL, [WINDOW_SPANS[window].span, caller.tenantId]);
    return {
      window,
      items: rows.map((r) => ({
        commandId: Number(r.id),
        command: r.command,
        calls: r.calls,
        errors: r.errors,
        errorRate: errorRate(r.calls, r.errors),
        p50Ms: millis(r.p50),
        p95Ms: millis(r.p95),
      })),
    };
  }

  /** The last `days` KST days, today included, zero-filled. */
  async usageHistory(caller: Caller, days: number): Promise<UsageHistory> {
    const list = kstDaysEnding(this.clock(), days);
    const rows: { day: string; room_calls: number; test_runs: number }[] = await this.orm.em
      .fork()
      .execute(USAGE_SQL, [caller.tenantId, list[0], list.at(-1)]);
    const byDay = new Map(rows.map((r) => [r.day, r]));
    return { items: list.map((day) => ({ day, executions: byDay.get(day)?.room_calls ?? 0, testRuns: byDay.get(day)?.test_runs ?? 0 })) };
  }
}
