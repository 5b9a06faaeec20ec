import type { ThrottledTenant, ThrottledTenants } from '@domaeka/broker/contracts';
import type { Caller } from '../accounts/caller.js';
import type { Orm } from '../db/em.js';
import { requireAdmin } from './tenant-admin-service.js';
import type { RunnerLaneWatch } from './runner-lanes.js';

/** The window "who is throttled" looks at. */
export const THROTTLE_WINDOW_MIN = 15;
/** Tenants listed at most (the most refused first). */
const MAX_TENANTS = 100;

/** Both counts of the window per tenant, with the tenant's name and plan. */
const THROTTLED_SQL = `
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

const TENANTS_SQL = `select id, name, plan_id from tenants where id = any(cast(? as uuid[]))`;

/**
 * Who is being throttled, platform-wide, over the last THROTTLE_WINDOW_MIN
 * minutes: test runs refused by the plan's limits, room calls answered
 * busy, and the tenants' lines at the runners. Only tenants with any of
 * these are listed, the most refused first.
 */
export class ThrottleService {
  constructor(
    private readonly orm: Orm,
    private readonly lanes: RunnerLaneWatch,
  ) {}

  async list(caller: Caller): Promise<ThrottledTenants> {
    requireAdmin(caller);
    const em = this.orm.em.fork();
    // Whole minutes of kb_throttle (this one and the 14 before it), by the database's clock; the busy calls since the same instant.
    const [w] = await em.execute<{ since: Date }[]>(`select date_trunc('minute', now()) - make_interval(mins => ?) as since`, [THROTTLE_WINDOW_MIN - 1]);
    const since = new Date(w!.since).toISOString();
    const rows = await em.execute<{ id: string; name: string; plan_id: string; per_minute: string; concurrent: string; busy: string }[]>(THROTTLED_SQL, [since, since]);
    const lanes = this.lanes.lanes();
    const byId = new Map<string, ThrottledTenant>(
      rows.map((r) => [
        r.id,
        {
          tenantId: r.id,
          tenantName: r.name,
          planId: r.plan_id,
          testRuns: { perMinute: Number(r.per_minute), concurrent: Number(r.concurrent) },
          roomCallsBusy: Number(r.busy),
          lanes: [],
        },
      ]),
    );
    // Tenants only the runners hold back: their names from the table (a tenant id a runner made up is skipped).
    const onlyLanes = [...lanes.keys()].filter((id) => !byId.has(id) && /^[0-9a-f-]{36}$/i.test(id));
    if (onlyLanes.length) {
      const more = await em.execute<{ id: string; name: string; plan_id: string }[]>(TENANTS_SQL, [`{${onlyLanes.join(',')}}`]);
      for (const t of more) {
        byId.set(t.id, { tenantId: t.id, tenantName: t.name, planId: t.plan_id, testRuns: { perMinute: 0, concurrent: 0 }, roomCallsBusy: 0, lanes: [] });
      }
    }
    for (const [id, l] of lanes) {
      const t = byId.get(id);
      if (t) t.lanes = l.sort((a, b) => a.runnerId.localeCompare(b.runnerId));
    }
    const refusals = (t: ThrottledTenant) => t.testRuns.perMinute + t.testRuns.concurrent + t.roomCallsBusy + t.lanes.reduce((s, l) => s + l.refused + l.waiting, 0);
    const tenants = [...byId.values()]
      .filter((t) => refusals(t) > 0)
      .sort((a, b) => refusals(b) - refusals(a) || a.tenantName.localeCompare(b.tenantName))
      .slice(0, MAX_TENANTS);
    return { since, windowMinutes: THROTTLE_WINDOW_MIN, tenants };
  }
}
