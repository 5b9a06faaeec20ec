import type { Logger } from 'pino';
import type { Pool } from '@domaeka/core';

export interface RetentionOptions {
  /** How often the job runs (ms). */
  intervalMs: number;
  /** Outbox rows only serve deduplication and `GET /messages/:id`; they go sooner than logs. */
  outboxDays: number;
  /** Rows deleted per statement, so a big backlog never holds long locks. */
  batch: number;
}

export interface RetentionResult {
  logs: number;
  outbox: number;
  ingress: number;
  runs: number;
  usage: number;
}

// kb_api_logs hold chat text (personal data): each tenant's plan says how long (DESIGN.md section 6).
export const PURGE_LOGS = `
  delete from kb_api_logs where id in (
    select l.id from kb_api_logs l
      join tenants t on t.id = l.tenant_id join plans p on p.id = t.plan_id
     where l.created_at < now() - make_interval(days => p.log_retention_days)
     limit $1)`;
export const PURGE_OUTBOX = `
  delete from kb_outbox where event_id in (
    select event_id from kb_outbox where created_at < now() - make_interval(days => $2::int) limit $1)`;
export const PURGE_INGRESS = `
  delete from kb_ingress_events where event_id in (
    select event_id from kb_ingress_events where created_at < now() - make_interval(days => $2::int) limit $1)`;

// Test runs hold the tenant's code, its test input and what it printed: kept as long as its call logs.
export const PURGE_RUNS = `
  delete from kb_runs where id in (
    select r.id from kb_runs r
      join tenants t on t.id = r.tenant_id join plans p on p.id = t.plan_id
     where r.created_at < now() - make_interval(days => p.log_retention_days)
     limit $1)`;
// Daily counters feed GET /usage/history: a bit more than a year, so this month can be set against last year's.
const USAGE_DAYS = 400;
export const PURGE_USAGE = `
  delete from kb_usage_daily where ctid in (
    select ctid from kb_usage_daily where day < current_date - $2::int limit $1)`;

/** Only one dispatcher of many purges at a time. */
const LOCK_KEY = 7_305_001;

/**
 * Deletes what is past its retention: call logs and test runs per plan,
 * outbox and ingress records after `outboxDays`, daily usage counters after
 * 400 days. Runs on a timer in every dispatcher;
 * an advisory lock lets one of them work while the others skip.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly opts: RetentionOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.runOnce().catch((err) => this.logger.warn({ err: String(err) }, 'retention purge failed; will retry'));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass; null when another dispatcher holds the lock. */
  async runOnce(): Promise<RetentionResult | null> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [LOCK_KEY]);
      if (!rows[0]?.ok) return null;
      try {
        const result: RetentionResult = {
          logs: await this.drain(client, PURGE_LOGS, [this.opts.batch]),
          outbox: await this.drain(client, PURGE_OUTBOX, [this.opts.batch, this.opts.outboxDays]),
          ingress: await this.drain(client, PURGE_INGRESS, [this.opts.batch, this.opts.outboxDays]),
          runs: await this.drain(client, PURGE_RUNS, [this.opts.batch]),
          usage: await this.drain(client, PURGE_USAGE, [this.opts.batch, USAGE_DAYS]),
        };
        if (Object.values(result).some((n) => n > 0)) this.logger.info(result, 'retention purge');
        return result;
      } finally {
        await client.query('select pg_advisory_unlock($1)', [LOCK_KEY]);
      }
    } finally {
      client.release();
    }
  }

  private async drain(client: { query: Pool['query'] }, sql: string, params: unknown[]): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await client.query(sql, params);
      total += rowCount ?? 0;
      if (!rowCount || rowCount < this.opts.batch) return total;
    }
  }
}
