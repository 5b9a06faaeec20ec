import { TtlCache, type Clock } from './ttl-cache.js';

/**
 * Something loaded per tenant and kept until its TTL runs out or a
 * `changed` event for the tenant drops it (the TTL covers events missed
 * while the broker connection was down). Subclasses say how to load.
 */
export abstract class TenantCache<T> {
  private readonly cache: TtlCache<string, T>;

  constructor(
    clock: Clock,
    private readonly ttlMs: number,
  ) {
    this.cache = new TtlCache(clock);
  }

  forTenant(tenantId: string): Promise<T> {
    return this.cache.get(tenantId, () => this.load(tenantId), () => this.ttlMs);
  }

  /** One tenant's entry, or (null) everyone's. */
  invalidate(tenantId: string | null): void {
    if (tenantId === null) this.cache.clear();
    else this.cache.delete(tenantId);
  }

  clear(): void {
    this.cache.clear();
  }

  protected abstract load(tenantId: string): Promise<T>;
}
