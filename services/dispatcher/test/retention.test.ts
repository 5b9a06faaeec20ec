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
    expect(await job.runOnce()).toEqual({ logs: 1, outbox: 1, ingress: 0 });

    const { rows: logs } = await pool.query(`select request_data from kb_api_logs order by request_data`);
    expect(logs.map((r) => r.request_data)).toEqual(['최근 대화', '프리미엄 대화']);
    const { rows: kept } = await pool.query(`select log_id from kb_outbox`);
    expect(kept.map((r) => r.log_id)).toEqual(['new']);
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
