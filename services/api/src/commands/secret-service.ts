import type { SecretView } from '@domaeka/broker/contracts';
import { type Logger, type SecretBox } from '@domaeka/core';
import type { TenantSecret } from '../db/entities/index.js';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Orm } from '../db/em.js';
import { MAX_SECRETS_PER_TENANT, checkSecretName, checkSecretValue } from './secret-rules.js';
import { SecretRepository } from './secret-repository.js';

/**
 * Tenant secrets (`tenant_secrets`): set (create or replace), listed by
 * name, deleted. Values are sealed with SecretBox before they reach the
 * database and are opened only to go to the tenant's own test runs; every
 * change tells the dispatcher's cache (`changed` {entity:'secrets'}).
 */
export class SecretService {
  private readonly stored: SecretRepository;

  constructor(
    orm: Orm,
    private readonly box: SecretBox,
    private readonly notifier: ChangeNotifier,
    private readonly logger: Logger,
  ) {
    this.stored = new SecretRepository(orm);
  }

  /** Create or replace; `created` tells which (201 vs 200). */
  async set(caller: Caller, name: string, value: string): Promise<{ view: SecretView; created: boolean }> {
    checkSecretName(name);
    const valueEnc = this.box.seal(checkSecretValue(value));
    const result = await this.stored.set(caller.tenantId, name, valueEnc, MAX_SECRETS_PER_TENANT);
    if (!result) throw apiErrors.secretLimit(MAX_SECRETS_PER_TENANT);
    this.notifier.changed('secrets', caller.tenantId, null);
    return { view: toView(result.row), created: result.created };
  }

  async list(caller: Caller): Promise<SecretView[]> {
    return (await this.stored.list(caller.tenantId)).map(toView);
  }

  async remove(caller: Caller, name: string): Promise<void> {
    if (!(await this.stored.remove(caller.tenantId, name))) throw apiErrors.notFound('secret');
    this.notifier.changed('secrets', caller.tenantId, null);
  }

  /**
   * The tenant's secrets opened (name -> value), for its own test runs. A
   * value that does not open (another SECRETS_KEY) is left out and logged
   * by name.
   */
  async valuesOf(tenantId: string): Promise<Record<string, string>> {
    const rows = await this.stored.all(tenantId);
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
