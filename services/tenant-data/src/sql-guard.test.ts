import { beforeAll, describe, expect, it } from 'vitest';
import { guardStatementSync, loadSqlGuard } from './sql-guard.js';
import { tenantSchemaName } from './naming.js';

const OWN = tenantSchemaName('00000000-0000-4000-8000-00000000000a');
const OTHER = tenantSchemaName('00000000-0000-4000-8000-00000000000b');

beforeAll(() => loadSqlGuard());

function code(sql: string): string {
  const g = guardStatementSync(sql, OWN);
  return g.ok ? `ok:${g.kind}` : g.error.code;
}

describe('the SQL guard of tenant tables', () => {
  it.each([
    ['select * from items where name = $1', 'ok:select'],
    ['SELECT name, qty FROM items ORDER BY name LIMIT 10', 'ok:select'],
    ['with low as (select * from items where qty < $1) select count(*) from low', 'ok:select'],
    ['select coalesce(sum(qty), 0), now(), date_trunc(\'day\', now()), extract(year from now()), upper(name) from items group by name', 'ok:select'],
    ["select data->>'a', jsonb_build_object('k', 1), to_char(now() at time zone 'Asia/Seoul', 'YYYY-MM-DD') from items", 'ok:select'],
    ["select substring(name from 1 for 2), trim(name), position('a' in name) from items", 'ok:select'],
    [`select * from ${OWN}.items`, 'ok:select'],
    ['select * from generate_series(1, 3) g', 'ok:select'],
    ['insert into items (name, qty) values ($1, $2) on conflict (name) do update set qty = items.qty + excluded.qty returning qty', 'ok:insert'],
    ['update items set qty = qty - $1 where name = $2', 'ok:update'],
    ['delete from items where qty = 0', 'ok:delete'],
    ['create table items (name text primary key, qty int not null default 0, added timestamptz default now(), data jsonb)', 'ok:create_table'],
    ['create table if not exists logs (id bigserial primary key, item text references items(name))', 'ok:create_table'],
    ['alter table items add column price numeric', 'ok:alter_table'],
    ['alter table items rename column qty to stock', 'ok:rename'],
    ['drop table items', 'ok:drop'],
    [`drop table if exists ${OWN}.items`, 'ok:drop'],
    ['create index items_qty on items (qty)', 'ok:create_index'],
    ['truncate items', 'ok:truncate'],
    ['create table copy as select * from items', 'ok:create_table_as'],
  ])('allows %s', (sql, want) => expect(code(sql)).toBe(want));

  it.each([
    'set role postgres',
    'reset role',
    'set local role postgres',
    'set search_path = public',
    "select set_config('role', 'postgres', false)",
    "select current_setting('is_superuser')",
    "select pg_catalog.set_config('role','postgres',false)",
    'select * from pg_class',
    'select * from pg_catalog.pg_tables',
    'select * from information_schema.tables',
    `select * from ${OTHER}.items`,
    `insert into ${OTHER}.items values ('x', 1)`,
    `update ${OTHER}.items set qty = 0`,
    `drop table ${OTHER}.items`,
    `create table ${OTHER}.mine (a int)`,
    'select * from public.kb_store',
    'select * from domaeka.public.tenants',
    'select 1; drop table items',
    'select 1;; select 2',
    'copy items to stdout',
    "copy items from '/etc/passwd'",
    'do $$ begin perform 1; end $$',
    'create function f() returns int language sql as $$ select 1 $$',
    'grant all on items to public',
    'listen x',
    'notify x',
    'vacuum items',
    'begin',
    'commit',
    'show search_path',
    'select * from "PG_CATALOG"."pg_class"',
    'select * from pg_catalog . pg_roles',
    'select * from /* hi */ pg_catalog./**/pg_authid',
    'select * from "pg_class"',
    "select pg_read_file('/etc/passwd')",
    "select lo_import('/etc/passwd')",
    "select dblink('host=x', 'select 1')",
    "select 'pg_class'::regclass",
    "select 'items'::pg_catalog.regclass::oid",
    'select (select relname from pg_class limit 1)',
    'select * from items where name in (select rolname from pg_roles)',
    'create temp table t (a int)',
    'create table t (a int) tablespace pg_default',
    'with x as (delete from items returning *) select * from x',
    'select * into newtab from items',
    'alter table items owner to postgres',
    'create view v as select 1',
    'create schema evil',
    'explain select 1',
    "select nextval('items_id_seq')",
    'lock table items',
    'call p()',
    'prepare p as select 1',
    'discard all',
    'alter table items set tablespace pg_default',
    `select ${OTHER}.items.qty from items`,
    'select 1 operator(evil.+) 1',
    "select txid_current()",
    'select * from items where exists (select 1 from t_0123456789abcdef.items)',
    'select * from items i join lateral (select * from pg_stat_activity) a on true',
    'create table x (a int references pg_catalog.pg_authid(oid))',
    'create index on pg_class (relname)',
    'select * from U&"pg\\005fclass"',
    'create table x (like pg_catalog.pg_authid)',
    'create table x (a int generated always as (pg_backend_pid()) stored)',
    "alter table items alter column qty type text using pg_read_file('x')",
    "create index i on items ((current_setting('role')))",
    "select xmlparse(document '<x/>')",
    "select * from items where qty > (select count(*) from pg_catalog.pg_user)",
    'select lo_unlink(1)',
    'select pg_sleep(10)',
    'select pg_terminate_backend(1)',
    "select query_to_xml('select 1', true, true, '')",
  ])('refuses %s', (sql) => {
    const g = guardStatementSync(sql, OWN);
    expect(g.ok).toBe(false);
    if (!g.ok) {
      expect(['KB_ERR_DB_FORBIDDEN']).toContain(g.error.code);
      expect(g.error.message).toMatch(/^이 SQL은 쓸 수 없습니다: .+ \/ not allowed: /);
    }
  });

  it('refuses an empty statement', () => expect(guardStatementSync('', OWN).ok).toBe(false));

  it('names a syntax error, Korean first', () => {
    const g = guardStatementSync('selec * form items', OWN);
    expect(g.ok).toBe(false);
    if (!g.ok) {
      expect(g.error.code).toBe('KB_ERR_DB_SYNTAX');
      expect(g.error.message).toMatch(/^SQL 문법 오류입니다: /);
    }
  });
});
