import { LockMode } from '@mikro-orm/core';
import { EgressDomain, Plan, Tenant } from '../db/entities/index.js';
import type { Em, Orm } from '../db/em.js';

/** The tenant's plan and its egress allowlist as stored. */
export interface StoredEgress {
  plan: Plan;
  domains: string[];
}

/** A tenant's egress allowlist (`kb_egress_domains`, canonical names) with its plan; every method takes the tenant id first. */
export class EgressRepository {
  constructor(private readonly orm: Orm) {}

  get(tenantId: string): Promise<StoredEgress> {
    return read(this.orm.em.fork(), tenantId);
  }

  /** Replaces the whole list; the tenant row's lock serialises a tenant's saves (two racing ones leave one list, not a mix). The list as stored. */
  async replace(tenantId: string, domains: readonly string[]): Promise<StoredEgress> {
    return this.orm.em.fork().transactional(async (tx) => {
      await tx.findOneOrFail(Tenant, { id: tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      await tx.nativeDelete(EgressDomain, { tenantId });
      const now = new Date();
      for (const domain of domains) tx.create(EgressDomain, { tenantId, domain, createdAt: now });
      await tx.flush();
      return read(tx, tenantId);
    });
  }
}

async function read(em: Em, tenantId: string): Promise<StoredEgress> {
  const tenant = await em.findOneOrFail(Tenant, { id: tenantId });
  const plan = await em.findOneOrFail(Plan, { id: tenant.planId });
  const rows = await em.find(EgressDomain, { tenantId }, { orderBy: { domain: 'asc' } });
  return { plan, domains: rows.map((r) => r.domain) };
}
