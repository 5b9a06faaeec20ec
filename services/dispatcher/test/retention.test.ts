import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { SecretBox, createPool, type Pool } from '@domaeka/core';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { RetentionJob } from '../src/retention/retention-job.js';
import { Seeder } from './harness.js';

describe('retention purge', () => {
  let env: TestEnv;
  let pool: Pool;
  let seed: Seeder;

  beforeAll(async () => {
    env = await createTestEnv('disp-retention');
    pool = createPool(env.databaseUrl, 3);
    seed = new Seeder(pool, new SecretBox(Buffer.from(env.secretsKeyHex, 'hex')));
  });
  afterAll(async () => {
    await pool?.end();
    await env?.cleanup();
  });

  async function log(tenantId: string, daysAgo: number, text: string): Promise<void> {
    await pool.query(
      `insert into kb_api_logs (tenant_id, request_data, created_at) values ($1, $2, now() - make_interval(days => $3::int))`,
      [tenantId, text, daysAgo],
    );
  }

  async function outbox(tenantId: string, botId: string, daysAgo: number, logId: string): Promise<void> {
    await pool.query(
      `insert into kb_outbox (event_id, tenant_id, bot_id, channel_id, log_id, source, status, created_at)
       values (gen_random_uuid(), $1, $2, 'c', $3, 'phone', 'replied', now() - make_interval(days => $4::int))`,
      [tenantId, botId, logId, daysAgo],
    );
  }

  it("deletes call logs past each tenant's plan retention and old outbox rows, keeping the rest", async () => {
    const shortPlan = await seed.tenant('free');
    const longPlan = await seed.tenant('premium');
    await pool.query(`update plans set log_retention_days = 90 where id = 'premium'`);
    const bot = await seed.bot(shortPlan);
    await log(shortPlan, 31, '오래된 대화');
    await log(shortPlan, 29, '최근 대화');
    await log(longPlan, 31, '프리미엄 대화');
    await outbox(shortPlan, bot.id, 8, 'old');
    await outbox(shortPlan, bot.id, 1, 'new');

    const job = new RetentionJob(pool, pino({ level: 'silent' }), { intervalMs: 60_000, outboxDays: 7, batch: 1 });
    expect(await job.runOnce()).toEqual({ logs: 1, outbox: 1, ingress: 0, runs: 0, usage: 0 });

    const { rows: logs } = await pool.query(`select request_data from kb_api_logs order by request_data`);
    expect(logs.map((r) => r.request_data)).toEqual(['최근 대화', '프리미엄 대화']);
    const { rows: kept } = await pool.query(`select log_id from kb_outbox`);
    expect(kept.map((r) => r.log_id)).toEqual(['new']);
  });

  it("deletes test runs past the plan's retention and daily usage counters older than 400 days", async () => {
    const tenant = await seed.tenant('free');
    for (const [daysAgo, code] of [[31, 'old-run'], [2, 'new-run']] as const) {
      await pool.query(`insert into kb_runs (id, tenant_id, status, code, input, created_at) values (gen_random_uuid(), $1, 'succeeded', $2, '{}', now() - make_interval(days => $3::int))`, [tenant, code, daysAgo]);
    }
    for (const daysAgo of [401, 399, 0]) {
      await pool.query(`insert into kb_usage_daily (tenant_id, day, room_calls) values ($1, current_date - $2::int, 1)`, [tenant, daysAgo]);
    }
    const job = new RetentionJob(pool, pino({ level: 'silent' }), { intervalMs: 60_000, outboxDays: 7, batch: 100 });
    expect(await job.runOnce()).toMatchObject({ runs: 1, usage: 1 });
    const { rows: runs } = await pool.query(`select code from kb_runs where tenant_id = $1`, [tenant]);
    expect(runs.map((r) => r.code)).toEqual(['new-run']);
    const { rows: days } = await pool.query(`select (current_date - day) as ago from kb_usage_daily where tenant_id = $1 order by day`, [tenant]);
    expect(days.map((r) => r.ago)).toEqual([399, 0]);
  });

  it('lets only one dispatcher purge at a time', async () => {
    const holder = await pool.connect();
    try {
      await holder.query('select pg_advisory_lock(7305001)');
      const job = new RetentionJob(pool, pino({ level: 'silent' }), { intervalMs: 60_000, outboxDays: 7, batch: 100 });
      expect(await job.runOnce()).toBeNull();
    } finally {
      await holder.query('select pg_advisory_unlock(7305001)');
      holder.release();
    }
  });
});
