import { LockMode } from '@mikro-orm/core';
import type { EgressView } from '@domaeka/broker/contracts';
import { EgressDomain, Plan, Tenant } from '../db/entities/index.js';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import { checkEgressDomains } from './egress-rules.js';
import type { Em, Orm } from '../db/em.js';

/**
 * The tenant's egress domain allowlist (`kb_egress_domains`). Editable on
 * every plan, so a tenant can prepare it before moving to a paid one; only
 * the plan decides whether sandbox code gets network (`enabled`). Every
 * save tells the dispatcher's cache (`changed` {entity:'egress'}).
 */
export class EgressService {
  constructor(
    private readonly orm: Orm,
    private readonly notifier: ChangeNotifier,
  ) {}

  async view(caller: Caller): Promise<EgressView> {
    return this.viewIn(this.orm.em.fork(), caller.tenantId);
  }

  /** Replaces the whole list (the request is the list the tenant wants); returns it as stored. */
  async replace(caller: Caller, entries: readonly string[]): Promise<EgressView> {
    const domains = checkEgressDomains(entries);
    const view = await this.orm.em.fork().transactional(async (tx) => {
      // The tenant row's lock serialises a tenant's saves: two racing PUTs leave one list, not a mix.
      await tx.findOneOrFail(Tenant, { id: caller.tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      await tx.nativeDelete(EgressDomain, { tenantId: caller.tenantId });
      const now = new Date();
      for (const domain of domains) tx.create(EgressDomain, { tenantId: caller.tenantId, domain, createdAt: now });
      await tx.flush();
      return this.viewIn(tx, caller.tenantId);
    });
    this.notifier.changed('egress', caller.tenantId, null);
    return view;
  }

  private async viewIn(em: Em, tenantId: string): Promise<EgressView> {
    const tenant = await em.findOneOrFail(Tenant, { id: tenantId });
    const plan = await em.findOneOrFail(Plan, { id: tenant.planId });
    const rows = await em.find(EgressDomain, { tenantId }, { orderBy: { domain: 'asc' } });
    return { enabled: plan.network === 'allowlist', plan: plan.id, domains: rows.map((r) => r.domain) };
  }
}
