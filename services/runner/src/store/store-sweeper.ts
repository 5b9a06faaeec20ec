import type { Logger } from 'pino';
import type { StoreDatabase } from './store-database.js';

/** Tenants looked at per sweep (the ones whose keys expired first). */
const TENANTS_PER_SWEEP = 200;

/**
 * The periodic half of expiry (the lazy half: a read that finds an expired
 * key has its tenant's expired keys deleted right after). Every runner
 * sweeps; two at once do not collide: a tenant whose usage row is held
 * (by its writes or another runner's sweep) is skipped, not waited for.
 */
export class StoreSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly db: StoreDatabase,
    private readonly everyMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One sweep (never two at once); the number of keys deleted. */
  sweep(): Promise<number> {
    this.running ??= this.sweepOnce().finally(() => (this.running = null));
    return this.running;
  }

  private async sweepOnce(): Promise<number> {
    let deleted = 0;
    try {
      for (const tenantId of await this.db.expiredTenants(TENANTS_PER_SWEEP)) deleted += Math.max(0, await this.db.purge(tenantId));
    } catch (err) {
      // The database away: the next sweep tries again; reads answer expired keys as missing meanwhile.
      this.logger.warn({ err: String(err) }, 'store sweep failed');
    }
    if (deleted) this.logger.debug({ deleted }, 'store sweep: expired keys deleted');
    return deleted;
  }
}
