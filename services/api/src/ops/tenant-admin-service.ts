import { apiErrors } from '../errors.js';
import type { AccountService } from '../accounts/account-service.js';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Orm } from '../db/em.js';
import { AdminRepository, type TenantUsageRow } from './admin-repository.js';
import type { UsageService } from '../accounts/usage-service.js';

export interface TenantView {
  id: string;
  name: string;
  /** The tenant's first account (who to talk to). */
  ownerEmail: string | null;
  planId: string;
  createdAt: Date;
  limits: { runsPerDay: number; testRunsPerDay: number };
  /** Today's (KST) counters. */
  today: { day: string; roomCalls: number; testRuns: number };
}

/** The platform's administrators only (`users.is_admin`); everyone else gets 403 KB_ERR_FORBIDDEN. */
export function requireAdmin(caller: Caller): void {
  if (!caller.isAdmin) throw apiErrors.forbidden('administrators only');
}

/**
 * What an administrator does with tenants: list them with their plan and
 * today's usage, move one to another plan. A plan change is announced with
 * a `changed` event (entity bot, every bot of the tenant) so the
 * dispatcher's cached plan (timeout cap, sandbox limits and mode) is
 * dropped; the daily limits are read at each call anyway.
 */
export class TenantAdminService {
  private readonly platform: AdminRepository;

  constructor(
    orm: Orm,
    private readonly accounts: AccountService,
    private readonly usage: UsageService,
    private readonly notifier: ChangeNotifier,
  ) {
    this.platform = new AdminRepository(orm);
  }

  async list(caller: Caller): Promise<TenantView[]> {
    requireAdmin(caller);
    const day = this.usage.today();
    const rows = await this.platform.tenantsWithUsage(day);
    return rows.map((r) => view(r, day));
  }

  async setPlan(caller: Caller, tenantId: string, planId: string): Promise<TenantView> {
    requireAdmin(caller);
    const r = await this.accounts.setPlan(tenantId, planId);
    if ('missing' in r) {
      if (r.missing === 'plan') throw apiErrors.validation(`요금제가 없습니다 / no plan "${planId}"`);
      throw apiErrors.notFound('tenant');
    }
    this.notifier.changed('bot', tenantId, null);
    const day = this.usage.today();
    const row = await this.platform.tenantWithUsage(tenantId, day);
    if (!row) throw apiErrors.notFound('tenant');
    return view(row, day);
  }
}

function view(r: TenantUsageRow, day: string): TenantView {
  return {
    id: r.id,
    name: r.name,
    ownerEmail: r.owner_email,
    planId: r.plan_id,
    createdAt: r.created_at,
    limits: { runsPerDay: r.runs_per_day, testRunsPerDay: r.test_runs_per_day },
    today: { day, roomCalls: r.room_calls, testRuns: r.test_runs },
  };
}
