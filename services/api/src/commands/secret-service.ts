import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { SecretView } from '@domaeka/broker/contracts';
import { type Logger, type SecretBox } from '@domaeka/core';
import { Tenant, TenantSecret } from '../db/entities/index.js';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Orm } from '../db/em.js';
import { MAX_SECRETS_PER_TENANT, checkSecretName, checkSecretValue } from './secret-rules.js';

/**
 * Tenant secrets (`tenant_secrets`): set (create or replace), listed by
 * name, deleted. Values are sealed with SecretBox before they reach the
 * database and are opened only to go to the tenant's own test runs; every
 * change tells the dispatcher's cache (`changed` {entity:'secrets'}).
 */
export class SecretService {
  constructor(
    private readonly orm: Orm,
    private readonly box: SecretBox,
    private readonly notifier: ChangeNotifier,
    private readonly logger: Logger,
  ) {}

  /** Create or replace; `created` tells which (201 vs 200). */
  async set(caller: Caller, name: string, value: string): Promise<{ view: SecretView; created: boolean }> {
    checkSecretName(name);
    const valueEnc = this.box.seal(checkSecretValue(value));
    const result = await this.orm.em.fork().transactional(async (tx) => {
      // The tenant row's lock serialises a tenant's saves: the count below stays true until commit.
      await tx.findOneOrFail(Tenant, { id: caller.tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const now = new Date();
      const existing = await tx.findOne(TenantSecret, { tenantId: caller.tenantId, name });
      if (existing) {
        existing.valueEnc = valueEnc;
        existing.updatedAt = now;
        return { row: existing, created: false };
      }
      if ((await tx.count(TenantSecret, { tenantId: caller.tenantId })) >= MAX_SECRETS_PER_TENANT) {
        throw apiErrors.secretLimit(MAX_SECRETS_PER_TENANT);
      }
      const row = tx.create(TenantSecret, { id: randomUUID(), tenantId: caller.tenantId, name, valueEnc, createdAt: now, updatedAt: now });
      return { row, created: true };
    });
    this.notifier.changed('secrets', caller.tenantId, null);
    return { view: toView(result.row), created: result.created };
  }

  async list(caller: Caller): Promise<SecretView[]> {
    const rows = await this.orm.em.fork().find(TenantSecret, { tenantId: caller.tenantId }, { orderBy: { name: 'asc' } });
    return rows.map(toView);
  }

  async remove(caller: Caller, name: string): Promise<void> {
    const deleted = await this.orm.em.fork().nativeDelete(TenantSecret, { tenantId: caller.tenantId, name });
    if (!deleted) throw apiErrors.notFound('secret');
    this.notifier.changed('secrets', caller.tenantId, null);
  }

  /**
   * The tenant's secrets opened (name -> value), for its own test runs. A
   * value that does not open (another SECRETS_KEY) is left out and logged
   * by name.
   */
  async valuesOf(tenantId: string): Promise<Record<string, string>> {
    const rows = await this.orm.em.fork().find(TenantSecret, { tenantId });
    const values: Record<string, string> = {};
    for (const r of rows) {
      try {
        values[r.name] = this.box.open(r.valueEnc);
      } catch {
        this.logger.error({ tenantId, secret: r.name }, 'tenant secret could not be opened (wrong SECRETS_KEY?)');
      }
    }
    return values;
  }
}

function toView(r: TenantSecret): SecretView {
  return { name: r.name, createdAt: r.createdAt, updatedAt: r.updatedAt };
}
