import type { ThrottledTenant, ThrottledTenants } from '@domaeka/broker/contracts';
import type { Caller } from '../accounts/caller.js';
import type { Orm } from '../db/em.js';
import { AdminRepository } from './admin-repository.js';
import { requireAdmin } from './tenant-admin-service.js';
import type { RunnerLaneWatch } from './runner-lanes.js';

/** The window "who is throttled" looks at. */
export const THROTTLE_WINDOW_MIN = 15;
/** Tenants listed at most (the most refused first). */
const MAX_TENANTS = 100;

/**
 * Who is being throttled, platform-wide, over the last THROTTLE_WINDOW_MIN
 * minutes: test runs refused by the plan's limits, room calls answered
 * busy, and the tenants' lines at the runners. Only tenants with any of
 * these are listed, the most refused first.
 */
export class ThrottleService {
  private readonly platform: AdminRepository;

  constructor(
    orm: Orm,
    private readonly lanes: RunnerLaneWatch,
  ) {
    this.platform = new AdminRepository(orm);
  }

  async list(caller: Caller): Promise<ThrottledTenants> {
    requireAdmin(caller);
    // Whole minutes of kb_throttle (this one and the 14 before it), by the database's clock; the busy calls since the same instant.
    const since = (await this.platform.throttleWindowStart(THROTTLE_WINDOW_MIN)).toISOString();
    const rows = await this.platform.throttledSince(since);
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
      const more = await this.platform.tenantNames(onlyLanes);
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
