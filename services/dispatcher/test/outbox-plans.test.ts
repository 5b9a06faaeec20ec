import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { hotPathUrl } from '../src/outbox/hot-path.js';
import { COMPLETE_SQL, INSERT_SQL } from '../src/outbox/outbox-store.js';

/**
 * The outbox statements run as named statements: each connection keeps
 * the generic plan PostgreSQL made on a new, empty database for as long as
 * the tables go unanalysed (forever with autovacuum off). That plan must
 * still find rows by index when kb_outbox holds a month of messages.
 */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function scans(node: PlanNode, out: string[] = []): string[] {
  if (node['Node Type'] === 'Seq Scan') out.push(node['Relation Name'] ?? '?');
  for (const child of node.Plans ?? []) scans(child, out);
  return out;
}

async function genericPlanScans(url: string, sql: string, args: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('set plan_cache_mode = force_generic_plan');
    await client.query(`prepare s as ${sql}`);
    const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`explain (format json) execute s(${args})`);
    return scans(rows[0]!['QUERY PLAN'][0]!.Plan);
  } finally {
    await client.end();
  }
}

describe('dispatcher: the outbox statements keep to indexes on a table that grows', () => {
  let env: TestEnv;
  const id = () => `array['${randomUUID()}']::uuid[]`;
  const text = (v: string) => `array['${v}']::text[]`;
  const completeArgs = () =>
    [id(), `array['{}']::jsonb[]`, id(), 'array[1]::bigint[]', id(), text('c'), text('{}'), text('"ok"'), 'array[null]::int[]', 'array[1]::int[]', 'array[null]::text[]', 'array[null]::text[]', text('phone')].join(', ');
  const insertArgs = () =>
    [id(), id(), id(), text('c'), text('1'), 'array[1]::bigint[]', text('phone'), text('pending'), text('dev.x'), `'2026-12-06'::date`].join(', ');

  beforeAll(async () => {
    env = await createTestEnv('disp-plans');
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  it('on the dispatcher connections, the generic plans of claim and completion scan no table', async () => {
    const url = hotPathUrl(env.databaseUrl);
    expect(await genericPlanScans(url, COMPLETE_SQL, completeArgs())).toEqual([]);
    expect(await genericPlanScans(url, INSERT_SQL, insertArgs())).toEqual([]);
    expect(await genericPlanScans(hotPathUrl(env.databaseUrl, { asyncCommit: true }), INSERT_SQL, insertArgs())).toEqual([]);
  });

  it('(why: on a plain connection the same completion plan scans all of kb_outbox)', async () => {
    expect(await genericPlanScans(env.databaseUrl, COMPLETE_SQL, completeArgs())).toContain('kb_outbox');
  });
});
