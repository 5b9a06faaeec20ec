import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerCallPayload, RunnerProfile, RunnerResultPayload } from '@domaeka/broker';
import { GATEWAY_ROLE, actAsGateway, ensureTenantSchema, runTenantStatement, tenantSchemaName } from '@domaeka/tenant-data';
import { buildRunner, type Runner } from '../src/app.js';
import { parseRunnerConfig } from '../src/config.js';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { FREE_PROFILE, RpcCaller } from '../../../test/support/runner-rpc.js';
import { makeTenants } from './store-support.js';

/**
 * Tenant tables from tenant code (`from domaeka import db`, issue 15 1b)
 * against the real runner, Docker and PostgreSQL, the runner's statements
 * connecting as the gateway role (RUNNER_TABLES_DATABASE_URL): a tenant
 * keeps its own tables; another tenant's code reaches none of them (each
 * attempt a named error, nothing returned); the plan's size quota, row cap
 * and statement timeout.
 */
const FREE: RunnerProfile = { ...FREE_PROFILE, dbMaxBytes: 5 * 1024 * 1024, dbMaxRows: 500, dbStatementTimeoutMs: 1000 };
const PREMIUM: RunnerProfile = { name: 'premium', memoryMb: 512, cpus: 1, timeoutMaxMs: 30_000, maxConcurrency: 4, dbMaxBytes: 200 * 1024 * 1024, dbMaxRows: 5000, dbStatementTimeoutMs: 5000 };

/** The test's hands inside a tenant's code: `q` (query) or `x` (execute), the SQL, its params as JSON. */
const SQL = `
import json
from domaeka import db, StoreError

def handle_command(params):
    op, sql, *rest = params["parameters"]
    args = json.loads(rest[0]) if rest else None
    try:
        if op == "q":
            return json.dumps(db.query(sql, args), ensure_ascii=False, default=str)
        return str(db.execute(sql, args))
    except StoreError as e:
        return f"{type(e).__name__} {e.code}: {e}"
`;

describe('runner: tenant tables from tenant code', () => {
  let env: TestEnv;
  let runner: Runner;
  let caller: RpcCaller;
  let a = '';
  let b = '';
  let c = '';
  const extra: string[] = [];
  const runnerId = `t-tables-${randomBytes(3).toString('hex')}`;

  const call = (tenantId: string, parameters: string[], over: Partial<RunnerCallPayload> = {}) =>
    caller.call(runner.queue, caller.callPayload({ tenantId, code: SQL, codeVersion: 'v1', commandId: 'c1', params: { sender: '홍길동', parameters }, profile: FREE, ...over }));
  const text = (r: RunnerResultPayload) => (r.result ? String(r.result.text) : `${r.error?.code}: ${r.error?.message}`);
  const sql = async (tenantId: string, op: 'q' | 'x', statement: string, params?: unknown[], over: Partial<RunnerCallPayload> = {}) =>
    text(await call(tenantId, [op, statement, ...(params ? [JSON.stringify(params)] : [])], over));

  beforeAll(async () => {
    env = await createTestEnv('runner-tables');
    [a, b, c] = (await makeTenants(env.databaseUrl, ['상점 A', '상점 B', '상점 C'])) as [string, string, string];
    const gateway = new URL(env.databaseUrl);
    gateway.username = GATEWAY_ROLE;
    runner = buildRunner(
      parseRunnerConfig({ ...env.env, RUNNER_ID: runnerId, RUNNER_HTTP_PORT: '0', RUNNER_HTTP_HOST: '127.0.0.1', RUNNER_POOL_SIZE: '1', RUNNER_TABLES_DATABASE_URL: gateway.toString() }),
    );
    await runner.start();
    caller = await RpcCaller.connect(env.amqpUrl);
  });

  afterAll(async () => {
    await caller?.close();
    await runner?.stop();
    await env?.cleanup();
    // Roles are the cluster's: the test's tenants' go with their database.
    const admin = new pg.Client({ connectionString: new URL('/postgres', env.databaseUrl).toString() });
    await admin.connect();
    for (const t of [a, b, c, ...extra].filter(Boolean)) await admin.query(`drop role if exists ${tenantSchemaName(t)}`).catch(() => undefined);
    await admin.end();
  });

  it('keeps a tenant table: create, insert with parameters, update, query, across ephemeral calls and in a dedicated container', async () => {
    expect(await sql(a, 'x', 'create table 재고 (이름 text primary key, 수량 int not null, 가격 numeric, 메모 jsonb, 입고 timestamptz default now())')).toBe('0');
    expect(await sql(a, 'x', 'insert into 재고 (이름, 수량, 가격, 메모) values ($1, $2, $3, $4), ($5, $6, $7, $8)', ['사과', 3, '1200.5', '{"산지": "청송"}', '배', 7, null, null])).toBe('2');
    expect(await sql(a, 'x', 'update 재고 set 수량 = 수량 + $1 where 이름 = $2', [10, '사과'])).toBe('1');
    const rows = JSON.parse(await sql(a, 'q', 'select 이름, 수량, 가격, 메모 from 재고 order by 이름')) as unknown[];
    expect(rows).toEqual([
      { 이름: '배', 수량: 7, 가격: null, 메모: null },
      { 이름: '사과', 수량: 13, 가격: '1200.5', 메모: { 산지: '청송' } },
    ]);
    // A tenant's SQL mistakes are its own, named.
    expect(await sql(a, 'x', 'insert into 재고 (이름, 수량) values ($1, $2)', ['사과', 1])).toMatch(/^StatementFailed KB_ERR_DB_STATEMENT: SQL을 실행하지 못했습니다: duplicate key/);
    expect(await sql(a, 'q', 'selec 1')).toMatch(/^SqlSyntaxError KB_ERR_DB_SYNTAX: SQL 문법 오류입니다/);
    // The premium plan's dedicated container reads the same table.
    expect(await sql(a, 'q', 'select sum(수량) as n from 재고', undefined, { mode: 'dedicated', profile: PREMIUM })).toBe('[{"n": 20}]');
  });

  it("never lets tenant B read or change tenant A's data: each attempt refused with a named error, nothing of A's returned", async () => {
    const theirs = tenantSchemaName(a);
    const attempts: Array<['q' | 'x', string, RegExp]> = [
      ['q', `select * from ${theirs}.재고`, /^Forbidden KB_ERR_DB_FORBIDDEN: 이 SQL은 쓸 수 없습니다: 다른 스키마/],
      ['x', `update ${theirs}.재고 set 수량 = 0`, /^Forbidden KB_ERR_DB_FORBIDDEN/],
      ['x', `delete from ${theirs}.재고`, /^Forbidden KB_ERR_DB_FORBIDDEN/],
      ['x', `drop table ${theirs}.재고`, /^Forbidden KB_ERR_DB_FORBIDDEN/],
      ['x', 'set role postgres', /^Forbidden KB_ERR_DB_FORBIDDEN: 이 SQL은 쓸 수 없습니다: SET\/RESET/],
      ['x', 'reset role', /^Forbidden KB_ERR_DB_FORBIDDEN/],
      ['q', "select set_config('role', 'postgres', false)", /^Forbidden KB_ERR_DB_FORBIDDEN: 이 SQL은 쓸 수 없습니다: 함수 set_config/],
      ['q', 'select relname from pg_class', /^Forbidden KB_ERR_DB_FORBIDDEN: 이 SQL은 쓸 수 없습니다: 시스템 카탈로그/],
      ['q', 'select * from information_schema.tables', /^Forbidden KB_ERR_DB_FORBIDDEN/],
      ['q', 'select * from pg_catalog . pg_tables', /^Forbidden KB_ERR_DB_FORBIDDEN/],
      ['q', 'select 1; select * from 재고', /^Forbidden KB_ERR_DB_FORBIDDEN: 이 SQL은 쓸 수 없습니다: 한 번에 SQL 문 하나만/],
      ['q', 'select * from public.kb_store', /^Forbidden KB_ERR_DB_FORBIDDEN/],
      ['x', 'copy 재고 to stdout', /^Forbidden KB_ERR_DB_FORBIDDEN: 이 SQL은 쓸 수 없습니다: COPY/],
      ['x', 'do $$ begin perform 1; end $$', /^Forbidden KB_ERR_DB_FORBIDDEN/],
      // Unqualified, B's search path is B's own schema: A's table is not there.
      ['q', 'select * from 재고', /^StatementFailed KB_ERR_DB_STATEMENT: .*does not exist/],
    ];
    for (const [op, statement, want] of attempts) {
      const answer = await sql(b, op, statement);
      expect(answer, statement).toMatch(want);
      expect(answer, statement).not.toContain('청송');
    }
    // A's rows are all there, unchanged.
    expect(await sql(a, 'q', 'select count(*) as n, sum(수량) as total from 재고')).toBe('[{"n": 2, "total": 20}]');
  });

  it('the role is a wall of its own: under B\'s role, the gateway login cannot read A\'s table or the platform\'s, even after RESET ROLE', async () => {
    const gatewayUrl = new URL(env.databaseUrl);
    gatewayUrl.username = GATEWAY_ROLE;
    const gw = new pg.Client({ connectionString: gatewayUrl.toString() });
    await gw.connect();
    try {
      await sql(b, 'x', 'create table if not exists mine (a int)'); // B's schema and role exist
      const denied = async (statement: string) => {
        await gw.query('begin');
        await gw.query(`set local role ${tenantSchemaName(b)}`);
        const err = await gw.query(statement).then(() => null, (e: { code?: string }) => e.code);
        await gw.query('rollback');
        return err;
      };
      expect(await denied(`select * from ${tenantSchemaName(a)}.재고`)).toBe('42501');
      expect(await denied('select * from public.tenants')).toBe('42501');
      // RESET ROLE lands on the gateway itself: no rights of its own (NOINHERIT).
      expect(await gw.query(`select * from ${tenantSchemaName(a)}.재고`).then(() => null, (e: { code?: string }) => e.code)).toBe('42501');
      expect(await gw.query('select * from public.kb_store').then(() => null, (e: { code?: string }) => e.code)).toBe('42501');
    } finally {
      await gw.end();
    }
  });

  it('makes a schema once under concurrent first statements: owned by the platform, its role with USAGE and CREATE there and nothing else', async () => {
    const [d] = (await makeTenants(env.databaseUrl, ['상점 D'])) as [string];
    extra.push(d);
    const pools = [0, 1, 2, 3].map(() => new pg.Pool({ connectionString: env.databaseUrl, max: 1 }));
    try {
      const names = await Promise.all(pools.map((p) => ensureTenantSchema(p, d)));
      const schema = tenantSchemaName(d);
      expect(new Set(names)).toEqual(new Set([schema]));
      const { rows } = await pools[0]!.query(
        `select pg_get_userbyid(n.nspowner) as owner,
                has_schema_privilege($1, n.nspname, 'USAGE') as usage, has_schema_privilege($1, n.nspname, 'CREATE') as create,
                has_schema_privilege('public', n.nspname, 'USAGE') as public_usage,
                r.rolcanlogin as login, r.rolsuper as super, r.rolinherit as inherit,
                pg_has_role($2, $1, 'MEMBER') as gateway_member,
                (select count(*)::int from pg_class c where c.relowner = r.oid) as owns,
                has_table_privilege($1, 'public.tenants', 'SELECT') as reads_tenants
           from pg_namespace n, pg_roles r where n.nspname = $1 and r.rolname = $1`,
        [schema, GATEWAY_ROLE],
      );
      expect(rows).toEqual([{ owner: 'postgres', usage: true, create: true, public_usage: false, login: false, super: false, inherit: false, gateway_member: true, owns: 0, reads_tenants: false }]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it("without the gateway's login, the platform user's connections act as the gateway for their session: RESET ROLE lands on no rights", async () => {
    const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 1 });
    actAsGateway(pool);
    try {
      expect((await pool.query('select session_user as s, current_user as c')).rows[0]).toEqual({ s: GATEWAY_ROLE, c: GATEWAY_ROLE });
      const schema = await ensureTenantSchema(pool, b).catch(() => tenantSchemaName(b)); // made by the runner already; the gateway cannot make schemas
      const limits = { maxBytes: 1024 * 1024, maxRows: 10, statementTimeoutMs: 1000 };
      expect(await runTenantStatement(pool, schema, 'select count(*) as n from mine', [], limits)).toMatchObject({ ok: true, rows: [[0]] });
      expect(await pool.query(`select * from ${tenantSchemaName(a)}.재고`).then(() => null, (e: { code?: string }) => e.code)).toBe('42501');
    } finally {
      await pool.end();
    }
  });

  it('refuses a write over the plan quota with the Korean KB_ERR_STORAGE_QUOTA, and nothing stored before is lost', async () => {
    const small = { profile: { ...FREE, dbMaxBytes: 160 * 1024 } };
    expect(await sql(c, 'x', 'create table 메모 (id int primary key, 내용 text)', undefined, small)).toBe('0');
    expect(await sql(c, 'x', "insert into 메모 select g, md5(g::text) from generate_series(1, 100) g", undefined, small)).toBe('100');
    const over = await sql(c, 'x', "insert into 메모 select g, md5(g::text) || md5((g * 7)::text) from generate_series(101, 5100) g", undefined, small);
    expect(over).toBe('QuotaExceeded KB_ERR_STORAGE_QUOTA: 저장 공간이 가득 찼습니다: 표는 모두 합쳐 160 KiB까지 저장할 수 있습니다. 이번 변경은 저장되지 않았습니다 / storage quota reached: at most 160 KiB of tables; this change was not stored');
    expect(await sql(c, 'q', 'select count(*) as n, max(id) as last from 메모', undefined, small)).toBe('[{"n": 100, "last": 100}]');
    // The refused write left nothing behind to count against the quota: a small write still fits, and deleting always works.
    expect(await sql(c, 'x', 'insert into 메모 values ($1, $2)', [101, '작은 메모'], small)).toBe('1');
    expect(await sql(c, 'x', 'delete from 메모 where id > 50', undefined, small)).toBe('51');
  });

  it('stops a statement at the plan timeout and refuses a result over the row cap, each with a named error', async () => {
    const tight = { profile: { ...FREE, dbStatementTimeoutMs: 200, dbMaxRows: 5 } };
    expect(await sql(c, 'q', 'select count(*) from generate_series(1, 200000000)', undefined, tight)).toBe(
      'StatementTimeout KB_ERR_DB_TIMEOUT: SQL이 200ms 안에 끝나지 않아 멈췄습니다. 바뀐 것은 없습니다 / statement timed out after 200 ms; nothing was changed',
    );
    expect(await sql(c, 'q', 'select g from generate_series(1, 6) g', undefined, tight)).toMatch(/^TooManyRows KB_ERR_DB_TOO_MANY_ROWS: 결과가 5행을 넘습니다/);
    expect(await sql(c, 'q', 'select g from generate_series(1, 5) g;', undefined, tight)).toBe('[{"g": 1}, {"g": 2}, {"g": 3}, {"g": 4}, {"g": 5}]');
    // One huge row: the runner cuts the database connection past 8 MiB instead of buffering it, and goes on.
    expect(await sql(c, 'q', "select repeat('x', 20000000) as big", undefined, { profile: { ...FREE, dbStatementTimeoutMs: 10_000 } })).toMatch(/^TooManyRows KB_ERR_DB_TOO_MANY_ROWS: 결과가 1 MiB를 넘습니다/);
    // Rows that fit the row cap but not 1 MiB as they travel (Korean text: 3 bytes a character).
    expect(await sql(c, 'q', "select repeat('가', 100000) as t from generate_series(1, 4)", undefined, { profile: { ...FREE, dbStatementTimeoutMs: 10_000 } })).toMatch(/^TooManyRows KB_ERR_DB_TOO_MANY_ROWS: 결과가 1 MiB를 넘습니다/);
    expect(await sql(c, 'q', 'select count(*) as n from 메모')).toBe('[{"n": 50}]');
  });
});
