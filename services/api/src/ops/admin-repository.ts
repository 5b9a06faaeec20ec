import type { Orm } from '../db/em.js';

/* Platform-wide statements: they read every tenant's rows. */

export const CALLS_SQL = `
  select count(*) filter (where created_at > now() - interval '1 minute') as per_minute,
         count(*) as last_hour,
         avg(response_time) as avg_ms,
         percentile_cont(0.95) within group (order by response_time) as p95_ms
    from kb_api_logs
   where created_at > now() - interval '1 hour'`;

export const TOP_COMMANDS_SQL = `
  select l.command_id, c.command, c.tenant_id, t.name as tenant_name, count(*) as calls
    from kb_api_logs l
    join kb_commands c on c.id = l.command_id
    join tenants t on t.id = c.tenant_id
   where l.created_at > now() - interval '1 hour'
   group by l.command_id, c.command, c.tenant_id, t.name
   order by calls desc, l.command_id
   limit 5`;

export const REPLY_ROUTES_SQL = `
  (select 'dev.' || id as route from devices order by last_seen_at desc limit ?)
  union all
  (select 'ext.' || id as route from bots order by created_at desc limit ?)`;

const TENANTS_WITH_USAGE = `
  select t.id, t.name, t.plan_id, t.created_at, p.runs_per_day, p.test_runs_per_day,
         coalesce(u.room_calls, 0) as room_calls, coalesce(u.test_runs, 0) as test_runs,
         (select email from users where tenant_id = t.id order by created_at, id limit 1) as owner_email
    from tenants t
    join plans p on p.id = t.plan_id
    left join kb_usage_daily u on u.tenant_id = t.id and u.day = cast(? as date)`;
export const ALL_TENANTS_SQL = `${TENANTS_WITH_USAGE} order by t.created_at, t.id`;
export const ONE_TENANT_SQL = `${TENANTS_WITH_USAGE} where t.id = ?`;

/** Whole minutes of kb_throttle (this one and the ones before it), by the database's clock. */
export const THROTTLE_SINCE_SQL = `select date_trunc('minute', now()) - make_interval(mins => ?) as since`;

/** Both counts of the window per tenant, with the tenant's name and plan. */
export const THROTTLED_SQL = `
  with runs as (
    select tenant_id,
           sum(count) filter (where kind = 'test_runs_per_minute') as per_minute,
           sum(count) filter (where kind = 'test_runs_concurrent') as concurrent
      from kb_throttle where minute >= cast(? as timestamptz)
     group by tenant_id),
  busy as (
    select tenant_id, count(*) as busy
      from kb_api_logs where created_at >= cast(? as timestamptz) and error_code = 'KB_ERR_BUSY'
     group by tenant_id)
  select t.id, t.name, t.plan_id, coalesce(r.per_minute, 0) as per_minute, coalesce(r.concurrent, 0) as concurrent, coalesce(b.busy, 0) as busy
    from runs r full join busy b on b.tenant_id = r.tenant_id
    join tenants t on t.id = coalesce(r.tenant_id, b.tenant_id)`;

export const TENANT_NAMES_SQL = `select id, name, plan_id from tenants where id = any(cast(? as uuid[]))`;

export interface CallsRow {
  per_minute: string;
  last_hour: string;
  avg_ms: string | null;
  p95_ms: number | null;
}

export interface TopCommandRow {
  command_id: string | number;
  command: string;
  tenant_id: string;
  tenant_name: string;
  calls: string;
}

export interface TenantUsageRow {
  id: string;
  name: string;
  plan_id: string;
  created_at: Date;
  runs_per_day: number;
  test_runs_per_day: number;
  room_calls: number;
  test_runs: number;
  owner_email: string | null;
}

export interface ThrottledRow {
  id: string;
  name: string;
  plan_id: string;
  per_minute: string;
  concurrent: string;
  busy: string;
}

/**
 * The administrators' queries (metrics, tenants, who is throttled): they
 * read every tenant's rows, so each is for administrators only, and the
 * services check `requireAdmin` before calling any of them.
 */
export class AdminRepository {
  constructor(private readonly orm: Orm) {}

  /** Room calls of the last minute and hour, with the hour's response times (one row). */
  async callsLastHour(): Promise<CallsRow | undefined> {
    return (await this.orm.em.fork().execute<CallsRow[]>(CALLS_SQL))[0];
  }

  topCommandsLastHour(): Promise<TopCommandRow[]> {
    return this.orm.em.fork().execute<TopCommandRow[]>(TOP_COMMANDS_SQL);
  }

  /** Reply routes of the devices last seen and the bots last made, at most `max` of each. */
  async replyRoutes(max: number): Promise<string[]> {
    const rows = await this.orm.em.fork().execute<{ route: string }[]>(REPLY_ROUTES_SQL, [max, max]);
    return rows.slice(0, max).map((r) => r.route);
  }

  /** Every tenant with its plan's limits and its counters of `day` (KST), oldest first. */
  tenantsWithUsage(day: string): Promise<TenantUsageRow[]> {
    return this.orm.em.fork().execute<TenantUsageRow[]>(ALL_TENANTS_SQL, [day]);
  }

  async tenantWithUsage(tenantId: string, day: string): Promise<TenantUsageRow | undefined> {
    return (await this.orm.em.fork().execute<TenantUsageRow[]>(ONE_TENANT_SQL, [day, tenantId]))[0];
  }

  /** The start of the last `minutes` whole minutes (this one included), by the database's clock. */
  async throttleWindowStart(minutes: number): Promise<Date> {
    const [w] = await this.orm.em.fork().execute<{ since: Date }[]>(THROTTLE_SINCE_SQL, [minutes - 1]);
    return new Date(w!.since);
  }

  /** Tenants with test runs refused (kb_throttle) or room calls answered busy since `since` (ISO). */
  throttledSince(since: string): Promise<ThrottledRow[]> {
    return this.orm.em.fork().execute<ThrottledRow[]>(THROTTLED_SQL, [since, since]);
  }

  /** Names and plans of these tenants (uuids; unknown ones are left out). */
  tenantNames(ids: string[]): Promise<{ id: string; name: string; plan_id: string }[]> {
    return this.orm.em.fork().execute<{ id: string; name: string; plan_id: string }[]>(TENANT_NAMES_SQL, [`{${ids.join(',')}}`]);
  }
}
