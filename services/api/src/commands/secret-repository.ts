import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { Tenant, TenantSecret } from '../db/entities/index.js';
import type { Orm } from '../db/em.js';

/** A tenant's secrets (`tenant_secrets`, values sealed before they get here); every method takes the tenant id first. */
export class SecretRepository {
  constructor(private readonly orm: Orm) {}

  /**
   * Creates or replaces a secret; a new one only while the tenant has fewer
   * than `max` (null: refused). The tenant row's lock serialises a
   * tenant's saves, so the count stays true until the commit.
   */
  async set(tenantId: string, name: string, valueEnc: string, max: number): Promise<{ row: TenantSecret; created: boolean } | null> {
    return this.orm.em.fork().transactional(async (tx) => {
      await tx.findOneOrFail(Tenant, { id: tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const now = new Date();
      const existing = await tx.findOne(TenantSecret, { tenantId, name });
      if (existing) {
        existing.valueEnc = valueEnc;
        existing.updatedAt = now;
        return { row: existing, created: false };
      }
      if ((await tx.count(TenantSecret, { tenantId })) >= max) return null;
      const row = tx.create(TenantSecret, { id: randomUUID(), tenantId, name, valueEnc, createdAt: now, updatedAt: now });
      return { row, created: true };
    });
  }

  /** By name. */
  list(tenantId: string): Promise<TenantSecret[]> {
    return this.orm.em.fork().find(TenantSecret, { tenantId }, { orderBy: { name: 'asc' } });
  }

  /** All of the tenant's secrets, in no order (to open them for a run). */
  all(tenantId: string): Promise<TenantSecret[]> {
    return this.orm.em.fork().find(TenantSecret, { tenantId });
  }

  /** False when the tenant has no such secret. */
  async remove(tenantId: string, name: string): Promise<boolean> {
    return (await this.orm.em.fork().nativeDelete(TenantSecret, { tenantId, name })) > 0;
  }
}
