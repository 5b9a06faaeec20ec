import { ApiLog, Command } from '../db/entities/index.js';
import type { Em, Orm } from '../db/em.js';
import { escapeLike } from './log-rules.js';
import type { LogQuery } from './log-service.js';

/*
 * The statistics are all in SQL over kb_api_logs, always by tenant id (and
 * command id: the (command_id, created_at) index), windows ending at now().
 * Window spans and steps are interval parameters, never spliced into the text.
 */
export const COMMAND_SQL = `select id from kb_commands where id = ? and tenant_id = ?`;

export const TOTALS_SQL = `
  select count(*)::int as calls, count(error_code)::int as errors,
         percentile_cont(0.5) within group (order by response_time) as p50,
         percentile_cont(0.95) within group (order by response_time) as p95,
         avg(response_time)::float8 as avg
    from kb_api_logs
   where tenant_id = ? and command_id = ? and created_at >= now() - cast(? as interval)`;

// Points start on whole steps of Korean time (a `week` point is a KST day), the first one may be partial.
export const SERIES_SQL = `
  with w as (select now() - cast(? as interval) as since, cast(? as interval) as step),
  b as (select generate_series(date_bin(w.step, w.since, timestamptz '2000-01-03 00:00:00+09'), now(), w.step) as t, w.step, w.since from w)
  select b.t, count(l.id)::int as calls, count(l.error_code)::int as errors
    from b left join kb_api_logs l
      on l.tenant_id = ? and l.command_id = ? and l.created_at >= b.since and l.created_at >= b.t and l.created_at < b.t + b.step
   group by b.t order by b.t`;

export const ALL_COMMANDS_SQL = `
  select c.id, c.command, count(l.id)::int as calls, count(l.error_code)::int as errors,
         percentile_cont(0.5) within group (order by l.response_time) as p50,
         percentile_cont(0.95) within group (order by l.response_time) as p95
    from kb_commands c
    left join kb_api_logs l on l.command_id = c.id and l.tenant_id = c.tenant_id and l.created_at >= now() - cast(? as interval)
   where c.tenant_id = ? and c.deleted_at is null
   group by c.id, c.command order by c.id`;

export interface TotalsRow {
  calls: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  avg: number | null;
}

export interface CommandStatsRow {
  id: string | number;
  command: string;
  calls: number;
  errors: number;
  p50: number | null;
  p95: number | null;
}

/** A tenant's target-call log (`kb_api_logs`) and the statistics over it; every method takes the tenant id first. */
export class LogRepository {
  constructor(private readonly orm: Orm) {}

  /** Newest first, at most `limit` (not `f.limit`: the service caps it), with the words of their commands. */
  async list(tenantId: string, f: LogQuery, limit: number): Promise<{ rows: ApiLog[]; words: Map<number, string> }> {
    const where: Record<string, unknown> = { tenantId };
    if (f.commandId !== undefined) where.commandId = f.commandId;
    if (f.before !== undefined) where.id = { $lt: f.before };
    if (f.status === 'ok') where.errorCode = null;
    if (f.status === 'error') where.errorCode = { $ne: null };
    // An exact code implies status=error.
    if (f.errorCode !== undefined) where.errorCode = f.errorCode;
    const created: Record<string, Date> = {};
    if (f.from !== undefined) created.$gte = new Date(f.from);
    if (f.to !== undefined) created.$lt = new Date(f.to);
    if (Object.keys(created).length > 0) where.createdAt = created;
    if (f.q !== undefined && f.q !== '') where.requestData = { $ilike: `%${escapeLike(f.q)}%` };
    const em = this.orm.em.fork();
    const rows = await em.find(ApiLog, where, { orderBy: { id: 'desc' }, limit });
    return { rows, words: await commandWords(em, tenantId, rows) };
  }

  /** One call with the word of its command; null when the tenant has no such call. */
  async get(tenantId: string, id: number): Promise<{ row: ApiLog; words: Map<number, string> } | null> {
    const em = this.orm.em.fork();
    const row = await em.findOne(ApiLog, { id, tenantId });
    return row ? { row, words: await commandWords(em, tenantId, [row]) } : null;
  }

  /** One command's totals and series over the window, in one transaction (both see the same now()); null when the tenant has no such command (deleted ones count). */
  async commandStats(tenantId: string, commandId: number, span: string, step: string): Promise<{ totals: TotalsRow | undefined; series: { t: Date | string; calls: number; errors: number }[] } | null> {
    return this.orm.em.fork().transactional(async (em: Em) => {
      const found: unknown[] = await em.execute(COMMAND_SQL, [commandId, tenantId]);
      if (found.length === 0) return null;
      const [totals]: TotalsRow[] = await em.execute(TOTALS_SQL, [tenantId, commandId, span]);
      const series: { t: Date | string; calls: number; errors: number }[] = await em.execute(SERIES_SQL, [span, step, tenantId, commandId]);
      return { totals, series };
    });
  }

  /** Every (not deleted) command of the tenant, by id, with its calls over the window. */
  commandsStats(tenantId: string, span: string): Promise<CommandStatsRow[]> {
    return this.orm.em.fork().execute<CommandStatsRow[]>(ALL_COMMANDS_SQL, [span, tenantId]);
  }
}

/** Command id -> command word, deleted commands included (their logs stay readable). */
async function commandWords(em: Em, tenantId: string, rows: ApiLog[]): Promise<Map<number, string>> {
  const ids = [...new Set(rows.map((r) => r.commandId).filter((id): id is number => id !== null))];
  if (ids.length === 0) return new Map();
  const cmds = await em.find(Command, { id: { $in: ids }, tenantId }, { fields: ['id', 'command'] });
  return new Map(cmds.map((c) => [c.id, c.command]));
}
