import type { CommandStats, CommandStatsItem, StatsWindow, UsageHistory } from '@domaeka/broker/contracts';
import { kstDaysEnding } from '@domaeka/core';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import { WINDOW_SPANS, errorRate, millis } from './log-rules.js';
import type { Orm } from '../db/em.js';
import { UsageRepository } from '../accounts/usage-repository.js';
import { LogRepository } from './log-repository.js';

/**
 * Call statistics per command (for the commands list and a command's page)
 * and the daily usage history (for the usage chart). `clock` is the wall
 * clock of the KST days (the one UsageService counts with).
 */
export class StatsService {
  private readonly logs: LogRepository;
  private readonly usage: UsageRepository;

  constructor(
    orm: Orm,
    private readonly clock: () => number = Date.now,
  ) {
    this.logs = new LogRepository(orm);
    this.usage = new UsageRepository(orm);
  }

  /** One command's calls in the window; a command of another tenant (or none) is 404. Deleted ones still answer. */
  async command(caller: Caller, commandId: number, window: StatsWindow): Promise<CommandStats> {
    const { span, step } = WINDOW_SPANS[window];
    const found = await this.logs.commandStats(caller.tenantId, commandId, span, step);
    if (!found) throw apiErrors.notFound('command');
    const t = found.totals;
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
      series: found.series.map((p) => ({ t: new Date(p.t).toISOString(), calls: p.calls, errors: p.errors })),
    };
  }

  /** Every (not deleted) command of the tenant, by id, with its calls in the window (zeros when none). */
  async commands(caller: Caller, window: StatsWindow): Promise<{ window: StatsWindow; items: CommandStatsItem[] }> {
    const rows = await this.logs.commandsStats(caller.tenantId, WINDOW_SPANS[window].span);
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
    const rows = await this.usage.days(caller.tenantId, list[0]!, list.at(-1)!);
    const byDay = new Map(rows.map((r) => [r.day, r]));
    return { items: list.map((day) => ({ day, executions: byDay.get(day)?.room_calls ?? 0, testRuns: byDay.get(day)?.test_runs ?? 0 })) };
  }
}
