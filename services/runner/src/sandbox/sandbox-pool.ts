import type { Logger } from 'pino';
import type { PoolProfile } from '../config.js';
import { profileKey } from '../docker/container-spec.js';
import type { Sandbox, SandboxStarter } from './sandbox-starter.js';

/** After a failed start (engine away, image missing) the next try waits this long, doubling. */
const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5000;

class ProfilePool {
  readonly ready: Sandbox[] = [];
  starting = 0;
  backoffMs = MIN_BACKOFF_MS;
  retryTimer: NodeJS.Timeout | null = null;
  constructor(readonly profile: PoolProfile) {}
}

/**
 * Pre-started containers per limit profile with the interpreter ready, so
 * an ephemeral run costs one request instead of a container start. Bounded
 * (`size` per profile), refilled in the background after every take; a
 * pooled container that dies while idle is dropped and replaced. A profile
 * seen for the first time gets its pool then.
 */
export class SandboxPool {
  private readonly pools = new Map<string, ProfilePool>();
  private readonly starts = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly starter: SandboxStarter,
    private readonly size: number,
    private readonly logger: Logger,
  ) {}

  /** Makes sure the profile has a pool and that it is filling. */
  warm(profile: PoolProfile): void {
    this.fill(this.poolOf(profile));
  }

  /** A ready sandbox: from the pool when one is there, else started now (an empty pool costs a container start). */
  async acquire(profile: PoolProfile): Promise<{ sandbox: Sandbox; pooled: boolean }> {
    const pool = this.poolOf(profile);
    let sandbox: Sandbox | undefined;
    while ((sandbox = pool.ready.shift())) {
      if (!sandbox.channel.closed) break;
    }
    this.fill(pool);
    if (sandbox) return { sandbox, pooled: true };
    return { sandbox: await this.starter.start(profile, 'ephemeral'), pooled: false };
  }

  /** Ready containers (one profile, or all). */
  readyCount(profile?: PoolProfile): number {
    if (profile) return this.pools.get(profileKey(profile))?.ready.length ?? 0;
    let n = 0;
    for (const p of this.pools.values()) n += p.ready.length;
    return n;
  }

  readyByProfile(): Record<string, number> {
    return Object.fromEntries([...this.pools].map(([k, p]) => [k, p.ready.length]));
  }

  /** Stops refilling and removes every pooled container. */
  async drain(): Promise<void> {
    this.stopped = true;
    const all: Sandbox[] = [];
    for (const p of this.pools.values()) {
      if (p.retryTimer) clearTimeout(p.retryTimer);
      all.push(...p.ready.splice(0));
    }
    await Promise.all(
      all.map((s) => s.destroy()),
    );
    // Starts in flight remove their container themselves once they see `stopped`.
    await Promise.all([...this.starts]);
  }

  private poolOf(profile: PoolProfile): ProfilePool {
    const key = profileKey(profile);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new ProfilePool({ name: profile.name, memoryMb: profile.memoryMb, cpus: profile.cpus });
      this.pools.set(key, pool);
    }
    return pool;
  }

  private fill(pool: ProfilePool): void {
    if (this.stopped || pool.retryTimer) return;
    while (pool.ready.length + pool.starting < this.size) {
      pool.starting++;
      const p: Promise<void> = this.starter
        .start(pool.profile, 'pool')
        .then(async (sandbox) => {
          pool.starting--;
          pool.backoffMs = MIN_BACKOFF_MS;
          if (this.stopped) {
            await sandbox.destroy();
            return;
          }
          pool.ready.push(sandbox);
          // Dead while idle (engine restarted, killed from outside): forget it and start another.
          void this.watchIdle(pool, sandbox);
        })
        .catch((err: unknown) => {
          pool.starting--;
          this.logger.warn({ profile: pool.profile.name, err: String(err), retryInMs: pool.backoffMs }, 'pool refill failed');
          if (this.stopped || pool.retryTimer) return;
          pool.retryTimer = setTimeout(() => {
            pool.retryTimer = null;
            this.fill(pool);
          }, pool.backoffMs);
          pool.backoffMs = Math.min(pool.backoffMs * 2, MAX_BACKOFF_MS);
        })
        .finally(() => this.starts.delete(p));
      this.starts.add(p);
    }
  }

  private async watchIdle(pool: ProfilePool, sandbox: Sandbox): Promise<void> {
    await sandbox.channel.closedPromise();
    const i = pool.ready.indexOf(sandbox);
    if (i < 0) return; // taken: the run owns it now
    pool.ready.splice(i, 1);
    this.logger.warn({ containerId: sandbox.id.slice(0, 12), profile: pool.profile.name }, 'pooled sandbox died while idle; replacing it');
    await sandbox.destroy();
    this.fill(pool);
  }
}
